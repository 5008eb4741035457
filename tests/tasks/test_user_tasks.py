"""Tasks taught from examples (grey, rgb, mask): a name and prompt of the user's, the kind's decoder, files and
score; drawing the target then decoding scores perfectly; bad names and kinds are one clear line."""

from __future__ import annotations

import numpy as np
import pytest

from diception.data.sample import Sample
from diception.errors import DiceptionInputError
from diception.tasks.prediction_files import Prediction, write_files
from diception.tasks.user_tasks import KINDS, grey_map_metrics, make_task

H, W = 24, 32


def target(kind: str) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    if kind == "grey":
        return np.repeat((0.2 + 0.6 * xx / W)[..., None], 3, axis=-1).astype(np.float32)
    if kind == "mask":
        return np.repeat(((yy > 8) & (xx < 20))[..., None], 3, axis=-1).astype(np.float32)
    return np.stack([xx / W, yy / H, np.full((H, W), 0.3)], axis=-1).astype(np.float32)


@pytest.mark.parametrize("kind", KINDS)
def test_the_target_decoded_scores_perfectly_and_its_files_read_back(kind, tmp_path):
    task = make_task(f"my_{kind}", f"[[image2my_{kind}]]", kind)
    picture = target(kind)
    sample = Sample(task=task.name, prompt=task.prompt, sample_id="a", image=np.zeros((H, W, 3), np.uint8),
                    target=picture)  # fmt: skip
    prediction = task.decode(task.target_picture(sample))
    scorer = task.scorer()
    scorer.add(sample, prediction)
    summary = scorer.summary()
    key, perfect = {"grey": ("abs_rel", 0.0), "mask": ("iou", 1.0), "rgb": ("psnr", 100.0)}[kind]
    assert summary[key] == pytest.approx(perfect, abs=1e-5) and summary["count"] == 1
    files = task.output_files(tmp_path / "a")
    write_files(Prediction(np.zeros((H, W, 3), np.uint8), picture, prediction, task, "a"), files)
    again = task.read_prediction(tmp_path / "a")
    np.testing.assert_array_equal(np.asarray(again), np.asarray(prediction))


def test_grey_maps_are_scored_after_scale_and_shift():
    truth = target("grey")[..., 0]
    assert grey_map_metrics(2.0 * truth - 0.3, truth)["abs_rel"] == pytest.approx(0.0, abs=1e-6)  # float32 truth
    assert grey_map_metrics(2.0 * truth - 0.3, truth)["rmse_raw"] > 0.1
    noisy = truth + np.random.default_rng(0).normal(0, 0.05, truth.shape)
    assert 0.0 < grey_map_metrics(noisy, truth)["abs_rel"] < 0.2


def test_a_trivial_baseline_scores_worse_than_the_target():
    for kind in ("grey", "mask"):
        task = make_task("t", "[[image2t]]", kind)
        sample = Sample(task="t", prompt=task.prompt, image=np.zeros((H, W, 3), np.uint8), target=target(kind))
        scorer = task.scorer()
        scorer.add(sample, task.baseline(sample))
        summary = scorer.summary()
        assert summary.get("iou", 0.0) < 0.5 and summary.get("abs_rel", 1.0) > 0.0


@pytest.mark.parametrize("name, prompt, kind, message", [
    ("Floor Mask", "[[x]]", "mask", "lower-case letters"),
    ("floor", "[[x]]", "heatmap", "is not one of grey, rgb, mask"),
    ("floor", "  ", "mask", "needs a prompt"),
])  # fmt: skip
def test_bad_definitions_are_one_clear_line(name, prompt, kind, message):
    with pytest.raises(DiceptionInputError, match=message):
        make_task(name, prompt, kind)
