"""The SD3 initialisation paths on the reference fixture's tiny SD3 folder (2 layers, 1536 wide), 32 px."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from accelerate.state import AcceleratorState

from diception.training import Trainer, load_config

SMOKE = Path(__file__).resolve().parents[2] / "configs" / "tiny_fixture_smoke.yaml"


@pytest.fixture(autouse=True)
def fresh_accelerator_state():
    AcceleratorState._reset_state(True)
    yield
    AcceleratorState._reset_state(True)


def test_from_sd3_trains_a_fresh_point_encoder_on_sd3_weights(tmp_path, official_dir):
    config = load_config(SMOKE, [f"model.sd3_path={official_dir}", f"output_dir={tmp_path}", "optim.max_steps=1",
                                 "export=false"])  # fmt: skip
    trainer = Trainer(config).setup()
    pipe = trainer.pipe
    assert pipe.transformer.config.num_layers == 2 and pipe.transformer.inner_dim == 1536
    assert "[[image2depth]]" in pipe.prompt_cache and "" in pipe.prompt_cache and not pipe.has_text_encoders
    sd3_weight = pipe.transformer.transformer_blocks[0].attn.to_q.weight.detach().clone()
    trainer.train()
    assert not torch.equal(pipe.transformer.transformer_blocks[0].attn.to_q.weight, sd3_weight)
    assert np.isfinite(json.loads((tmp_path / "metrics.jsonl").read_text())["loss"])


def test_continue_from_a_diception_folder(tmp_path, model_dir):
    config = load_config(SMOKE, ["model.init=pretrained", f"model.pretrained_path={model_dir}",
                                 f"output_dir={tmp_path}", "optim.max_steps=1", "export=false"])  # fmt: skip
    trainer = Trainer(config).setup()
    before = trainer.pipe.point_encoder.mlp[0].weight.detach().clone()
    trainer.train()
    assert not torch.equal(trainer.pipe.point_encoder.mlp[0].weight, before)
