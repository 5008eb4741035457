"""The benchmarks' code runs at a tiny size on the CPU: the GPU benchmark works when a GPU machine is lent, and the
probes that back the README's figures run as their commands say."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(autouse=True)
def _benchmarks_on_path(monkeypatch):
    """As when run as ``python benchmarks/X.py``: the script's folder is on the path, for its sibling imports."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_benchmark_runs_tiny_on_the_cpu_and_reports_every_setting(tmp_path):
    bench = _load("gpu_bench")
    out = tmp_path / "gpu.json"
    assert bench.main(["--tiny", "--device", "cpu", "--no-compile", "--resolution", "32", "--repeats", "1",
                       "--out", str(out)]) == 0  # fmt: skip
    report = json.loads(out.read_text())
    assert [(r["setting"], r["batch"]) for r in report["settings"]] == [(s[0], s[3]) for s in bench.SETTINGS]
    assert all(r["seconds_per_image"] > 0 and r["gflops_per_image"] > 0 for r in report["settings"])
    assert set(report["goals"]) == set(bench.GOALS) and all("met" in g for g in report["goals"].values())


def test_training_memory_table_counts_sd3_medium_and_shards_with_fsdp():
    bench = _load("training_memory")
    counts = bench.parameter_counts()  # on the meta device: no memory, instant
    assert round(counts["trainable"] / 1e6, 1) == 2035.7 and counts["blocks"] == 24
    activations = {"checkpoint_inputs_per_block": 15e6, "saved_per_block": 470e6}
    rows = {(r["strategy"], r["gpus"]): r for r in bench.table(counts, activations)}
    assert rows["DDP", 1]["total"] == rows["DDP", 8]["total"] == rows["FSDP", 1]["total"]
    assert rows["FSDP", 8]["total"] < rows["FSDP", 4]["total"] < rows["DDP", 4]["total"]
    assert rows["FSDP", 4]["adamw_states"] == pytest.approx(rows["DDP", 4]["adamw_states"] / 4, abs=0.01)


def test_ensemble_probe_mirrors_normals_back_into_the_inputs_frame():
    from diception.tasks import normals

    probe = _load("ensemble_probe")
    scene = np.zeros((4, 6, 3), np.float32)
    scene[:, :3] = (1, 0, 0)  # left half faces right
    scene[:, 3:] = (0, 0.6, 0.8)  # right half faces up and toward the camera
    mirrored = scene[:, ::-1] * np.array([-1, 1, 1], np.float32)  # the same scene seen in a mirror
    back = normals.decode(probe.mirror_back("normal", normals.encode(mirrored)))
    np.testing.assert_allclose(back, scene, atol=1e-2)
    depth = np.random.default_rng(0).random((4, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(probe.mirror_back("depth", depth[:, ::-1]), depth)


def test_ensemble_probe_scores_every_ensemble_on_the_bundled_model(tmp_path):
    probe = _load("ensemble_probe")
    out = tmp_path / "ensemble.json"
    assert probe.main(["--count", "2", "--data", str(tmp_path / "data"), "--seeds", "1", "2", "--flip", "both",
                       "--tasks", "normal", "segmentation", "--out", str(out)]) == 0  # fmt: skip
    report = json.loads(out.read_text())
    assert [(r["seeds"], r["flip"], r["passes"]) for r in report["rows"]] == [
        (1, False, 1), (2, False, 2), (1, True, 2), (2, True, 4)]  # fmt: skip
    for row in report["rows"]:
        assert 0 <= row["tasks"]["normal"]["mean"] <= 180 and 0 <= row["tasks"]["segmentation"]["mIoU"] <= 1


def test_bundled_model_report_scores_the_model_next_to_its_baseline_and_target(tmp_path):
    report_script = _load("bundled_model_report")
    out = tmp_path / "report.json"
    assert report_script.main(["--count", "2", "--data", str(tmp_path / "data"), "--tasks", "depth", "segmentation",
                               "--out", str(out)]) == 0  # fmt: skip
    report = json.loads(out.read_text())
    assert set(report["tasks"]) == {"depth", "segmentation"} and report["steps"] == 1  # the bundled model's default
    assert all(result["samples"] == 2 and result["model"] and result["baseline"] for result in report["tasks"].values())
    assert "| depth | abs_rel (lower is better) |" in report["table"] and "0.12 |" in report["table"]
    assert report["tasks"]["depth"]["input_dependence"]["scenes"] == 2
