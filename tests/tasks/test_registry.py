"""The registry wires each task to its codec: ``encode`` makes the target picture, ``decode`` reads it back."""

from __future__ import annotations

import numpy as np
import pytest

from diception import tasks
from diception.tasks import instances, point_seg, pose

KINDS = {"depth": "depth", "normal": "normal", "pose": "keypoints", "segmentation": "mask",
         "semantic": "instances", "entity": "instances"}  # fmt: skip


def _ground_truth(name: str) -> tuple[object, dict]:
    ids = np.zeros((64, 64), dtype=np.int32)
    ids[10:30, 10:30], ids[40:60, 35:60] = 1, 2
    person = np.zeros((17, 3))
    person[[5, 7, 9], :] = [(20, 10, 2), (22, 30, 2), (24, 50, 2)]  # a left arm
    return {
        "depth": (np.linspace(1, 5, 64 * 64).reshape(64, 64), {}),
        "normal": (np.broadcast_to([0.0, 0.0, 1.0], (64, 64, 3)), {}),
        "pose": ([person], {"image_size": (64, 64)}),
        "segmentation": (ids > 0, {}),
        "semantic": (ids, {"seed": 0}),
        "entity": (ids, {"seed": 1}),
    }[name]


def test_prediction_kinds():
    assert {name: spec.prediction_kind for name, spec in tasks.TASKS.items()} == KINDS


@pytest.mark.parametrize("name", list(KINDS))
def test_encode_then_decode_through_the_registry(name):
    spec = tasks.get(name)
    gt, kw = _ground_truth(name)
    rgb = spec.encode(gt, **kw)
    assert rgb.shape == (64, 64, 3) and rgb.dtype == np.float32 and rgb.min() >= 0 and rgb.max() <= 1
    pred = spec.decode(rgb)
    if spec.prediction_kind == "depth":
        assert pred.shape == (64, 64) and pred.dtype == np.float32
    elif spec.prediction_kind == "normal":
        np.testing.assert_allclose(pred[..., 2], 1.0, atol=1e-6)
    elif spec.prediction_kind == "mask":
        assert isinstance(pred, point_seg.MaskPrediction) and np.array_equal(pred.mask, gt)
    elif spec.prediction_kind == "instances":
        assert all(isinstance(p, instances.Instance) for p in pred) and len(pred) == 2
    else:
        (person,) = pred
        assert isinstance(person, pose.PersonPose) and person.num_keypoints == 3
