"""Periodic validation: sample with the DiceptionPipeline on a fixed set, score, and draw a contact sheet.

Scores compare the predicted picture with the target picture: for every task their mean absolute difference
(``picture_l1``), plus what the task itself measures on its decoded pictures (``Task.picture_metrics``: depth
``abs_rel`` and ``delta1`` after disparity alignment, normals' mean angular error and share within 11.25
degrees, point segmentation's mask IoU).
"""

from __future__ import annotations

import contextlib
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from .. import tasks
from ..atomic_files import write_atomically
from ..errors import DiceptionInputError
from ..pipelines import DiceptionPipeline
from .batching import ExampleOptions, make_example, sample_field

SHEET_CELL = 128  # minimum side of one picture in the contact sheet


def validation_examples(dataset: Dataset, num_samples: int, resolution: int, seed: int = 0,
                        options: ExampleOptions | None = None, scan: int = 8) -> list[dict]:  # fmt: skip
    """``num_samples`` fixed examples spread round-robin over the tasks found in the dataset's first
    ``scan * num_samples`` items (no prompt dropout; points drawn from a fixed seed)."""
    by_task: dict[str, list[int]] = defaultdict(list)
    samples = {}
    for i in range(min(len(dataset), max(scan * num_samples, num_samples))):
        samples[i] = dataset[i]
        by_task[tasks.resolve_request(prompt=sample_field(samples[i], "prompt")).task.name].append(i)
    chosen: list[int] = []
    for rank in range(max((len(v) for v in by_task.values()), default=0)):
        chosen += [ids[rank] for ids in by_task.values() if rank < len(ids)]
    base = options or ExampleOptions(resolution=resolution)
    options = ExampleOptions(resolution, 0.0, base.min_points, base.max_points)
    return [make_example(samples[i], options, np.random.default_rng([seed, i]), i) for i in chosen[:num_samples]]


def score(task: str, prediction: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """Metrics of one ``(H, W, 3)`` predicted picture against its target picture: ``picture_l1`` and the task's
    own (``Task.picture_metrics``; left out where the target does not define them, e.g. an empty mask)."""
    out = {"picture_l1": float(np.abs(prediction - target).mean())}
    with contextlib.suppress(DiceptionInputError):
        out.update(tasks.get(task).picture_metrics(prediction, target))
    return out


@torch.no_grad()
def predict_examples(pipe: DiceptionPipeline, examples: Sequence[dict], num_inference_steps: int,
                     guidance_scale: float, seed: int = 0) -> np.ndarray:  # fmt: skip
    """``(N, R, R, 3)`` predicted pictures for the examples (one batch, fixed starting noise)."""
    size = examples[0]["image"].shape[-1]
    points = [[(x * size, y * size) for x, y in e["points"]] or None for e in examples]
    out = pipe(
        [e["image"] for e in examples], prompt=[e["prompt"] for e in examples], points=points,
        num_inference_steps=num_inference_steps, guidance_scale=guidance_scale, processing_resolution=0,
        generator=torch.Generator().manual_seed(seed), output_type="np",
    )  # fmt: skip
    return np.asarray(out.images, dtype=np.float32)


def summarise(examples: Sequence[dict], predictions: np.ndarray) -> dict[str, float]:
    """Mean of every metric per task (``"depth/abs_rel"``) and ``"all/picture_l1"`` over all examples."""
    values: dict[str, list[float]] = defaultdict(list)
    for example, prediction in zip(examples, predictions):
        target = example["target"].permute(1, 2, 0).numpy()
        for key, value in score(example["task"], prediction, target).items():
            if math.isfinite(value):
                values[f"{example['task']}/{key}"].append(value)
                if key == "picture_l1":
                    values["all/picture_l1"].append(value)
    return {key: float(np.mean(v)) for key, v in sorted(values.items())}


def contact_sheet(examples: Sequence[dict], predictions: np.ndarray, path: str | Path) -> Path:
    """Save a PNG with one row per example: input | target | prediction (points drawn as red dots)."""
    size = examples[0]["image"].shape[-1]
    cell = max(size, SHEET_CELL)
    sheet = np.zeros((cell * len(examples), cell * 3, 3), dtype=np.uint8)
    for row, (example, prediction) in enumerate(zip(examples, predictions)):
        image = example["image"].permute(1, 2, 0).numpy().copy()
        for x, y in example["points"]:
            r, c = min(int(y * size), size - 1), min(int(x * size), size - 1)
            image[max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2] = (1.0, 0.0, 0.0)
        panels = (image, example["target"].permute(1, 2, 0).numpy(), prediction)
        for col, panel in enumerate(panels):
            picture = Image.fromarray((np.clip(panel, 0, 1) * 255).round().astype(np.uint8))
            sheet[row * cell : (row + 1) * cell, col * cell : (col + 1) * cell] = np.asarray(
                picture.resize((cell, cell), Image.NEAREST)
            )
    path = Path(path)
    write_atomically(path, lambda stream: Image.fromarray(sheet).save(stream, format="PNG"))
    return path
