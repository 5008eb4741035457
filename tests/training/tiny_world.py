"""A tiny in-test training dataset: random discs on a noisy background and their six task targets.

Independent of the synthetic world (``diception.data.synthetic``); each task draws its target from the same
ground truth (``Task.target_picture``).
"""

from __future__ import annotations

import numpy as np

from diception import tasks
from diception.data.sample import Sample

TASK_ORDER = ("depth", "normal", "segmentation", "semantic", "entity", "pose")
CATEGORY = "person"


class TinyWorld:
    """``length`` samples of ``size`` px; sample ``i`` asks task ``TASK_ORDER[i % 6]`` (or only ``only_task``)."""

    def __init__(self, length: int = 12, size: int = 32, seed: int = 0, only_task: str | None = None):
        self.length, self.size, self.seed, self.only_task = length, size, seed, only_task

    def __len__(self) -> int:
        return self.length

    def task_of(self, index: int) -> str:
        return self.only_task or TASK_ORDER[index % len(TASK_ORDER)]

    def prompt_of(self, index: int) -> str:
        spec = tasks.get(self.task_of(index))
        return spec.full_prompt(CATEGORY if spec.needs_category else None)

    @property
    def prompts(self) -> list[str]:
        return sorted({self.prompt_of(i) for i in range(len(self))})

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < self.length:
            raise IndexError(index)
        rng = np.random.default_rng([self.seed, index])
        s = self.size
        yy, xx = np.mgrid[0:s, 0:s] + 0.5
        image = 0.2 + 0.1 * rng.random((s, s, 3))
        depth = np.full((s, s), 10.0)
        ids = np.zeros((s, s), dtype=np.int64)
        for k in range(1, 4):
            cx, cy, r = rng.uniform(6, s - 6), rng.uniform(6, s - 6), rng.uniform(3, 7)
            inside = (xx - cx) ** 2 + (yy - cy) ** 2 < r**2
            image[inside] = rng.uniform(0.3, 1.0, 3)
            depth[inside] = rng.uniform(2, 8)
            ids[inside] = k
        normals = np.stack([np.zeros((s, s)), np.zeros((s, s)), np.ones((s, s))], -1)
        normals[ids > 0] = (0.3, 0.2, 0.93)
        obj = ids == ids.max()
        ys, xs = np.nonzero(obj)
        pick = rng.choice(len(ys), size=min(3, len(ys)), replace=False)
        kp = np.zeros((17, 3))
        kp[:, 0], kp[:, 1], kp[:, 2] = rng.uniform(4, s - 4, 17), rng.uniform(4, s - 4, 17), 2
        spec = tasks.get(self.task_of(index))
        truth = Sample(image=(image * 255).astype(np.uint8), task=spec.name, depth=depth,
                       normals=normals / np.linalg.norm(normals, axis=-1, keepdims=True), mask=obj,
                       instances=ids.astype(np.int32), keypoints=[kp])  # fmt: skip
        target = spec.target_picture(truth)
        points = tuple(((xs[i] + 0.5) / s, (ys[i] + 0.5) / s) for i in pick) if spec.accepts_points else ()
        return {
            "image": image.astype(np.float32),
            "target": target.astype(np.float32),
            "prompt": self.prompt_of(index),
            "points": points,
        }


def tiny_world(**kwargs) -> TinyWorld:
    """The ``data.factory`` entry point: ``tests.training.tiny_world:tiny_world``."""
    return TinyWorld(**kwargs)
