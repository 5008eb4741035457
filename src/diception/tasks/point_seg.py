"""Point-prompted segmentation codec: a boolean mask <-> a white mask on black."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pycocotools.mask as mask_utils

from ..errors import DiceptionInputError

MASK_THRESHOLD = 0.5  # mean brightness above which a pixel belongs to the mask


def mask_to_rle(mask: np.ndarray) -> dict:
    """COCO run-length encoding of an ``(H, W)`` bool mask, with ``counts`` as ``str`` so it is JSON-ready."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


@dataclass
class MaskPrediction:
    """One object's mask.

    Attributes:
        mask: ``(H, W)`` bool.
        score: confidence in [0, 1]: how far, on average, the mask's pixels sit above the threshold (see
            :func:`decode`); 0 for an empty mask.
        rle: the mask as COCO RLE (``{"size": [H, W], "counts": str}``).
    """

    mask: np.ndarray = field(repr=False)
    score: float
    rle: dict = field(repr=False)

    @property
    def area(self) -> int:
        """Number of mask pixels."""
        return int(np.count_nonzero(self.mask))

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(prediction)`` is the mask, so code written for a plain bool mask keeps working."""
        mask = self.mask if dtype is None else self.mask.astype(dtype)
        return mask.copy() if copy else mask


def encode(mask: np.ndarray) -> np.ndarray:
    """Target picture ``(H, W, 3)`` float32: white where ``mask`` is true, black elsewhere."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise DiceptionInputError(f"mask must be an (H, W) array, got shape {mask.shape}")
    return np.repeat(mask.astype(bool)[..., None], 3, axis=-1).astype(np.float32)


def decode(rgb: np.ndarray, threshold: float = MASK_THRESHOLD) -> MaskPrediction:
    """The mask of pixels whose mean brightness exceeds ``threshold`` (in (0, 1), default 0.5).

    The score is the mean over mask pixels of ``(brightness - threshold) / (1 - threshold)``: 1 for a clean
    white mask, near 0 when the mask is barely above the threshold.
    """
    if not 0.0 < threshold < 1.0:
        raise DiceptionInputError(f"threshold must lie in (0, 1), got {threshold}")
    brightness = np.asarray(rgb, dtype=np.float32).mean(axis=-1)
    mask = brightness > threshold
    margin = np.clip((brightness[mask] - threshold) / (1.0 - threshold), 0.0, 1.0)
    score = float(margin.mean()) if margin.size else 0.0
    return MaskPrediction(mask=mask, score=score, rle=mask_to_rle(mask))
