"""A task adapter folder: a new task taught to DICEPTION, as ``diception finetune`` writes it.

Safetensors and JSON only (nothing is unpickled to load it)::

    task_adapter.json                 the task (name, prompt, kind, description), the LoRA shape, the training
                                      settings and figures (data size, steps, trainable share, metric before/after)
    pytorch_lora_weights.safetensors  the LoRA weights of the transformer (diffusers' adapter format)
    prompt_embedding.safetensors      the prompt's embedding (``prompt_embeds`` (S, D), ``pooled_prompt_embeds`` (P,)),
                                      encoded by the text encoders or learned with the adapter
    README.md                         a short card

:meth:`DiceptionPipeline.load_adapter` reads it, registers the task and caches its prompt, so ``pipe(img,
task=NAME)`` runs the base model with that adapter switched on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..atomic_files import write_atomically
from ..errors import DiceptionInputError
from ..tasks.task import Task
from ..tasks.user_tasks import make_task

CONFIG_NAME = "task_adapter.json"
LORA_WEIGHTS_NAME = "pytorch_lora_weights.safetensors"
PROMPT_NAME = "prompt_embedding.safetensors"
FORMAT = "diception-task-adapter"
VERSION = 1


@dataclass
class TaskAdapter:
    """What an adapter folder holds, besides the LoRA weights themselves."""

    name: str
    prompt: str
    kind: str
    prompt_embeds: torch.Tensor  # (S, D)
    pooled_prompt_embeds: torch.Tensor  # (P,)
    description: str = ""
    lora: dict[str, Any] = field(default_factory=dict)  # rank, alpha, target_modules
    training: dict[str, Any] = field(default_factory=dict)  # settings and figures of the run that made it
    folder: Path | None = None

    def task(self) -> Task:
        return make_task(self.name, self.prompt, self.kind, self.description)


def save_task_adapter(adapter: TaskAdapter, transformer, folder: str | Path, card: str = "",
                      lora_name: str | None = None) -> Path:  # fmt: skip
    """Write ``adapter`` and the LoRA weights ``transformer`` holds as ``lora_name`` (default: the adapter's
    name) into ``folder``."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    transformer.save_lora_adapter(str(folder), adapter_name=lora_name or adapter.name, weight_name=LORA_WEIGHTS_NAME)
    tensors = {"prompt_embeds": adapter.prompt_embeds.detach().float().cpu().contiguous(),
               "pooled_prompt_embeds": adapter.pooled_prompt_embeds.detach().float().cpu().contiguous()}  # fmt: skip
    save_file(tensors, str(folder / PROMPT_NAME))
    return write_task_adapter_config(adapter, folder, card)


def write_task_adapter_config(adapter: TaskAdapter, folder: str | Path, card: str = "") -> Path:
    """(Re)write the folder's ``task_adapter.json`` (and the card, when given) from ``adapter``; the weights
    stay as they are."""
    folder = Path(folder)
    config = {"format": FORMAT, "version": VERSION,
              "task": {"name": adapter.name, "prompt": adapter.prompt, "kind": adapter.kind,
                       "description": adapter.description},
              "lora": adapter.lora, "training": adapter.training}  # fmt: skip
    text = json.dumps(config, indent=2) + "\n"
    write_atomically(folder / CONFIG_NAME, lambda stream: stream.write(text.encode("utf-8")))
    if card:
        write_atomically(folder / "README.md", lambda stream: stream.write(card.encode("utf-8")))
    return folder


def read_task_adapter(folder: str | Path) -> TaskAdapter:
    """The adapter in ``folder`` (its LoRA weights stay on disk until loaded into a transformer)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    missing = [name for name in (CONFIG_NAME, LORA_WEIGHTS_NAME, PROMPT_NAME) if not (folder / name).is_file()]
    if missing:
        raise DiceptionInputError(f"'{folder}' is not a task adapter folder (no {', '.join(missing)}); pass a folder "
                                  "written by `diception finetune`")  # fmt: skip
    try:
        config = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8"))
        task = config["task"]
        if config.get("format") != FORMAT:
            raise KeyError("format")
        tensors = load_file(str(folder / PROMPT_NAME))
        embeds, pooled = tensors["prompt_embeds"], tensors["pooled_prompt_embeds"]
    except (ValueError, KeyError, TypeError, SafetensorError, OSError) as err:
        raise DiceptionInputError(f"task adapter '{folder}' is damaged ({type(err).__name__}: {err}); write it "
                                  "again with `diception finetune`") from None  # fmt: skip
    if embeds.ndim != 2 or pooled.ndim != 1:
        raise DiceptionInputError(f"task adapter '{folder}': prompt embedding of shape {tuple(embeds.shape)} and "
                                  f"{tuple(pooled.shape)}; expected (S, D) and (P,)")  # fmt: skip
    return TaskAdapter(task["name"], task["prompt"], task["kind"], embeds, pooled, task.get("description", ""),
                       config.get("lora", {}), config.get("training", {}), folder)  # fmt: skip
