"""Tiny training configs for the tests: a 2-layer, 2 x 16-wide model from scratch at 32 px (about 0.1 s a step)."""

from __future__ import annotations

from pathlib import Path

import torch

from diception.training.config import TrainConfig, load_config

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "tests_tiny.yaml"


def tiny_config(output_dir: Path, *overrides: str) -> TrainConfig:
    """``configs/tests_tiny.yaml`` writing to ``output_dir``, with ``--set``-style overrides."""
    return load_config(CONFIG, [f"output_dir={output_dir}", *overrides])


def weights(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of a module's state."""
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
