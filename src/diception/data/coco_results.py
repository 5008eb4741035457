"""COCO results entries, the one builder: masks (segmentation results) and persons (keypoint results).

The same entries are written to ``_masks.json`` / ``_keypoints.json`` prediction files and handed to
pycocotools for scoring, so a saved prediction scores exactly as a fresh one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from ..errors import DiceptionInputError
from .rle import encode_mask


def mask_results(
    image_id: Any,
    masks: Sequence[Any],
    scores: Sequence[float] | None = None,
    category_id: int | Sequence[int] = 1,
) -> list[dict[str, Any]]:
    """One entry per mask: ``image_id``, ``category_id``, ``segmentation`` (RLE, ``counts`` as text), ``area``,
    ``bbox`` (COCO ``x, y, w, h``) and ``score``.

    Args:
        image_id: the image's id in the ground truth (or a file stem for prediction files).
        masks: ``(H, W)`` bool masks, or objects with an ``rle`` (and a ``score``), such as decoded instances.
        scores: one per mask; default each item's ``score`` (1.0 for plain masks).
        category_id: one id for all, or one per mask.
    """
    if scores is not None and len(scores) != len(masks):
        raise DiceptionInputError(f"{len(masks)} masks but {len(scores)} scores; give one score per mask")
    cats = [category_id] * len(masks) if isinstance(category_id, (int, np.integer)) else list(category_id)
    if len(cats) != len(masks):
        raise DiceptionInputError(f"{len(masks)} masks but {len(cats)} category ids")
    entries = []
    for k, item in enumerate(masks):
        rle = item.rle if hasattr(item, "rle") else encode_mask(np.asarray(item, dtype=bool))
        coco_rle = {"size": rle["size"], "counts": rle["counts"].encode("ascii")}
        score = scores[k] if scores is not None else getattr(item, "score", 1.0)
        entries.append({
            "image_id": image_id, "category_id": int(cats[k]), "segmentation": rle,
            "area": float(mask_utils.area(coco_rle)), "bbox": [float(v) for v in mask_utils.toBbox(coco_rle)],
            "score": float(score),
        })  # fmt: skip
    return entries


def keypoint_results(image_id: Any, persons: Sequence[Any], category_id: int = 1) -> list[dict[str, Any]]:
    """One entry per decoded person: ``keypoints`` is ``[x, y, score] * 17`` (zeros where not found)."""
    entries = []
    for person in persons:
        kp = np.asarray(person.keypoints)[:, [0, 1, 3]].astype(float)
        entries.append({
            "image_id": image_id, "category_id": int(category_id),
            "keypoints": [round(v, 2) for v in kp.ravel().tolist()], "score": float(person.score),
        })  # fmt: skip
    return entries
