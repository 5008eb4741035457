"""A toy task, "invert the image", written as a user would write a new task: this one module, then
``diception.tasks.register(InvertTask())``. Nothing else in the package knows about it."""

from __future__ import annotations

import numpy as np

from diception.data.sample import Sample
from diception.tasks import Task


class InvertTask(Task):
    """The model draws the input with its colours inverted; the prediction is that ``(H, W, 3)`` picture.

    Ground truth: a target picture file when the sample names one, else the inverted input itself. Files,
    decoding and scoring (picture L1 and PSNR against the target) are the :class:`~diception.tasks.Task`
    defaults for a picture-valued task.
    """

    name = "invert"
    prompt = "[[image2invert]]"
    description = "the input image with its colours inverted (a toy task)"
    output = "1 - the input, per channel"

    def has_ground_truth(self, sample: Sample) -> bool:
        return True

    def target_picture(self, sample: Sample, rng: np.random.Generator | None = None) -> np.ndarray:
        if super().has_ground_truth(sample):
            return super().target_picture(sample, rng)
        return 1.0 - sample.load_image().astype(np.float32) / 255.0
