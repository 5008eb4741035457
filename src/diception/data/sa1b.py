"""SA-1B (Segment Anything 1B) annotations: one JSON per image -> one point-segmentation sample per mask.

Each file holds ``{"image": {"image_id", "width", "height", "file_name"}, "annotations": [...]}`` where an
annotation carries a compressed-RLE ``segmentation`` (``{"size": [h, w], "counts": str}``), ``bbox``,
``area``, ``point_coords`` (``[[x, y]]``, the point SAM's data engine prompted with), ``id`` and more
(Kirillov et al., ICCV 2023). Note: SA-1B's ``bbox`` width and height are one less than pycocotools'
``toBbox`` of the same mask; masks, not boxes, are what these samples carry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import tasks
from ..errors import DiceptionInputError
from ..tasks.points import points_from_pixels
from .rle import decode_rle
from .sample import Sample


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DiceptionInputError(f"{path} does not exist") from None
    except json.JSONDecodeError as err:
        raise DiceptionInputError(f"{path}:{err.lineno}: invalid JSON ({err.msg})") from None


def iter_sa1b(json_path: str | Path, image_path: str | Path | None = None) -> Iterator[Sample]:
    """Yield one ``segmentation`` sample per annotation of an SA-1B image JSON.

    Args:
        json_path: the per-image annotation file (``sa_<id>.json``).
        image_path: the image; by default ``image.file_name`` next to the JSON.

    Each sample has ``mask`` (H, W) bool, ``points`` (the annotation's ``point_coords``, normalised by the
    image size) and the id ``"<file stem>#<annotation id>"``.
    """
    json_path = Path(json_path)
    data = _load_json(json_path)
    if not isinstance(data, dict) or "annotations" not in data:
        raise DiceptionInputError(f"{json_path}: not an SA-1B file (expected keys 'image' and 'annotations')")
    info = data.get("image", {})
    if image_path is None:
        if "file_name" not in info:
            raise DiceptionInputError(f"{json_path}: no image.file_name; pass image_path")
        image_path = json_path.parent / info["file_name"]
    size = [info["height"], info["width"]] if "height" in info and "width" in info else None
    for k, ann in enumerate(data["annotations"]):
        segm = ann.get("segmentation")
        if not isinstance(segm, dict) or "counts" not in segm:
            raise DiceptionInputError(f"{json_path}: annotation {k} has no compressed-RLE 'segmentation'")
        if size is not None and list(segm.get("size", [])) != size:
            raise DiceptionInputError(
                f"{json_path}: annotation {k} mask size {segm.get('size')} differs from the image's {size}"
            )
        mask = decode_rle(segm)
        where = f"{json_path}: annotation {k} point_coords"
        yield Sample(
            image_path=Path(image_path),
            task=tasks.SEGMENTATION.name,
            prompt=tasks.SEGMENTATION.full_prompt(),
            sample_id=f"{json_path.stem}#{ann.get('id', k)}",
            mask=mask,
            points=points_from_pixels((ann.get("point_coords") or ())[: tasks.MAX_POINTS], mask.shape, where),
            target_path=json_path,
        )
