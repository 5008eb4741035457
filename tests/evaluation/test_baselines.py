"""Trivial baselines return decoder structures and score what a hand computation says."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from diception.data import Sample
from diception.evaluation.baselines import baseline_for
from diception.evaluation.runner import evaluate


def sample(tmp_path, task: str, **truth) -> Sample:
    path = tmp_path / "img.png"
    Image.fromarray(np.zeros((20, 10, 3), np.uint8)).save(path)
    return Sample(image_path=path, task=task, prompt="", sample_id="img", **truth)


def test_whole_image_mask_iou_is_the_object_fraction(tmp_path):
    mask = np.zeros((20, 10), bool)
    mask[:5] = True  # a quarter of the picture
    result = evaluate([sample(tmp_path, "segmentation", mask=mask)], "segmentation",
                      predictor=baseline_for("segmentation"))  # fmt: skip
    assert result.summary["mIoU"] == pytest.approx(0.25)


def test_up_normals_are_exact_on_a_floor_and_ninety_degrees_off_a_wall(tmp_path):
    floor = np.broadcast_to(np.array([0, 1, 0], np.float32), (20, 10, 3)).copy()
    wall = np.broadcast_to(np.array([0, 0, 1], np.float32), (20, 10, 3)).copy()
    on_floor = evaluate([sample(tmp_path, "normal", normals=floor)], "normal", predictor=baseline_for("normal"))
    on_wall = evaluate([sample(tmp_path, "normal", normals=wall)], "normal", predictor=baseline_for("normal"))
    assert on_floor.summary["mean"] == pytest.approx(0.0, abs=1e-3)
    assert on_wall.summary["mean"] == pytest.approx(90.0, abs=1e-3)


def test_depth_ramp_is_perfect_on_a_matching_ramp(tmp_path):
    disparity = np.linspace(0.1, 1.0, 20, dtype=np.float32)[:, None].repeat(10, axis=1)
    result = evaluate([sample(tmp_path, "depth", depth=1.0 / disparity)], "depth", predictor=baseline_for("depth"))
    assert result.summary["abs_rel"] == pytest.approx(0.0, abs=1e-4)


def test_instance_and_pose_baselines_are_scored(tmp_path):
    ids = np.zeros((20, 10), np.int32)
    ids[:, :] = 1
    entity = evaluate([sample(tmp_path, "entity", instances=ids)], "entity", predictor=baseline_for("entity"))
    assert entity.summary["AP"] == pytest.approx(1.0)  # the whole picture is the one instance
    person = np.zeros((17, 3), np.float32)
    person[5:] = (5.0, 10.0, 2.0)
    pose = evaluate([sample(tmp_path, "pose", keypoints=[person])], "pose", predictor=baseline_for("pose"))
    assert 0.0 <= pose.summary["PCK@0.1"] < 1.0
