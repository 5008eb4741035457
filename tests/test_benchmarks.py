"""The GPU benchmark's code runs at a tiny size on the CPU, so it works when a GPU machine is lent."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_bench.py"


def test_gpu_benchmark_runs_tiny_on_the_cpu_and_reports_every_setting(tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "gpu.json"
    assert bench.main(["--tiny", "--device", "cpu", "--no-compile", "--resolution", "32", "--repeats", "1",
                       "--out", str(out)]) == 0  # fmt: skip
    report = json.loads(out.read_text())
    assert [(r["setting"], r["batch"]) for r in report["settings"]] == [(s[0], s[3]) for s in bench.SETTINGS]
    assert all(r["seconds_per_image"] > 0 and r["gflops_per_image"] > 0 for r in report["settings"])
    assert set(report["goals"]) == set(bench.GOALS) and all("met" in g for g in report["goals"].values())


def test_training_memory_table_counts_sd3_medium_and_shards_with_fsdp():
    spec = importlib.util.spec_from_file_location("training_memory", BENCH.with_name("training_memory.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    counts = bench.parameter_counts()  # on the meta device: no memory, instant
    assert round(counts["trainable"] / 1e6, 1) == 2035.7 and counts["blocks"] == 24
    activations = {"checkpoint_inputs_per_block": 15e6, "saved_per_block": 470e6}
    rows = {(r["strategy"], r["gpus"]): r for r in bench.table(counts, activations)}
    assert rows["DDP", 1]["total"] == rows["DDP", 8]["total"] == rows["FSDP", 1]["total"]
    assert rows["FSDP", 8]["total"] < rows["FSDP", 4]["total"] < rows["DDP", 4]["total"]
    assert rows["FSDP", 4]["adamw_states"] == pytest.approx(rows["DDP", 4]["adamw_states"] / 4, abs=0.01)
