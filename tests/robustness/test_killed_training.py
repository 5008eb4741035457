"""Training killed with SIGKILL and resumed with ``--resume latest`` ends with the weights of an uninterrupted run
of the same steps (same data order, same RNG states), and a checkpoint being written when the kill comes is never
taken for a complete one. On the tiny test config (``configs/tests_tiny.yaml``), in child processes."""

from __future__ import annotations

import contextlib
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from .killed_runs import REPO, diception, environment, run_to_end
from .stress import scaled

CONFIG = REPO / "configs" / "tests_tiny.yaml"
STEPS = 12
REPORT: list[str] = []


def _train(out: Path, *extra: str) -> list[str]:
    sets = [f"output_dir={out}", f"optim.max_steps={STEPS}", "checkpoint.every=2", "checkpoint.keep=2",
            "ema.enabled=true", "ema.decay=0.9", "optim.gradient_accumulation_steps=2"]  # fmt: skip
    return diception("train", "--config", CONFIG, *[a for s in sets for a in ("--set", s)], *extra)


def _weights(run: Path) -> dict[str, torch.Tensor]:
    files = sorted((run / "model").rglob("*.safetensors"))
    assert files, f"no exported weights in {run / 'model'}"
    return {f"{f.relative_to(run)}:{k}": v for f in files for k, v in load_file(f).items()}


def _losses(run: Path) -> list[tuple[int, float]]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [(row["step"], row["loss"]) for row in rows]


def _assert_same_run(straight: Path, resumed: Path) -> int:
    want, got = _weights(straight), _weights(resumed)
    assert want.keys() == got.keys()
    for key, value in want.items():
        assert torch.equal(got[key], value), key  # bit for bit
    assert _losses(resumed) == _losses(straight)  # the log too: no step twice, none missing
    return len(want)


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> Path:
    """The uninterrupted run both tests compare with."""
    out = tmp_path_factory.mktemp("train") / "straight"
    run_to_end(_train(out))
    return out


def test_training_killed_at_random_moments_resumes_to_the_same_weights(straight, tmp_path):
    rng = random.Random(5)
    targets = sorted(rng.sample(range(1, STEPS), scaled(2, 8)))  # kill once the log reaches these steps, in order
    landed = []
    for target in targets:
        process = subprocess.Popen(_train(tmp_path / "killed", "--resume", "latest"), cwd=REPO, env=environment(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        log = tmp_path / "killed" / "metrics.jsonl"
        while process.poll() is None and (not log.is_file() or _last_step(log) < target):
            time.sleep(0.005)
        if process.poll() is None:
            time.sleep(rng.uniform(0.0, 0.3))
            process.send_signal(signal.SIGKILL)
            process.wait()
            landed.append(_last_step(log))
    run_to_end(_train(tmp_path / "killed", "--resume", "latest"))
    tensors = _assert_same_run(straight, tmp_path / "killed")
    REPORT.append(f"training: {STEPS} steps, {len(landed)} SIGKILLs at logged steps {landed}; {tensors} exported "
                  "tensors bit-identical to the uninterrupted run")  # fmt: skip
    assert landed, "no kill landed while training ran"


def _last_step(log: Path) -> int:
    steps = [0]
    for line in log.read_text().splitlines():
        with contextlib.suppress(ValueError, KeyError):  # half a line, being written
            steps.append(json.loads(line)["step"])
    return max(steps)


KILL_WHILE_SAVING = """
import os, sys
from accelerate import Accelerator
saved = Accelerator.save_state
def save_state(self, output_dir=None, **kwargs):
    result = saved(self, output_dir, **kwargs)
    if output_dir.endswith("-0000004"):  # the state is on disk, the train_state.json marker not yet
        os._exit(9)
    return result
Accelerator.save_state = save_state
from diception.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_checkpoint_cut_off_while_saving_is_not_resumed_from(straight, tmp_path):
    command = _train(tmp_path / "killed")
    cut = subprocess.run([sys.executable, "-c", KILL_WHILE_SAVING, *command[3:]], cwd=REPO, env=environment(),
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert cut.returncode == 9, cut.stderr[-2000:]
    checkpoints = tmp_path / "killed" / "checkpoints"
    assert (checkpoints / "checkpoint-0000004").is_dir()  # written but for its marker
    done, _ = run_to_end(_train(tmp_path / "killed", "--resume", "latest"))
    assert "resumed from" in done.stdout and "checkpoint-0000002 at step 2" in done.stdout
    _assert_same_run(straight, tmp_path / "killed")
    REPORT.append("training: a kill between writing checkpoint-4's state and its marker -> resumed from step 2, "
                  "same weights")  # fmt: skip


def test_report_the_training_kill_figures():
    print("\n" + "\n".join(REPORT))
