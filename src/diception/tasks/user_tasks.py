"""Tasks a user teaches the model from examples: a grey map, an RGB map or a binary mask, named and prompted by them.

``make_task(name, prompt, kind)`` builds one; ``diception finetune`` registers it for training, and an adapter
folder records its name, prompt and kind so that ``DiceptionPipeline.load_adapter`` registers it again. Each
kind brings its decoder, files and score:

=====  =============================  ================================  =========================================
kind   the model's picture            prediction                        score against the target picture
=====  =============================  ================================  =========================================
grey   a grey map (3 equal channels)  ``(H, W)`` float32 in [0, 1]      AbsRel and RMSE after a least-squares
                                                                        scale and shift (as relative depth is)
rgb    an RGB picture                 ``(H, W, 3)`` float32 in [0, 1]   L1 and PSNR
mask   white on black                 :class:`MaskPrediction` (+ RLE)   IoU (mean over images)
=====  =============================  ================================  =========================================
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DiceptionInputError
from . import point_seg
from . import prediction_files as files
from .task import Scorer, Task

if TYPE_CHECKING:
    from ..data.sample import Sample

KINDS = ("grey", "rgb", "mask")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")


def write_grey_16bit(prediction: files.Prediction, stream) -> None:
    """The grey map * 65535 as a uint16 PNG."""
    value = np.clip(np.asarray(prediction.value, dtype=np.float64), 0.0, 1.0)
    files.png_bytes((value * 65535.0).round().astype(np.uint16), stream)


def grey_map_metrics(predicted: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """AbsRel (over target pixels above 1/255) and RMSE of ``predicted`` after the least-squares scale and shift
    onto ``target`` (both ``(H, W)`` in [0, 1]), and the RMSE without it."""
    p, g = np.asarray(predicted, np.float64).ravel(), np.asarray(target, np.float64).ravel()
    var = p.var()
    scale = float(np.mean((p - p.mean()) * (g - g.mean())) / var) if var > 0 else 0.0
    aligned = scale * p + (g.mean() - scale * p.mean())
    valid = g > 1.0 / 255.0
    abs_rel = float(np.mean(np.abs(aligned[valid] - g[valid]) / g[valid])) if valid.any() else math.nan
    return {"abs_rel": abs_rel, "rmse": float(np.sqrt(np.mean((aligned - g) ** 2))),
            "rmse_raw": float(np.sqrt(np.mean((p - g) ** 2)))}  # fmt: skip


class GreyMapTask(Task):
    """A grey map (shading, a heat map, a relative distance); the prediction its ``(H, W)`` float32 values."""

    kind = "grey"
    prediction_kind = "grey"
    output = "a grey map (3 equal channels)"
    fast_preset_ok = True
    files = (("picture", "_output.png", files.write_rgb_png), ("npy", ".npy", files.write_float32_npy),
             ("png16", "_16bit.png", write_grey_16bit))  # fmt: skip

    def decode(self, picture: np.ndarray) -> np.ndarray:
        return np.clip(np.asarray(picture, dtype=np.float32), 0.0, 1.0).mean(axis=-1)

    def scorer(self) -> Scorer:
        from ..evaluation.scorers import PerImageScorer

        def metric(prediction, sample):
            return grey_map_metrics(prediction, self.target_picture(sample).mean(axis=-1))

        return PerImageScorer(metric)

    def baseline(self, sample: Sample) -> np.ndarray:
        height, width = sample.image_size()
        return np.full((height, width), 0.5, dtype=np.float32)


class MaskMapTask(Task):
    """A binary mask (a region, an organ, a lesion); the prediction a :class:`~.point_seg.MaskPrediction`."""

    kind = "mask"
    prediction_kind = "mask"
    output = "white mask on black"
    fast_preset_ok = True
    files = (("mask", "_mask.png", point_seg.write_mask_png), ("json", "_masks.json", files.write_masks_json))

    def decode(self, picture: np.ndarray) -> point_seg.MaskPrediction:
        return point_seg.decode(picture)

    def read_prediction(self, base: Path) -> point_seg.MaskPrediction:
        return point_seg.read_mask_prediction(base)

    def target_mask(self, sample: Sample) -> np.ndarray:
        return self.target_picture(sample).mean(axis=-1) > 0.5

    def scorer(self) -> Scorer:
        from ..evaluation.scorers import PerImageScorer
        from ..evaluation.segmentation import mask_iou

        return PerImageScorer(lambda prediction, sample: {
            "iou": mask_iou(np.asarray(prediction, dtype=bool), self.target_mask(sample))})  # fmt: skip

    def baseline(self, sample: Sample) -> point_seg.MaskPrediction:
        height, width = sample.image_size()
        return point_seg.decode(np.zeros((height, width, 3), np.float32))


class RgbMapTask(Task):
    """An RGB picture (enhanced, restyled, a colour-coded map); the prediction the picture itself."""

    kind = "rgb"
    fast_preset_ok = True


_CLASSES = {cls.kind: cls for cls in (GreyMapTask, RgbMapTask, MaskMapTask)}


def is_taught(task: Task | None) -> bool:
    """Whether ``task`` is one taught from examples (an adapter may replace it; a built-in task it may not)."""
    return isinstance(task, tuple(_CLASSES.values()))


def make_task(name: str, prompt: str, kind: str, description: str = "") -> Task:
    """A new task called ``name`` (lower case, digits, ``_``), prompted by ``prompt``, of ``kind`` grey, rgb or
    mask. Register it with :func:`diception.tasks.register` to use it by name."""
    if not NAME_PATTERN.fullmatch(name or ""):
        raise DiceptionInputError(f"task name '{name}' must be 1-40 lower-case letters, digits or _, starting "
                                  "with a letter (e.g. floor_mask)")  # fmt: skip
    if kind not in _CLASSES:
        raise DiceptionInputError(f"--kind '{kind}' is not one of {', '.join(KINDS)}")
    if not prompt or not prompt.strip():
        raise DiceptionInputError(f"task '{name}' needs a prompt, e.g. --prompt \"[[image2{name}]]\"")
    task = _CLASSES[kind]()
    task.name, task.prompt = name, prompt.strip()
    task.description = description or f"{name} ({kind} map taught from examples)"
    return task
