"""Depth codec: metric depth <-> a grey picture of normalised disparity (near = bright).

Encoding, as in the published evaluation collator: ``disp = 1 / depth``; normalise between the disparities of
the 2 % and 98 % depth quantiles (``d_min = 1 / q98``, ``d_max = 1 / q02``); rescale by the min / max over
valid pixels to [0, 1]; clip; repeat to three channels. Invalid pixels (no depth) become 0, i.e. black, the
colour of "infinitely far". The min-max step follows the quantile step without a clip in between, so the
result equals a plain min-max of the valid disparities; both steps are kept to match the published code.

Decoding reads the relative disparity back as the mean of the three channels. The model's output is affine
invariant; :func:`disparity_to_depth` turns it into depth given a scale and shift (for instance fitted against
ground truth by the evaluation code).
"""

from __future__ import annotations

import numpy as np

from ..errors import DiceptionInputError

QUANTILE_LOW = 0.02  # depth quantile whose disparity maps to the bright end
QUANTILE_HIGH = 0.98  # depth quantile whose disparity maps to the dark end


def _default_valid(depth: np.ndarray) -> np.ndarray:
    return np.isfinite(depth) & (depth > 0)


def normalised_disparity(
    depth: np.ndarray,
    valid: np.ndarray | None = None,
    q_low: float = QUANTILE_LOW,
    q_high: float = QUANTILE_HIGH,
) -> np.ndarray:
    """Disparity normalised to [0, 1] (near = 1), ``(H, W)`` float32; invalid pixels are 0.

    Args:
        depth: ``(H, W)`` depth in metres (any positive unit works).
        valid: ``(H, W)`` bool; default: finite and positive depth.
        q_low, q_high: depth quantiles (over valid pixels) whose disparities span the range, ``0 <= q_low <
            q_high <= 1``.
    """
    depth = np.asarray(depth, dtype=np.float64)
    if depth.ndim != 2:
        raise DiceptionInputError(f"depth must be an (H, W) array, got shape {depth.shape}")
    if not 0.0 <= q_low < q_high <= 1.0:
        raise DiceptionInputError(f"need 0 <= q_low < q_high <= 1, got q_low={q_low}, q_high={q_high}")
    valid = _default_valid(depth) if valid is None else np.asarray(valid, dtype=bool) & _default_valid(depth)
    if valid.shape != depth.shape:
        raise DiceptionInputError(f"valid mask has shape {valid.shape}; depth has {depth.shape}")
    out = np.zeros(depth.shape, dtype=np.float32)
    if not valid.any():
        return out
    d_valid = depth[valid]
    disp = 1.0 / d_valid
    d_min = 1.0 / np.quantile(d_valid, q_high)
    d_max = 1.0 / np.quantile(d_valid, q_low)
    t = (disp - d_min) / max(d_max - d_min, 1e-12)
    t_lo, t_hi = t.min(), t.max()
    t = (t - t_lo) / (t_hi - t_lo) if t_hi > t_lo else np.zeros_like(t)  # constant depth: all 0
    out[valid] = np.clip(t, 0.0, 1.0)
    return out


def encode(
    depth: np.ndarray,
    valid: np.ndarray | None = None,
    q_low: float = QUANTILE_LOW,
    q_high: float = QUANTILE_HIGH,
) -> np.ndarray:
    """Target picture ``(H, W, 3)`` float32 in [0, 1]: :func:`normalised_disparity` repeated to 3 channels."""
    disp = normalised_disparity(depth, valid, q_low, q_high)
    return np.repeat(disp[..., None], 3, axis=-1)


def decode(rgb: np.ndarray) -> np.ndarray:
    """Relative disparity in [0, 1] (near = 1): the mean of the three channels. ``(H, W, 3) -> (H, W)``."""
    return np.clip(np.asarray(rgb, dtype=np.float32).mean(axis=-1), 0.0, 1.0)


def disparity_to_depth(disparity: np.ndarray, scale: float = 1.0, shift: float = 0.0, eps: float = 1e-3) -> np.ndarray:
    """Depth ``1 / max(scale * disparity + shift, eps)``, ``(H, W)`` float32.

    With the defaults it is relative depth (the far end capped at ``1 / eps``); with a scale and shift fitted
    in disparity space it is depth in the ground truth's unit.
    """
    disparity = np.asarray(disparity, dtype=np.float32)
    return (1.0 / np.maximum(scale * disparity + shift, eps)).astype(np.float32)
