"""Jobs killed with SIGKILL at random moments, then resumed, lose nothing: every record is done exactly once, no
partial or temporary file is left, and the outputs are byte-identical to an uninterrupted run. Checked for
``batch``, ``eval`` and ``data synth`` on the bundled model (``--fast``); ``make stress`` runs the issue's counts
(1,000 records, five kills each), the suite a smaller count. The figures are printed (``pytest -s``)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from .killed_runs import (
    compare_trees,
    count_files,
    diception,
    run_killed,
    run_to_end,
    temporaries,
    time_to_first_file,
)
from .stress import scaled

KILLS = scaled(3, 5)
REPORT: list[str] = []
SYNTH_TASKS = ("depth", "normal", "segmentation", "entity")  # 4 records per scene


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> Path:
    """Synthetic scenes with ground truth: 4 records each (``scaled``: 64 records, or 1,000 under stress)."""
    out = tmp_path_factory.mktemp("scenes")
    run_to_end(diception("data", "synth", "--out", out, "--count", scaled(16, 250), "--size", 64,
                         "--tasks", *SYNTH_TASKS))  # fmt: skip
    return out


@pytest.fixture(scope="module")
def depth_scenes(tmp_path_factory) -> Path:
    """Synthetic scenes with depth ground truth only: one eval sample each (48, or 1,000 under stress)."""
    out = tmp_path_factory.mktemp("depth_scenes")
    run_to_end(diception("data", "synth", "--out", out, "--count", scaled(48, 1000), "--size", 64,
                         "--tasks", "depth"))  # fmt: skip
    return out


def _killed(command, straight: Path, killed: Path, seed: int):
    """Run ``command(straight)`` uninterrupted (timing its start-up: until its first file), then run
    ``command(killed)`` killed ``KILLS`` times and resumed."""
    startup, _ = time_to_first_file(command(straight), straight)
    return run_killed(command(killed), killed, KILLS, count_files(straight), startup, seed)


def _check(name: str, reference: Path, resumed: Path, report, records: int, ignore: tuple[str, ...] = ()) -> None:
    compared, problems = compare_trees(reference, resumed, ignore)
    left = temporaries(resumed)
    REPORT.append(f"{name}: {records} records, {report.kills} SIGKILLs (+{report.finished_early} runs that ended "
                  f"first) after {report.delays} s with {report.files_when_killed} files finished; {compared} "
                  f"files compared, {len(problems)} lost or changed, {len(left)} temporary files left")  # fmt: skip
    assert report.kills >= 1, "no kill landed while the job ran; the test proved nothing"
    assert not left, left
    assert not problems, problems[:20]


def test_a_killed_batch_resumes_to_the_same_bytes(scenes, tmp_path):
    manifest = scenes / "manifest.json"
    records = len(json.loads(manifest.read_text()))

    def command(out: Path) -> list[str]:
        return diception("batch", manifest, "--save-path", out, "--fast", "--batch-size", 8, "--save-npy",
                         "--quiet")  # fmt: skip

    report = _killed(command, tmp_path / "straight", tmp_path / "killed", seed=1)
    done, skipped, failed = map(int, re.search(r"(\d+) done, (\d+) skipped .*?, (\d+) failed",
                                               report.final_stdout).groups())  # fmt: skip
    assert done + skipped == records and failed == 0  # the last run saw every record, done or finished
    _check("batch", tmp_path / "straight", tmp_path / "killed", report, records)


def test_a_killed_eval_resumes_to_the_same_predictions_and_metrics(depth_scenes, tmp_path):
    manifest = depth_scenes / "manifest.json"

    def command(out: Path) -> list[str]:
        return diception("eval", "--task", "depth", "--data", manifest, "--output-dir", out, "--fast",
                         "--batch-size", 8, "--quiet")  # fmt: skip

    report = _killed(command, tmp_path / "straight", tmp_path / "killed", seed=2)
    samples = json.loads((tmp_path / "straight" / "summary.json").read_text())["samples"]
    assert f"{samples} samples scored" in report.final_stdout
    _check("eval", tmp_path / "straight", tmp_path / "killed", report, samples)


def test_a_killed_data_synth_resumes_to_the_same_dataset(tmp_path):
    count = scaled(60, 1000)

    def command(out: Path) -> list[str]:
        return diception("data", "synth", "--out", out, "--count", count, "--size", scaled(64, 96))

    report = _killed(command, tmp_path / "straight", tmp_path / "killed", seed=3)
    _check("data synth", tmp_path / "straight", tmp_path / "killed", report, count)


def test_a_stale_temporary_file_of_a_dead_process_is_swept_and_a_live_ones_kept(scenes, tmp_path):
    import os
    import subprocess
    import sys

    from diception.atomic_files import temporary_name

    out = tmp_path / "out"
    target = out / "predictions" / "x.png"
    target.parent.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = temporary_name(target).name.replace(f".{os.getpid()}.", f".{dead.stdout.strip()}.")
    (target.parent / stale).write_bytes(b"half")
    live = temporary_name(target)  # this process: alive
    live.write_bytes(b"being written")
    other_host = target.parent / ".x.png.elsewhere.1.0123abcd.tmp"  # a shard on another machine
    other_host.write_bytes(b"theirs")
    (scenes / "one.jsonl").write_text(json.dumps({"input": "images/" + sorted(os.listdir(scenes / "images"))[0],
                                                   "caption": "[[image2depth]]"}) + "\n")  # fmt: skip
    done, _ = run_to_end(diception("batch", scenes / "one.jsonl", "--save-path", out, "--fast"))
    assert "removed 1 temporary file left by an interrupted run" in done.stdout
    assert live.exists() and other_host.exists() and not (target.parent / stale).exists()
    shutil.rmtree(out)


def test_report_the_kill_figures():
    print("\n" + "\n".join(REPORT))
