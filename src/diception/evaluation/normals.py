"""Surface-normal metrics: per-pixel angular error in degrees and its summary statistics.

The protocol of Bae et al. (DSINE, CVPR 2024) and Marigold's normal evaluation: mean, median and RMSE of
the angle between predicted and ground-truth unit normals, plus the fraction of pixels within 5, 7.5,
11.25, 22.5 and 30 degrees. Pixels whose ground truth is the zero vector carry no normal and are skipped.
"""

from __future__ import annotations

import numpy as np

from ..errors import DiceptionInputError

ANGLE_THRESHOLDS = (5.0, 7.5, 11.25, 22.5, 30.0)  # degrees
_EPS = 1e-8


def angular_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Angle in degrees between the normals of two ``(H, W, 3)`` maps, ``(H, W)``.

    Both maps are renormalised first, so un-normalised vectors are fine; a zero vector gives 90 degrees.
    """
    p = pred / np.maximum(np.linalg.norm(pred, axis=-1, keepdims=True), _EPS)
    g = gt / np.maximum(np.linalg.norm(gt, axis=-1, keepdims=True), _EPS)
    cos = np.clip(np.sum(p * g, axis=-1), -1.0, 1.0)
    return np.degrees(np.arccos(cos))


def normal_metrics(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray | None = None) -> dict[str, float]:
    """Angular-error statistics over the valid pixels.

    Args:
        pred: ``(H, W, 3)`` predicted normals (any length; renormalised).
        gt: ``(H, W, 3)`` ground-truth normals; pixels with a zero or non-finite vector are invalid.
        valid: optional ``(H, W)`` bool mask, combined (AND) with the non-zero ground truth.

    Returns:
        ``{"mean", "median", "rmse"}`` in degrees and ``"within_5"``, ``"within_7.5"``, ``"within_11.25"``,
        ``"within_22.5"``, ``"within_30"`` as fractions in [0, 1] (the papers print them as %).
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape or gt.ndim != 3 or gt.shape[-1] != 3:
        raise DiceptionInputError(f"pred {pred.shape} and gt {gt.shape} must both be (H, W, 3) normal maps")
    mask = np.all(np.isfinite(gt), axis=-1) & (np.linalg.norm(np.nan_to_num(gt), axis=-1) > _EPS)
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != gt.shape[:2]:
            raise DiceptionInputError(f"valid mask {valid.shape} must match the maps' (H, W) {gt.shape[:2]}")
        mask &= valid
    if not mask.any():
        raise DiceptionInputError("no valid ground-truth normals to evaluate (all zero or masked out)")
    err = angular_error(np.nan_to_num(pred[mask]), gt[mask])
    out = {
        "mean": float(err.mean()),
        "median": float(np.median(err)),
        "rmse": float(np.sqrt(np.mean(err**2))),
    }
    for t in ANGLE_THRESHOLDS:
        out[f"within_{t:g}"] = float(np.mean(err < t))
    return out
