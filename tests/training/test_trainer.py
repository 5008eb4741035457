"""The training loop on a tiny from-scratch model: steps, resume, smoke convergence, export, LoRA, validation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from accelerate.state import AcceleratorState
from accelerate.utils import set_seed

from diception import DiceptionPipeline
from diception.cli.main import main
from diception.tasks import TASKS
from diception.training import Trainer, find_checkpoint
from diception.training.lora import load_lora
from diception.training.model_init import initial_pipeline

from .helpers import CONFIG, tiny_config, weights
from .tiny_world import TinyWorld


@pytest.fixture(autouse=True)
def fresh_accelerator_state():
    AcceleratorState._reset_state(True)  # every run builds its own Accelerator
    yield
    AcceleratorState._reset_state(True)


@pytest.mark.parametrize("task", list(TASKS))
def test_one_step_per_task_changes_the_weights(tmp_path, task):
    config = tiny_config(tmp_path, "optim.max_steps=1", "export=false", f"data.options.only_task={task}")
    trainer = Trainer(config).setup()
    before = weights(trainer.pipe.transformer), weights(trainer.pipe.point_encoder)
    trainer.train()
    after = weights(trainer.pipe.transformer), weights(trainer.pipe.point_encoder)
    assert any(not torch.equal(before[0][k], after[0][k]) for k in before[0])
    assert any(not torch.equal(before[1][k], after[1][k]) for k in before[1] if k != "fourier_matrix")
    row = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[-1])
    assert np.isfinite(row["loss"]) and row[f"loss/{task}"] == pytest.approx(row["loss"])


def test_resume_gives_the_same_weights_as_a_straight_run(tmp_path):
    common = [
        "export=false",
        "optim.max_steps=4",
        "optim.gradient_accumulation_steps=2",
        "ema.enabled=true",
        "ema.decay=0.9",
        "optim.lr_scheduler=constant_with_warmup",
        "optim.warmup_steps=3",
    ]
    straight = Trainer(tiny_config(tmp_path / "a", *common)).setup()
    straight.train()

    first = Trainer(tiny_config(tmp_path / "b", *common, "optim.max_steps=2")).setup()
    first.train()  # saves checkpoint-0000002 at the end
    AcceleratorState._reset_state(True)
    resumed = Trainer(tiny_config(tmp_path / "b", *common, "checkpoint.resume=latest")).setup()
    assert resumed.step == 2
    assert resumed.lr_scheduler.get_last_lr() == pytest.approx(first.lr_scheduler.get_last_lr())
    resumed.train()

    assert resumed.step == straight.step == 4
    for key, value in weights(straight.denoiser).items():
        torch.testing.assert_close(weights(resumed.denoiser)[key], value, rtol=0, atol=1e-6, msg=key)
    for a, b in zip(straight.ema.shadow_params, resumed.ema.shadow_params):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    assert find_checkpoint(tmp_path / "b", "latest").name == "checkpoint-0000004"


def test_smoke_run_lowers_the_loss(tmp_path):
    config = tiny_config(tmp_path, "optim.max_steps=40", "export=false", "data.options.length=2",
                         "data.options.only_task=depth", "objective.prompt_dropout=0.0", "optim.lr=3e-3")  # fmt: skip
    Trainer(config).setup().train()
    losses = [json.loads(line)["loss"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(losses) == 40
    assert np.mean(losses[-8:]) < 0.7 * np.mean(losses[:8])


def test_cli_trains_validates_checkpoints_and_exports_a_loadable_model(tmp_path, capsys):
    code = main(["train", "--config", str(CONFIG), "--output-dir", str(tmp_path), "--set", "optim.max_steps=3",
                 "--set", "checkpoint.every=1", "--set", "checkpoint.keep=2", "--set", "validation.every=3",
                 "--set", "validation.num_samples=6", "--set", "validation.num_inference_steps=2"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert "model:" in capsys.readouterr().out
    kept = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert kept == ["checkpoint-0000002", "checkpoint-0000003"]
    assert (tmp_path / "validation" / "step_0000003.png").is_file()
    metrics = json.loads((tmp_path / "validation.jsonl").read_text().splitlines()[-1])
    assert metrics["step"] == 3 and {"all/picture_l1", "depth/abs_rel", "segmentation/mask_iou"} <= set(metrics)

    pipe = DiceptionPipeline.from_pretrained(tmp_path / "model")
    pipe.set_progress_bar_config(disable=True)
    sample = TinyWorld()[2]
    out = pipe(sample["image"], prompt=sample["prompt"], points=[(16, 16)], num_inference_steps=1,
               processing_resolution=32)  # fmt: skip
    assert out.images.shape == (1, 32, 32, 3) and np.isfinite(out.images).all()


def test_lora_trains_only_the_adapter_and_round_trips(tmp_path):
    config = tiny_config(tmp_path, "optim.max_steps=2", "model.lora.rank=4")
    trainer = Trainer(config).setup()
    names = {n for n, p in trainer.pipe.transformer.named_parameters() if p.requires_grad}
    assert names and all("lora_" in n for n in names)
    base = {k: v for k, v in weights(trainer.pipe.transformer).items() if "lora_" not in k}
    lora_before = {k: v for k, v in weights(trainer.pipe.transformer).items() if "lora_B" in k}
    trainer.train()
    after = weights(trainer.pipe.transformer)  # merged at export: base + delta
    assert any(not torch.equal(after[k.replace(".base_layer", "")], v) for k, v in base.items() if "base_layer" in k)
    assert lora_before and (tmp_path / "lora" / "pytorch_lora_weights.safetensors").is_file()

    # The adapter alone, on the initial weights, reproduces the exported (merged) transformer.
    AcceleratorState._reset_state(True)
    set_seed(config.seed)
    fresh = initial_pipeline(config.model, TinyWorld().prompts, 32).transformer
    for k, v in base.items():
        if "base_layer" not in k and "lora_" not in k:
            torch.testing.assert_close(fresh.state_dict()[k], v)  # same initial weights
    load_lora(fresh, tmp_path / "lora")
    exported = DiceptionPipeline.from_pretrained(tmp_path / "model").transformer
    x = torch.randn(1, 4, 16, 16)
    kwargs = dict(hidden_states=x, encoder_hidden_states=torch.randn(1, 4, 32), pooled_projections=torch.randn(1, 16),
                  timestep=torch.tensor([300.0]), cond_latents=x, return_dict=False)  # fmt: skip
    with torch.no_grad():
        torch.testing.assert_close(fresh(**kwargs)[0], exported(**kwargs)[0], rtol=1e-4, atol=1e-5)
