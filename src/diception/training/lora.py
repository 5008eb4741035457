"""LoRA fine-tuning of the transformer with peft (``model.lora.rank > 0``).

The base weights are frozen and low-rank adapters are added to SD3's attention projections (``model.lora
.target_modules``). The adapter saves and loads on its own (``save_lora`` / ``load_lora``), and ``merge_lora``
folds it into the base weights so the exported pipeline is a plain DICEPTION folder.
"""

from __future__ import annotations

import os

from ..errors import DiceptionInputError
from ..modeling import DiceptionTransformer
from .config import LoraConfig

ADAPTER_NAME = "default"


def add_lora(transformer: DiceptionTransformer, config: LoraConfig, adapter_name: str = ADAPTER_NAME) -> list[str]:
    """Freeze ``transformer`` and give it trainable LoRA adapters (called ``adapter_name``); returns the trainable
    parameter names."""
    try:
        from peft import LoraConfig as PeftLoraConfig
    except ImportError:
        raise ImportError("LoRA training needs peft: pip install peft") from None
    if config.rank < 1:
        raise DiceptionInputError(f"model.lora.rank={config.rank}; LoRA needs rank >= 1 (0 means full fine-tune)")
    transformer.requires_grad_(False)
    transformer.add_adapter(
        PeftLoraConfig(r=config.rank, lora_alpha=config.alpha or config.rank, lora_dropout=config.dropout,
                       target_modules=list(config.target_modules), init_lora_weights="gaussian"),
        adapter_name=adapter_name,
    )  # fmt: skip
    names = [n for n, p in transformer.named_parameters() if p.requires_grad]
    if not names:
        raise DiceptionInputError(f"model.lora.target_modules {config.target_modules} match no transformer layer")
    return names


def save_lora(transformer: DiceptionTransformer, folder: str | os.PathLike) -> None:
    """Write the adapter alone (``pytorch_lora_weights.safetensors`` and its config) to ``folder``."""
    transformer.save_lora_adapter(str(folder), adapter_name=ADAPTER_NAME)


def load_lora(transformer: DiceptionTransformer, folder: str | os.PathLike) -> None:
    """Add the adapter saved by :func:`save_lora` to a plain transformer."""
    transformer.load_lora_adapter(str(folder), adapter_name=ADAPTER_NAME, prefix=None, use_safetensors=True,
                                  weight_name="pytorch_lora_weights.safetensors")  # fmt: skip


def merge_lora(transformer: DiceptionTransformer) -> None:
    """Fold the adapter into the base weights and remove the LoRA layers (in place)."""
    transformer.fuse_lora(adapter_names=[ADAPTER_NAME])
    transformer.unload_lora()
