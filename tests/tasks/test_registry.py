"""The registry wires each task to its interface: ``target_picture`` draws a sample's ground truth, ``decode``
reads it back; registering a task is one call and prompts stay unique."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from diception import tasks
from diception.data.sample import Sample
from diception.errors import DiceptionInputError
from diception.tasks import instances, point_seg, pose

KINDS = {"depth": "depth", "normal": "normal", "pose": "keypoints", "segmentation": "mask",
         "semantic": "instances", "entity": "instances"}  # fmt: skip


def _ground_truth(name: str) -> Sample:
    ids = np.zeros((64, 64), dtype=np.int32)
    ids[10:30, 10:30], ids[40:60, 35:60] = 1, 2
    person = np.zeros((17, 3))
    person[[5, 7, 9], :] = [(20, 10, 2), (22, 30, 2), (24, 50, 2)]  # a left arm
    image = np.zeros((64, 64, 3), np.uint8)
    return {
        "depth": Sample(image=image, task=name, depth=np.linspace(1, 5, 64 * 64).reshape(64, 64)),
        "normal": Sample(image=image, task=name, normals=np.broadcast_to([0.0, 0.0, 1.0], (64, 64, 3))),
        "pose": Sample(image=image, task=name, keypoints=[person]),
        "segmentation": Sample(image=image, task=name, mask=ids > 0),
        "semantic": Sample(image=image, task=name, instances=ids, category="person"),
        "entity": Sample(image=image, task=name, instances=ids),
    }[name]


def test_prediction_kinds():
    assert {name: spec.prediction_kind for name, spec in tasks.TASKS.items()} == KINDS


@pytest.mark.parametrize("name", list(KINDS))
def test_target_picture_then_decode_through_the_registry(name):
    spec = tasks.get(name)
    sample = _ground_truth(name)
    assert spec.has_ground_truth(sample) and not spec.has_ground_truth(Sample(image=sample.image, task=name))
    rgb = spec.target_picture(sample, np.random.default_rng(0))
    assert rgb.shape == (64, 64, 3) and rgb.dtype == np.float32 and rgb.min() >= 0 and rgb.max() <= 1
    pred = spec.decode(rgb)
    if spec.prediction_kind == "depth":
        assert pred.shape == (64, 64) and pred.dtype == np.float32
    elif spec.prediction_kind == "normal":
        np.testing.assert_allclose(pred[..., 2], 1.0, atol=1e-6)
    elif spec.prediction_kind == "mask":
        assert isinstance(pred, point_seg.MaskPrediction) and np.array_equal(pred.mask, sample.mask)
    elif spec.prediction_kind == "instances":
        assert all(isinstance(p, instances.Instance) for p in pred) and len(pred) == 2
    else:
        (person,) = pred
        assert isinstance(person, pose.PersonPose) and person.num_keypoints == 3


def test_every_task_has_the_whole_interface():
    for spec in tasks.TASKS.values():
        assert spec.full_prompt("person" if spec.needs_category else None).startswith(spec.prompt)
        files = spec.output_files(Path("out/x"))
        assert files[0].path.name == "x.png" and len(files) == 1 + len(spec.files)
        assert callable(spec.scorer().add) and callable(spec.scorer().summary)


def test_prompts_resolve_to_their_task_and_category():
    assert tasks.task_from_prompt("[[image2semantic]] traffic light") == (tasks.SEMANTIC, "traffic light")
    assert tasks.task_from_prompt(" [[image2depth]] ") == (tasks.DEPTH, None)
    with pytest.raises(DiceptionInputError, match="names no known task"):
        tasks.task_from_prompt("[[image2depthx]]")


def test_registering_a_task_is_one_call_and_prompts_stay_unique():
    class Sharpen(tasks.Task):
        name, prompt = "sharpen", "[[image2sharpen]]"

    task = tasks.register(Sharpen())
    try:
        assert tasks.get("sharpen") is task and "[[image2sharpen]]" in tasks.cached_prompt_set()
        assert tasks.resolve_request(prompt="[[image2sharpen]]").task is task
        with pytest.raises(DiceptionInputError, match="registered already"):
            tasks.register(Sharpen())
        clash = type("Clash", (tasks.Task,), {"name": "other", "prompt": "[[image2depth]]"})
        with pytest.raises(DiceptionInputError, match="belongs to task 'depth'"):
            tasks.register(clash())
        with pytest.raises(DiceptionInputError, match="must be lower case"):
            tasks.register(type("Bad", (tasks.Task,), {"name": "Bad Name", "prompt": "[[x]]"})())
    finally:
        tasks.unregister("sharpen")
    with pytest.raises(DiceptionInputError, match="unknown task 'sharpen'"):
        tasks.get("sharpen")
