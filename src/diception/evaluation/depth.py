"""Depth metrics for relative predictions: least-squares scale-and-shift alignment, then the standard errors.

DICEPTION predicts relative disparity (near = bright), known only up to an affine map. As in Marigold
(Ke et al., CVPR 2024) and GenPercept (Xu et al., 2024), the prediction is aligned to the ground truth by a
least-squares fit of ``pred * s + t`` over the valid pixels, either in depth space or in disparity space
(fit to ``1 / gt``, then invert). The errors follow Eigen et al. (NeurIPS 2014): AbsRel, SqRel, RMSE,
RMSE-log, log10 and the threshold accuracies delta1..3 (``max(p / g, g / p) < 1.25 ** k``).

Every metric is a small function ``metric(pred, gt, valid) -> float`` on depth maps in metres; the table
:data:`DEPTH_METRICS` lists them and :func:`depth_metrics` runs the whole protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import DiceptionInputError

ALIGN_MODES = ("disparity", "depth", "none")
MIN_DISPARITY = 1e-3  # aligned disparities are clipped here before inversion (1 / 1e-3 = 1000 m)
MIN_EVAL_DEPTH = 1e-6  # predictions are clipped to this positive depth so the log metrics stay finite


# ----------------------------------------------------------------------------------------------------- crops
def kitti_eigen_crop(height: int, width: int) -> np.ndarray:
    """KITTI Eigen crop as a boolean ``(H, W)`` mask: rows ``0.3324324 H .. 0.91351351 H``, columns
    ``0.0359477 W .. 0.96405229 W`` (Eigen et al., NeurIPS 2014; the crop Marigold evaluates KITTI with)."""
    crop = np.zeros((height, width), dtype=bool)
    top, bottom = int(0.3324324 * height), int(0.91351351 * height)
    left, right = int(0.0359477 * width), int(0.96405229 * width)
    crop[top:bottom, left:right] = True
    return crop


def nyu_eigen_crop(height: int, width: int) -> np.ndarray:
    """NYUv2 Eigen crop as a boolean ``(H, W)`` mask: rows ``45:471``, columns ``41:601`` at 480x640.

    Other sizes scale the same borders proportionally (exact at 480x640).
    """
    crop = np.zeros((height, width), dtype=bool)
    top, bottom = round(45 * height / 480), round(471 * height / 480)
    left, right = round(41 * width / 640), round(601 * width / 640)
    crop[top:bottom, left:right] = True
    return crop


@dataclass(frozen=True)
class DepthEvalPreset:
    """A dataset's valid-pixel convention: ground truth in ``(min_depth, max_depth)`` metres, inside ``crop``.

    Predictions are also clipped to ``[min_depth, max_depth]`` after alignment (Marigold's protocol).
    """

    name: str
    min_depth: float
    max_depth: float
    crop: Callable[[int, int], np.ndarray] | None = None

    def valid_mask(self, gt: np.ndarray) -> np.ndarray:
        """Boolean ``(H, W)``: finite ground truth inside the depth range and inside the crop."""
        valid = np.isfinite(gt) & (gt > self.min_depth) & (gt < self.max_depth)
        if self.crop is not None:
            valid &= self.crop(*gt.shape)
        return valid


# Depth ranges of the evaluation sets as Marigold's dataset configs give them.
DEPTH_PRESETS: dict[str, DepthEvalPreset] = {
    p.name: p
    for p in (
        DepthEvalPreset("nyuv2", 1e-3, 10.0, nyu_eigen_crop),
        DepthEvalPreset("kitti", 1e-5, 80.0, kitti_eigen_crop),
        DepthEvalPreset("scannet", 1e-3, 10.0),
        DepthEvalPreset("eth3d", 1e-5, float("inf")),
        DepthEvalPreset("diode", 0.6, 350.0),
    )
}


def get_preset(name: str) -> DepthEvalPreset:
    """The preset called ``name``; a clear error listing the known ones otherwise."""
    try:
        return DEPTH_PRESETS[name]
    except KeyError:
        raise DiceptionInputError(
            f"unknown depth dataset preset '{name}'; choose one of: {', '.join(DEPTH_PRESETS)}"
        ) from None


# ------------------------------------------------------------------------------------------------- alignment
def fit_scale_shift(pred: np.ndarray, target: np.ndarray, valid: np.ndarray) -> tuple[float, float]:
    """Least-squares ``(s, t)`` minimising ``sum((s * pred + t - target) ** 2)`` over ``valid`` pixels.

    Closed form of the 2x2 normal equations; needs at least two valid pixels with different ``pred``.
    """
    p = pred[valid].astype(np.float64)
    g = target[valid].astype(np.float64)
    if p.size < 2:
        raise DiceptionInputError(f"scale-and-shift alignment needs >= 2 valid pixels, got {p.size}")
    p_mean, g_mean = p.mean(), g.mean()
    var = np.mean((p - p_mean) ** 2)
    if var <= 0.0:
        raise DiceptionInputError("scale-and-shift alignment needs a non-constant prediction on valid pixels")
    scale = float(np.mean((p - p_mean) * (g - g_mean)) / var)
    return scale, float(g_mean - scale * p_mean)


def _inverse(x: np.ndarray, floor: float) -> np.ndarray:
    return 1.0 / np.maximum(x, floor)


def align_prediction(
    pred: np.ndarray,
    gt: np.ndarray,
    valid: np.ndarray,
    align: str = "disparity",
    pred_is_disparity: bool = True,
) -> np.ndarray:
    """Turn a relative prediction into metric depth ``(H, W)`` matched to ``gt`` on ``valid`` pixels.

    Args:
        pred: ``(H, W)`` prediction; disparity-like (near = large) if ``pred_is_disparity``, else depth-like.
        gt: ``(H, W)`` ground-truth depth in metres.
        valid: ``(H, W)`` bool, pixels used for the fit.
        align: ``"disparity"`` fits to ``1 / gt`` and inverts (aligned disparity clipped at
            :data:`MIN_DISPARITY`); ``"depth"`` fits to ``gt``; ``"none"`` takes the prediction as metric.
        pred_is_disparity: whether ``pred`` encodes disparity (DICEPTION's output) or depth.
    """
    if align not in ALIGN_MODES:
        raise DiceptionInputError(f"align='{align}' is not one of {ALIGN_MODES}")
    pred = pred.astype(np.float64)
    if align == "disparity":
        disp = pred if pred_is_disparity else _inverse(pred, MIN_EVAL_DEPTH)
        fit_valid = valid & (gt > 0)
        if not pred_is_disparity:
            fit_valid &= pred > 0
        gt_disp = np.zeros_like(gt, dtype=np.float64)
        gt_disp[fit_valid] = 1.0 / gt[fit_valid]
        s, t = fit_scale_shift(disp, gt_disp, fit_valid)
        return _inverse(disp * s + t, MIN_DISPARITY)
    depth = _inverse(pred, MIN_DISPARITY) if pred_is_disparity else pred
    if align == "depth":
        s, t = fit_scale_shift(depth, gt, valid)
        return depth * s + t
    return depth


# --------------------------------------------------------------------------------------------------- metrics
def abs_rel(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray) -> float:
    """Mean absolute relative error ``|p - g| / g``."""
    p, g = pred[valid], gt[valid]
    return float(np.mean(np.abs(p - g) / g))


def sq_rel(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray) -> float:
    """Mean squared relative error ``(p - g)^2 / g``."""
    p, g = pred[valid], gt[valid]
    return float(np.mean((p - g) ** 2 / g))


def rmse(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray) -> float:
    """Root mean squared error in metres."""
    p, g = pred[valid], gt[valid]
    return float(np.sqrt(np.mean((p - g) ** 2)))


def rmse_log(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray) -> float:
    """Root mean squared error of natural logarithms."""
    p, g = pred[valid], gt[valid]
    return float(np.sqrt(np.mean((np.log(p) - np.log(g)) ** 2)))


def log10(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray) -> float:
    """Mean absolute error of base-10 logarithms."""
    p, g = pred[valid], gt[valid]
    return float(np.mean(np.abs(np.log10(p) - np.log10(g))))


def _delta(k: int) -> Callable[[np.ndarray, np.ndarray, np.ndarray], float]:
    def delta(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray) -> float:
        p, g = pred[valid], gt[valid]
        return float(np.mean(np.maximum(p / g, g / p) < 1.25**k))

    delta.__name__ = f"delta{k}"
    delta.__doc__ = f"Fraction of pixels with ``max(p / g, g / p) < 1.25 ** {k}``."
    return delta


delta1, delta2, delta3 = _delta(1), _delta(2), _delta(3)

DEPTH_METRICS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], float]] = {
    "abs_rel": abs_rel,
    "sq_rel": sq_rel,
    "rmse": rmse,
    "rmse_log": rmse_log,
    "log10": log10,
    "delta1": delta1,
    "delta2": delta2,
    "delta3": delta3,
}


def depth_metrics(
    pred: np.ndarray,
    gt: np.ndarray,
    valid: np.ndarray | None = None,
    align: str = "disparity",
    pred_is_disparity: bool = True,
    dataset: str | DepthEvalPreset | None = None,
) -> dict[str, float]:
    """Align ``pred`` to ``gt`` and compute every metric of :data:`DEPTH_METRICS` on the valid pixels.

    Args:
        pred: ``(H, W)`` prediction (relative disparity from DICEPTION by default).
        gt: ``(H, W)`` ground-truth depth in metres; non-finite or non-positive pixels are never valid.
        valid: optional ``(H, W)`` bool mask, combined (AND) with the preset's mask.
        align: ``"disparity"`` (default), ``"depth"`` or ``"none"``; see :func:`align_prediction`.
        pred_is_disparity: ``pred`` encodes disparity (default) rather than depth.
        dataset: a preset name from :data:`DEPTH_PRESETS` (``"nyuv2"``, ``"kitti"``, ...) or a
            :class:`DepthEvalPreset`: depth range, crop, and the clipping range of the aligned prediction.

    Returns:
        ``{"abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "delta1", "delta2", "delta3"}``; deltas are
        fractions in [0, 1].
    """
    pred = np.asarray(pred)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape or gt.ndim != 2:
        raise DiceptionInputError(
            f"pred {pred.shape} and gt {gt.shape} must be (H, W) maps of the same size; resize pred first"
        )
    preset = get_preset(dataset) if isinstance(dataset, str) else dataset
    mask = np.isfinite(gt) & (gt > 0)
    if preset is not None:
        mask &= preset.valid_mask(gt)
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != gt.shape:
            raise DiceptionInputError(f"valid mask {valid.shape} must match gt {gt.shape}")
        mask &= valid
    if not mask.any():
        raise DiceptionInputError("no valid ground-truth pixels to evaluate (check the mask and depth range)")

    depth = align_prediction(pred, gt, mask, align=align, pred_is_disparity=pred_is_disparity)
    if preset is not None:
        depth = np.clip(depth, preset.min_depth, preset.max_depth)
    depth = np.maximum(depth, MIN_EVAL_DEPTH)
    return {name: fn(depth, gt, mask) for name, fn in DEPTH_METRICS.items()}
