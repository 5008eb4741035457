"""Two CPU processes (DDP over gloo, launched by accelerate) end a run with identical weights."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from .helpers import CONFIG

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
from safetensors.torch import save_file
from diception.training import Trainer, load_config

config = load_config(sys.argv[1], sys.argv[3:])
trainer = Trainer(config).setup()
trainer.train()
model = trainer.accelerator.unwrap_model(trainer.denoiser)
state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
save_file(state, f"{sys.argv[2]}/rank{trainer.accelerator.process_index}.safetensors")
print("world", trainer.accelerator.num_processes)
"""


@pytest.mark.skipif(shutil.which("accelerate", path=os.path.dirname(sys.executable)) is None,
                    reason="accelerate launcher not installed")  # fmt: skip
def test_two_processes_hold_identical_weights(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    launcher = os.path.join(os.path.dirname(sys.executable), "accelerate")
    env = dict(os.environ, ACCELERATE_USE_CPU="1", OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    command = [launcher, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision",
               "no", "--dynamo_backend", "no", "--main_process_port", "29517", str(script), str(CONFIG),
               str(tmp_path), f"output_dir={tmp_path / 'run'}", "optim.max_steps=3", "export=false"]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "world 2" in result.stdout
    ranks = [load_file(str(tmp_path / f"rank{r}.safetensors")) for r in (0, 1)]
    assert ranks[0].keys() == ranks[1].keys()
    for key in ranks[0]:
        assert torch.equal(ranks[0][key], ranks[1][key]), key
