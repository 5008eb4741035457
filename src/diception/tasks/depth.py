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

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from ..atomic_files import write_atomically
from ..data.array_files import load_npy
from ..errors import DiceptionInputError
from . import prediction_files as files
from .task import GroundTruthOptions, Scorer, Task

if TYPE_CHECKING:
    from ..data.sample import Sample

QUANTILE_LOW = 0.02  # depth quantile whose disparity maps to the bright end
QUANTILE_HIGH = 0.98  # depth quantile whose disparity maps to the dark end
DEPTH_COLORMAP = "Spectral"  # the published script's colour map for depth


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


def depth_colormap(disparity: np.ndarray) -> np.ndarray:
    """``(H, W)`` disparity in [0, 1] -> float ``(H, W, 3)`` colours of :data:`DEPTH_COLORMAP` in [0, 1]."""
    import matplotlib

    return matplotlib.colormaps[DEPTH_COLORMAP](np.clip(disparity, 0.0, 1.0))[..., :3].astype(np.float32)


def write_depth_16bit(prediction: files.Prediction, stream: BinaryIO) -> None:
    """Disparity * 65535 as a uint16 PNG."""
    disparity = np.clip(np.asarray(prediction.value, dtype=np.float64), 0.0, 1.0)
    files.png_bytes((disparity * 65535.0).round().astype(np.uint16), stream)


def write_depth_color(prediction: files.Prediction, stream: BinaryIO) -> None:
    """The colour-mapped disparity alone."""
    files.png_bytes(files.to_uint8(depth_colormap(np.asarray(prediction.value))), stream)


class DepthTask(Task):
    """Monocular depth: the picture is grey normalised disparity; the prediction an ``(H, W)`` float32 array.

    Files: ``.npy`` (float32 disparity), ``_16bit.png`` (disparity * 65535), ``_color.png`` (colour-mapped);
    the side-by-side picture shows the colour map. Ground truth: ``Sample.depth`` (metres) and ``valid_mask``,
    read from ``.npy`` or 16-bit ``.png`` files. Scored per image after a disparity scale-and-shift fit.
    """

    name = "depth"
    prompt = "[[image2depth]]"
    description = "monocular depth (relative disparity, near = bright)"
    output = "normalised disparity, grey (3 equal channels)"
    prediction_kind = "depth"
    fast_preset_ok = True
    files = (
        ("npy", ".npy", files.write_float32_npy),
        ("png16", "_16bit.png", write_depth_16bit),
        ("color", "_color.png", write_depth_color),
    )

    def has_ground_truth(self, sample: Sample) -> bool:
        return sample.depth is not None or super().has_ground_truth(sample)

    def target_picture(self, sample: Sample, rng: np.random.Generator | None = None) -> np.ndarray:
        if sample.depth is None:
            return super().target_picture(sample, rng)
        return encode(sample.depth, sample.valid_mask)

    def read_ground_truth(self, sample: Sample, path: Path, options: GroundTruthOptions) -> list[Sample]:
        from ..data.dense_folder import load_depth

        depth, valid = load_depth(path, options.depth_scale)
        return [replace(sample, depth=depth, valid_mask=valid, target_path=path)]

    def write_ground_truth(self, sample: Sample, folder: Path, stem: str, rng: np.random.Generator
                           ) -> list[tuple[str, str]]:  # fmt: skip
        name = f"{stem}_depth.npy"
        write_atomically(folder / name, lambda stream: np.save(stream, sample.depth))
        return [(self.full_prompt(), name)]

    def decode(self, picture: np.ndarray) -> np.ndarray:
        return decode(picture)

    def read_prediction(self, base: Path) -> np.ndarray:
        return load_npy(files.existing_file(base, ".npy")).astype(np.float32)

    def display_picture(self, prediction: files.Prediction) -> np.ndarray:
        return depth_colormap(np.asarray(prediction.value))

    def published_array(self, prediction: files.Prediction) -> np.ndarray:
        return np.asarray(prediction.value)

    def scorer(self) -> Scorer:
        from ..evaluation.depth import depth_metrics
        from ..evaluation.scorers import PerImageScorer

        return PerImageScorer(lambda p, s: depth_metrics(np.asarray(p), s.depth, valid=s.valid_mask))

    def baseline(self, sample: Sample) -> np.ndarray:
        """A vertical ramp, bright (near) at the bottom of the picture, as a floor seen from above would be."""
        height, width = sample.image_size()
        return np.repeat(np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None], width, axis=1)

    def picture_metrics(self, predicted: np.ndarray, target: np.ndarray) -> dict[str, float]:
        """AbsRel and delta1 after disparity alignment, the target's disparity taken as the truth."""
        from ..evaluation.depth import depth_metrics

        gt_disp = decode(target)
        valid = gt_disp > 1e-3
        if not valid.any():
            return {}
        gt_depth = np.where(valid, 1.0 / np.maximum(gt_disp, 1e-3), 0.0)
        metrics = depth_metrics(decode(predicted), gt_depth, valid)
        return {"abs_rel": metrics["abs_rel"], "delta1": metrics["delta1"]}
