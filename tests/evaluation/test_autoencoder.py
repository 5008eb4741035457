"""The autoencoder round trip: an exact autoencoder scores zero picture error and the codec's own task scores; a
lossy one is caught by both; the benchmark script reports it per task."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from diception import PixelShuffleAutoencoder
from diception.data.sample import Sample
from diception.evaluation.autoencoder import picture_errors, reconstruct, task_round_trip
from diception.tasks.pose import STANDING_PERSON

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "autoencoder_reconstruction.py"


def trivial_samples() -> dict[str, list[Sample]]:
    """One sample per task that its codec reads back perfectly: two big squares, a ramp of depth, a standing person."""
    size = 64
    ids = np.zeros((size, size), np.int32)
    ids[8:28, 8:28], ids[36:60, 30:60] = 1, 2
    depth = np.repeat(np.linspace(2.0, 8.0, size, dtype=np.float32)[:, None], size, axis=1)
    normals = np.zeros((size, size, 3), np.float32)
    normals[..., 2], normals[ids > 0] = 1.0, (0.6, 0.0, 0.8)
    image = np.zeros((size, size, 3), np.uint8)
    person = np.zeros((17, 3), np.float32)
    person[:, :2], person[:, 2] = STANDING_PERSON * 128, 2
    common = {"image": image, "sample_id": "trivial"}
    return {
        "depth": [Sample(task="depth", depth=depth, **common)],
        "normal": [Sample(task="normal", normals=normals, **common)],
        "segmentation": [Sample(task="segmentation", mask=ids == 2, **common)],
        "entity": [Sample(task="entity", instances=ids, **common)],
        "pose": [Sample(task="pose", keypoints=[person], image=np.zeros((128, 128, 3), np.uint8), sample_id="p")],
    }


# the perfect score of each trivial sample's codec
PERFECT = {"depth": ("abs_rel", 0.0), "normal": ("mean", 0.0), "segmentation": ("mIoU", 1.0), "entity": ("AP", 1.0),
           "pose": ("PCK@0.1", 1.0)}  # fmt: skip


def assert_same_scores(scores: dict, expected: dict) -> None:
    """Equal scores, up to the float rounding of the pipeline's [0, 1] <-> [-1, 1] mapping."""
    for part in ("summary", "per_sample"):
        assert scores[part] == pytest.approx(expected[part], abs=1e-6), part


def test_the_pixel_shuffle_reconstructs_exactly_through_the_pipeline_maths():
    pictures = np.random.default_rng(0).random((3, 32, 48, 3)).astype(np.float32)
    ae = PixelShuffleAutoencoder(downscale_factor=4, scaling_factor=2.0, shift_factor=0.25)
    np.testing.assert_allclose(reconstruct(ae, pictures, batch_size=2), pictures, atol=1e-6)


def test_picture_errors_are_mean_abs_error_and_psnr():
    zeros = np.zeros((2, 8, 8, 3), np.float32)
    assert picture_errors(zeros, zeros + 0.1) == pytest.approx({"l1": 0.1, "psnr": 20.0, "count": 2})
    assert picture_errors(zeros, zeros) == {"l1": 0.0, "psnr": 100.0, "count": 2}  # picture_metrics' cap: exact


@pytest.mark.parametrize("task", list(PERFECT))
def test_an_exact_autoencoder_keeps_the_codecs_perfect_round_trip(task):
    exact = PixelShuffleAutoencoder(downscale_factor=4)
    report = task_round_trip(trivial_samples()[task], task, {"exact": lambda p: reconstruct(exact, p),
                                                             "darkened": lambda p: p * 0.1})  # fmt: skip
    metric, perfect = PERFECT[task]
    assert report["samples"] == 1
    assert report["codec"]["summary"][metric] == pytest.approx(perfect, abs=1e-4)
    assert_same_scores(report["autoencoders"]["exact"]["task"], report["codec"])
    assert report["autoencoders"]["exact"]["picture"]["l1"] < 1e-7
    darkened = report["autoencoders"]["darkened"]
    assert darkened["picture"]["l1"] > 0.01 and darkened["picture"]["psnr"] < 40.0
    if task in ("segmentation", "entity", "pose"):  # a picture at 10 % brightness is read as black
        assert darkened["task"]["summary"][metric] < perfect - 0.5


def test_the_benchmark_writes_json_and_tables_for_each_autoencoder(tmp_path):
    spec = importlib.util.spec_from_file_location("autoencoder_reconstruction", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    PixelShuffleAutoencoder(downscale_factor=4).save_pretrained(tmp_path / "shuffle")
    out = tmp_path / "report.json"
    arguments = ["--autoencoder", f"exact={tmp_path / 'shuffle'}", "--count", "2", "--size", "32", "--data",
                 str(tmp_path / "data"), "--tasks", "depth", "entity", "--out", str(out)]  # fmt: skip
    assert bench.main(arguments) == 0
    report = json.loads(out.read_text())
    assert report["autoencoders"]["exact"]["class"] == "PixelShuffleAutoencoder"
    assert report["scene_pictures"]["exact"]["l1"] < 1e-7 and set(report["tasks"]) == {"depth", "entity"}
    for result in report["tasks"].values():
        assert_same_scores(result["autoencoders"]["exact"]["task"], result["codec"])
    table = out.with_suffix(".md").read_text()
    assert "| scene pictures | 2 | 0.0000 / 100.0 dB |" in table and "| depth | abs_rel (lower is better) |" in table
    with pytest.raises(SystemExit):
        bench.main(["--autoencoder", "no-directory-given"])


def test_the_benchmark_builds_the_exact_pixel_shuffle_by_name():
    spec = importlib.util.spec_from_file_location("autoencoder_reconstruction", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.describe(bench.load_autoencoder("pixel_shuffle:4"))["class"] == "PixelShuffleAutoencoder"
    with pytest.raises(SystemExit, match="positive whole number"):
        bench.load_autoencoder("pixel_shuffle:four")
