"""Run a command to the end, then the same command killed with SIGKILL at random moments and resumed; compare the
two output folders byte for byte. Shared by the kill tests and ``make stress`` (``DICEPTION_STRESS=1``: the full
counts the issue names; in CI, smaller ones)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def environment() -> dict[str, str]:
    """The environment of a child ``diception`` process: this interpreter's packages, 2 threads, no colour."""
    return dict(os.environ, OMP_NUM_THREADS="2", PYTHONUNBUFFERED="1", TQDM_DISABLE="1")


def diception(*argv: object) -> list[str]:
    return [sys.executable, "-m", "diception", *map(str, argv)]


def digest_tree(folder: Path) -> dict[str, str]:
    """``relative path -> sha256`` of every file under ``folder`` (hidden and temporary files included)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


@dataclass
class KilledRun:
    """What the killed-and-resumed run went through."""

    kills: int = 0  # SIGKILLs that hit a running process
    finished_early: int = 0  # runs that ended before their kill came
    seconds: float = 0.0
    final_stdout: str = ""
    delays: list[float] = field(default_factory=list)
    files_when_killed: list[int] = field(default_factory=list)  # finished files after each kill: progress


def run_to_end(command: list[str], timeout: float = 900) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=environment(), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done, time.perf_counter() - start


def time_to_first_file(command: list[str], folder: Path, timeout: float = 900) -> tuple[float, float]:
    """Run ``command`` to the end; return the seconds until its first file appeared under ``folder`` (the
    start-up: imports, model load) and the seconds it took in all."""
    start, first = time.perf_counter(), None
    process = subprocess.Popen(command, cwd=REPO, env=environment(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    while process.poll() is None:
        if first is None and folder.is_dir() and any(p.is_file() for p in folder.rglob("*")):
            first = time.perf_counter() - start
        time.sleep(0.05)
    stderr = process.stderr.read()
    process.stderr.close()
    assert process.returncode == 0, stderr[-3000:]
    total = time.perf_counter() - start
    return (first if first is not None else total), total


def run_killed(command: list[str], folder: Path, kills: int, total_files: int, startup_seconds: float, seed: int,
               timeout: float = 900) -> KilledRun:  # fmt: skip
    """Start ``command`` and SIGKILL it, ``kills`` times; then run it to the end and return what happened.

    The first kill comes at a random moment of the start-up (``startup_seconds``: until the uninterrupted run's
    first file); each later one as soon as ``folder`` holds a random number of finished files (thresholds drawn
    between 1 and ``total_files``, the uninterrupted run's count, in increasing order), so kills land in
    start-up, mid-batch and mid-write, with work done before each and work left after it."""
    rng = random.Random(seed)
    thresholds = sorted(rng.sample(range(1, max(total_files, kills + 1)), kills - 1)) if kills > 1 else []
    report = KilledRun()
    start = time.perf_counter()
    for k in range(kills):
        process = subprocess.Popen(command, cwd=REPO, env=environment(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        began = time.perf_counter()
        if k == 0:
            delay = rng.uniform(0.3, 1.0) * startup_seconds
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=delay)
        else:
            while process.poll() is None and count_files(folder) < thresholds[k - 1]:
                time.sleep(0.01)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
            report.kills += 1
            report.delays.append(round(time.perf_counter() - began, 2))
            report.files_when_killed.append(count_files(folder))
        else:
            report.finished_early += 1
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"{command} did not finish in {timeout} s")
    final = subprocess.run(command, cwd=REPO, env=environment(), capture_output=True, text=True, timeout=timeout)
    assert final.returncode == 0, final.stderr[-3000:]
    report.final_stdout = final.stdout
    report.seconds = time.perf_counter() - start
    return report


def compare_trees(reference: Path, resumed: Path, ignore: tuple[str, ...] = ()) -> tuple[int, list[str]]:
    """The number of files compared and the differences (missing, extra, different bytes) between two output
    folders; paths containing one of ``ignore`` are left out (e.g. a report's timing)."""
    want, got = digest_tree(reference), digest_tree(resumed)
    keep = lambda name: not any(part in name for part in ignore)  # noqa: E731
    want = {k: v for k, v in want.items() if keep(k)}
    got = {k: v for k, v in got.items() if keep(k)}
    problems = [f"missing {k}" for k in want.keys() - got.keys()]
    problems += [f"extra {k}" for k in got.keys() - want.keys()]
    problems += [f"differs {k}" for k in want.keys() & got.keys() if want[k] != got[k]]
    return len(want), sorted(problems)


def count_files(folder: Path) -> int:
    """Finished (not hidden) files under ``folder``."""
    return sum(1 for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")) if folder.is_dir() else 0


def temporaries(folder: Path) -> list[str]:
    """Leftovers of interrupted writes under ``folder``."""
    return [str(p) for p in folder.rglob("*") if p.name.endswith((".tmp", ".partial", ".old"))]
