"""DICEPTION: one diffusion model (SD3 MMDiT) as a generalist perception system.

from diception import DiceptionPipeline
pipe = DiceptionPipeline.from_pretrained("path/to/diception-model")
out = pipe("photo.jpg", task="depth")
out.prediction[0]  # (H, W) relative disparity in [0, 1]

Names are imported on first use: ``import diception`` (and the command line's ``--help``) loads neither torch
nor diffusers.
"""

from __future__ import annotations

import importlib
from typing import Any

from .bundled import bundled_model_path
from .errors import DiceptionInputError

__version__ = "0.1.0"

_LAZY = {
    "DiceptionOutput": ".pipelines",
    "DiceptionPipeline": ".pipelines",
    "DiceptionTransformer": ".modeling",
    "PixelShuffleAutoencoder": ".modeling",
    "PointPromptEncoder": ".modeling",
    "PromptEmbeddingCache": ".pipelines",
    "tasks": ".tasks",
}

__all__ = ["bundled_model_path", "DiceptionInputError", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'diception' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name], __name__)
    return module if name == "tasks" else getattr(module, name)
