"""Mask IoU and the point prompts of SAM's evaluation protocol.

Point-prompted segmentation is scored by the IoU between predicted and ground-truth masks, averaged over
objects (mIoU). SAM (Kirillov et al., ICCV 2023, Sec. 7.1) prompts each object with one point placed
deterministically "farthest from the object boundary"; extra points are drawn at random inside the mask.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from scipy.ndimage import distance_transform_edt

from ..errors import DiceptionInputError


def _as_mask(mask: np.ndarray, name: str) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise DiceptionInputError(f"{name} must be an (H, W) mask, got shape {mask.shape}")
    return mask.astype(bool, copy=False)


def mask_iou(pred: np.ndarray, gt: np.ndarray) -> float:
    """Intersection over union of two ``(H, W)`` boolean masks; 1.0 when both are empty (they agree)."""
    p, g = _as_mask(pred, "pred"), _as_mask(gt, "gt")
    if p.shape != g.shape:
        raise DiceptionInputError(f"pred {p.shape} and gt {g.shape} masks differ in size; resize pred first")
    union = np.count_nonzero(p | g)
    if union == 0:
        return 1.0
    return np.count_nonzero(p & g) / union


def per_object_iou(preds: Sequence[np.ndarray], gts: Sequence[np.ndarray]) -> np.ndarray:
    """IoU of each ``(pred, gt)`` mask pair, ``(N,)`` float64."""
    if len(preds) != len(gts):
        raise DiceptionInputError(f"{len(preds)} predicted masks but {len(gts)} ground-truth masks")
    return np.array([mask_iou(p, g) for p, g in zip(preds, gts)], dtype=np.float64)


def mean_iou(pairs: Iterable[tuple[np.ndarray, np.ndarray]]) -> float:
    """mIoU: the mean per-object IoU over ``(pred, gt)`` mask pairs (each object counts once)."""
    ious = [mask_iou(p, g) for p, g in pairs]
    if not ious:
        raise DiceptionInputError("mean_iou got no (pred, gt) pairs")
    return float(np.mean(ious))


def farthest_point_from_boundary(mask: np.ndarray) -> tuple[int, int]:
    """The in-mask pixel ``(x, y)`` farthest (Euclidean) from the mask boundary: SAM's first prompt point.

    The image border counts as boundary (the mask is zero-padded before the distance transform). Ties go
    to the first pixel in row-major order (smallest ``y``, then smallest ``x``), so the result is
    deterministic.
    """
    m = _as_mask(mask, "mask")
    if not m.any():
        raise DiceptionInputError("farthest_point_from_boundary needs a non-empty mask")
    dist = distance_transform_edt(np.pad(m, 1))[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return int(x), int(y)


def random_points_in_mask(
    mask: np.ndarray, n: int, rng: np.random.Generator | int | None = None
) -> list[tuple[int, int]]:
    """``min(n, mask pixels)`` distinct in-mask pixels ``(x, y)``, drawn uniformly without replacement.

    ``rng`` is a numpy ``Generator`` or a seed; the same seed gives the same points.
    """
    m = _as_mask(mask, "mask")
    if n < 0:
        raise DiceptionInputError(f"n={n} points requested; pass n >= 0")
    ys, xs = np.nonzero(m)
    if ys.size == 0:
        raise DiceptionInputError("random_points_in_mask needs a non-empty mask")
    rng = np.random.default_rng(rng)
    idx = rng.choice(ys.size, size=min(n, ys.size), replace=False)
    return [(int(xs[i]), int(ys[i])) for i in idx]
