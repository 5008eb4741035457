"""Trivial predictors that any model must beat, one per prediction kind.

They return the same structures as the task decoders, so :func:`diception.evaluation.runner.evaluate` scores
them like a model (``predictor=``):

* depth: a vertical ramp, bright (near) at the bottom of the picture, as a floor seen from above would be;
* normal: every pixel facing up, ``(0, 1, 0)`` in our OpenGL camera axes;
* mask: the whole picture;
* instances: one instance covering the whole picture;
* keypoints: one standing person of average proportions filling the middle of the picture.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..data import Sample
from ..tasks import registry
from ..tasks.instances import Instance
from ..tasks.point_seg import MaskPrediction, mask_to_rle
from ..tasks.pose import PersonPose

# A standing person in picture fractions (x, y), COCO-17 order, facing the camera (its left on picture right).
STANDING_PERSON = np.array([
    (0.50, 0.20), (0.52, 0.18), (0.48, 0.18), (0.54, 0.20), (0.46, 0.20), (0.58, 0.30), (0.42, 0.30),
    (0.62, 0.42), (0.38, 0.42), (0.64, 0.54), (0.36, 0.54), (0.55, 0.55), (0.45, 0.55), (0.55, 0.72),
    (0.45, 0.72), (0.55, 0.90), (0.45, 0.90),
], dtype=np.float32)  # fmt: skip


def depth_ramp(sample: Sample) -> np.ndarray:
    height, width = sample.image_size()
    return np.repeat(np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None], width, axis=1)


def normals_up(sample: Sample) -> np.ndarray:
    height, width = sample.image_size()
    return np.broadcast_to(np.array([0.0, 1.0, 0.0], np.float32), (height, width, 3)).copy()


def whole_image_mask(sample: Sample) -> MaskPrediction:
    mask = np.ones(sample.image_size(), dtype=bool)
    return MaskPrediction(mask=mask, score=1.0, rle=mask_to_rle(mask))


def whole_image_instance(sample: Sample) -> list[Instance]:
    height, width = sample.image_size()
    mask = np.ones((height, width), dtype=bool)
    return [Instance(mask=mask, rle=mask_to_rle(mask), area=mask.size, bbox=(0.0, 0.0, float(width), float(height)),
                     score=1.0, colour=(1.0, 1.0, 1.0))]  # fmt: skip


def standing_person(sample: Sample) -> list[PersonPose]:
    height, width = sample.image_size()
    keypoints = np.zeros((17, 4), np.float32)
    keypoints[:, 0] = STANDING_PERSON[:, 0] * width
    keypoints[:, 1] = STANDING_PERSON[:, 1] * height
    keypoints[:, 2:] = (2.0, 1.0)
    return [PersonPose(keypoints=keypoints, score=1.0)]


BASELINES: dict[str, Callable[[Sample], object]] = {
    "depth": depth_ramp,
    "normal": normals_up,
    "mask": whole_image_mask,
    "instances": whole_image_instance,
    "keypoints": standing_person,
}


def baseline_for(task: str) -> Callable[[Sample], object]:
    """The trivial predictor of ``task``'s prediction kind."""
    return BASELINES[registry.get(task).prediction_kind]
