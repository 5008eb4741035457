"""The GPU benchmark's code runs at a tiny size on the CPU, so it works when a GPU machine is lent."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

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
