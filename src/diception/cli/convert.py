"""``diception convert``: the published weights (SD3 folder + ``DICEPTION_v1.pth``) -> a DICEPTION model folder.

The folder holds the transformer, point encoder, VAE, scheduler and the prompt cache (the six task prompts, the
80 COCO semantic prompts and every ``--add-prompt``), so inference needs no text encoders. With ``--model DIR``
instead of ``--checkpoint``, prompts are added to an existing folder (the SD3 folder's text encoders encode them).
The folder is written to ``<out>.partial`` and renamed into place when complete.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from .. import tasks
from ..atomic_files import replace_folder_atomically
from ..errors import DiceptionInputError
from .command import Command
from .model_options import DTYPE_NAMES, configure_progress, quiet_dtype_deprecation, torch_dtype

if TYPE_CHECKING:
    from ..pipelines import DiceptionPipeline


class ConvertCommand(Command):
    """Write a self-contained DICEPTION model folder."""

    name = "convert"
    help = "convert the published SD3 + DICEPTION_v1.pth weights into a model folder (or add prompts to one)"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--sd3", "--pretrained_model_path", dest="sd3", required=True, metavar="SD3_DIR",
                            help="stable-diffusion-3-medium-diffusers folder")  # fmt: skip
        parser.add_argument("--checkpoint", "--diception_path", dest="checkpoint", metavar="PTH",
                            help="the published DICEPTION_v1.pth")  # fmt: skip
        parser.add_argument("--model", metavar="DIR", help="an existing model folder to add prompts to")
        parser.add_argument("--out", required=True, metavar="DIR", help="the model folder to write")
        parser.add_argument("--with-text-encoders", action="store_true",
                            help="keep SD3's text encoders (any prompt works; T5 alone is ~9 GB)")  # fmt: skip
        example = tasks.SEMANTIC.full_prompt("traffic cone")
        parser.add_argument("--add-prompt", action="append", default=[], metavar="TEXT",
                            help=f"a prompt to cache, e.g. '{example}' (repeatable)")  # fmt: skip
        parser.add_argument("--dtype", choices=DTYPE_NAMES,
                            help="dtype of the saved weights (default: bfloat16, the published weights' dtype; with "
                            "--model, the folder's own)")  # fmt: skip
        parser.add_argument(
            "--trust-checkpoint",
            "--trust_checkpoint",
            dest="trust_checkpoint",
            action="store_true",
            help="unpickle a checkpoint that holds Python objects besides tensors (unsafe)",
        )
        parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
        parser.add_argument("--quiet", action="store_true", help="no loading bars")

    def run(self) -> int:
        args = self.args
        out = Path(args.out)
        for prompt in args.add_prompt:
            tasks.resolve_request(prompt=prompt)  # a prompt must name a task
        if bool(args.checkpoint) == bool(args.model):
            raise DiceptionInputError("pass --checkpoint PTH (convert) or --model DIR (add prompts), exactly one")
        in_place = args.model is not None and out.resolve() == Path(args.model).resolve()
        if out.exists() and not (args.overwrite or in_place):
            raise DiceptionInputError(f"'{out}' already exists; pass --overwrite to replace it")
        from ..pipelines import DiceptionPipeline

        configure_progress(args.quiet)
        dtype = torch_dtype(args.dtype or "bfloat16")
        with quiet_dtype_deprecation():
            if args.checkpoint:
                pipe = DiceptionPipeline.from_official(args.sd3, args.checkpoint, torch_dtype=dtype,
                                                       with_text_encoders=args.with_text_encoders,
                                                       extra_prompts=args.add_prompt,
                                                       trust_checkpoint=args.trust_checkpoint)  # fmt: skip
            else:
                pipe = self.extend(Path(args.model), Path(args.sd3))
        replace_folder_atomically(out, pipe.save_pretrained)
        print(f"wrote {out} ({len(pipe.prompt_cache)} cached prompts"
              f"{', with text encoders' if pipe.has_text_encoders else ''})")  # fmt: skip
        return 0

    def extend(self, model: Path, sd3: Path) -> DiceptionPipeline:
        """An existing model with ``--add-prompt`` prompts cached (and the text encoders, if asked)."""
        from ..pipelines import DiceptionPipeline
        from ..pipelines.published_loader import build_prompt_cache, fastest_device, free_memory, load_text_components

        args = self.args
        if not args.add_prompt and not args.with_text_encoders:
            raise DiceptionInputError(
                "--model given but nothing to add; pass --add-prompt TEXT or --with-text-encoders"
            )
        dtype = torch_dtype(args.dtype) if args.dtype else _saved_dtype(model)
        text = load_text_components(sd3, dtype)
        new = [p for p in args.add_prompt if p not in _cached_prompts(model)]
        added = build_prompt_cache(text, new, device=fastest_device()) if new else None  # before the model loads
        if not args.with_text_encoders:
            text = {}
            free_memory()
        pipe = DiceptionPipeline.from_pretrained(model, torch_dtype=dtype)
        if added is not None:
            pipe.register_modules(prompt_cache=pipe.prompt_cache.merged_with(added))
        if args.with_text_encoders:
            pipe.register_modules(**text)
        return pipe


def _cached_prompts(model: Path) -> set[str]:
    """The prompts a model folder caches, read from its config (without loading it)."""
    import json

    config = model / "prompt_cache" / "config.json"
    return set(json.loads(config.read_text()).get("prompts", [])) if config.is_file() else set()


def _saved_dtype(model: Path):
    """The dtype a model folder's transformer weights are stored in (float32 when it cannot be told)."""
    import torch
    from safetensors import safe_open

    stored = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}
    for path in sorted((model / "transformer").glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as weights:
            names = list(weights.keys())
            if names:
                return stored.get(weights.get_slice(names[0]).get_dtype(), torch.float32)
    return torch.float32
