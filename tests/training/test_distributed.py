"""Two CPU processes launched by accelerate: DDP over gloo ends with identical weights on both; FSDP (sharded
weights, gathered for validation and export) trains, resumes and exports what DDP does."""

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


def launch(tmp_path: Path, port: int, *args: str) -> str:
    """``diception <args>`` in two CPU processes (FSDP allowed on CPU, see fsdp_on_cpu.py); returns stdout."""
    launcher = os.path.join(os.path.dirname(sys.executable), "accelerate")
    env = dict(os.environ, ACCELERATE_USE_CPU="1", OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    command = [launcher, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision",
               "no", "--dynamo_backend", "no", "--main_process_port", str(port),
               str(Path(__file__).with_name("fsdp_on_cpu.py")), *args]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def exported_weights(run: Path) -> dict[str, torch.Tensor]:
    files = {
        part: run / "model" / part / "diffusion_pytorch_model.safetensors" for part in ("transformer", "point_encoder")
    }
    return {f"{part}.{k}": v for part, file in files.items() for k, v in load_file(str(file)).items()}


def validation_rows(run: Path) -> list[dict]:
    import json

    return [json.loads(line) for line in (run / "validation.jsonl").read_text().splitlines()]


@pytest.mark.skipif(shutil.which("accelerate", path=os.path.dirname(sys.executable)) is None,
                    reason="accelerate launcher not installed")  # fmt: skip
def test_fsdp_trains_like_ddp_resumes_from_sharded_checkpoints_and_exports_whole_weights(tmp_path):
    """Two processes: 3 steps of DDP vs 2 steps of FSDP, then a resumed third; validation (at steps 2 and 3)
    and export gather the shards, so both give the same pictures' metrics and the same exported weights."""
    train = ["train", "--config", str(CONFIG), "--set", "validation.every=2", "--set", "validation.num_samples=2",
             "--set", "validation.num_inference_steps=1", "--set", "checkpoint.every=0"]  # fmt: skip
    fsdp = ["--set", "parallel.strategy=fsdp"]
    out = launch(tmp_path, 29541, *train, "--output-dir", "ddp", "--set", "optim.max_steps=3")
    assert out.count("model: ") == 1  # the main process reports, once
    launch(tmp_path, 29542, *train, *fsdp, "--output-dir", "fsdp", "--set", "optim.max_steps=2", "--set",
           "export=false")  # fmt: skip
    checkpoint = tmp_path / "fsdp" / "checkpoints" / "checkpoint-0000002"
    assert (checkpoint / "pytorch_model_fsdp_0").is_dir()  # sharded: each process wrote its own part
    assert not (tmp_path / "fsdp" / "model").exists()
    out = launch(tmp_path, 29543, *train, *fsdp, "--output-dir", "fsdp", "--set", "optim.max_steps=3", "--resume",
                 "latest")  # fmt: skip
    assert "resumed from" in out and "at step 2" in out
    ddp_rows, fsdp_rows = validation_rows(tmp_path / "ddp"), validation_rows(tmp_path / "fsdp")
    assert [r["step"] for r in fsdp_rows] == [r["step"] for r in ddp_rows] == [2, 3]
    for ddp_row, fsdp_row in zip(ddp_rows, fsdp_rows):
        assert fsdp_row == pytest.approx(ddp_row, abs=1e-4)
    ddp_weights, fsdp_weights = exported_weights(tmp_path / "ddp"), exported_weights(tmp_path / "fsdp")
    assert ddp_weights.keys() == fsdp_weights.keys()
    for key, value in ddp_weights.items():
        torch.testing.assert_close(fsdp_weights[key], value, atol=1e-5, rtol=1e-4, msg=key)


@pytest.mark.skipif(shutil.which("accelerate", path=os.path.dirname(sys.executable)) is None,
                    reason="accelerate launcher not installed")  # fmt: skip
def test_fsdp_lora_exports_the_adapter_and_the_merged_model_ddp_would(tmp_path):
    from diception.pipelines import DiceptionPipeline

    lora = ["train", "--config", str(CONFIG), "--set", "model.lora.rank=4", "--set", "optim.max_steps=2"]
    launch(tmp_path, 29544, *lora, "--output-dir", "fsdp", "--set", "parallel.strategy=fsdp")
    launch(tmp_path, 29545, *lora, "--output-dir", "ddp")
    adapter = load_file(str(tmp_path / "fsdp" / "lora" / "pytorch_lora_weights.safetensors"))
    assert adapter and all("lora" in key for key in adapter)
    pipe = DiceptionPipeline.from_pretrained(tmp_path / "fsdp" / "model")
    assert not any("lora" in name for name, _ in pipe.transformer.named_parameters())  # merged into the base
    ddp_weights, fsdp_weights = exported_weights(tmp_path / "ddp"), exported_weights(tmp_path / "fsdp")
    for key, value in ddp_weights.items():
        torch.testing.assert_close(fsdp_weights[key], value, atol=1e-5, rtol=1e-4, msg=key)
