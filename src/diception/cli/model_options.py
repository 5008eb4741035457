"""Options shared by ``predict`` and ``batch``: which model to load, on which device, and how to sample."""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..bundled import bundled_model_path, has_bundled_model
from ..errors import DiceptionInputError
from ..jobs import SamplingSettings
from ..jobs.job import DEFAULT_SEED

if TYPE_CHECKING:
    import torch

    from ..pipelines import DiceptionPipeline

DTYPE_NAMES = ("float32", "bfloat16", "float16")
FAST_STEPS, FAST_GUIDANCE = 1, 1.0  # --fast: one Euler step without CFG (near-full quality for depth/normal)


@dataclass(frozen=True)
class ModelSource:
    """Where the weights come from: a converted DICEPTION folder, or SD3's folder plus the published .pth."""

    model_dir: Path | None = None
    sd3_dir: Path | None = None
    checkpoint: Path | None = None


def torch_dtype(name: str) -> torch.dtype:
    """The torch dtype called ``name`` (one of :data:`DTYPE_NAMES`)."""
    import torch

    return getattr(torch, name)


def default_device() -> torch.device:
    """CUDA, else MPS, else the CPU."""
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def default_dtype(device: torch.device | str) -> torch.dtype:
    """bf16 on CUDA (the published setting), fp16 on MPS, fp32 on CPU (bf16 is 4-25x slower on CPUs without
    bf16 hardware)."""
    import torch

    kind = torch.device(device).type
    return {"cuda": torch.bfloat16, "mps": torch.float16}.get(kind, torch.float32)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--model DIR`` or the published pair ``--pretrained_model_path SD3_DIR --diception_path PTH``."""
    group = parser.add_argument_group("model (a converted folder, or SD3 plus the published checkpoint)")
    group.add_argument("--model", metavar="DIR", help="DICEPTION model folder written by `diception convert`")
    group.add_argument("--pretrained_model_path", "--sd3", dest="sd3", metavar="SD3_DIR",
                       help="stable-diffusion-3-medium-diffusers folder (with --diception_path)")  # fmt: skip
    group.add_argument("--diception_path", "--checkpoint", dest="checkpoint", metavar="PTH",
                       help="the published DICEPTION_v1.pth (with --pretrained_model_path)")  # fmt: skip
    group.add_argument("--trust-checkpoint", "--trust_checkpoint", dest="trust_checkpoint", action="store_true",
                       help="unpickle a checkpoint that holds Python objects besides tensors (unsafe; only for "
                       "files you trust)")  # fmt: skip
    group.add_argument("--adapter", metavar="DIR", action="append", default=[],
                       help="a task adapter from `diception finetune` (repeatable): its task becomes a "
                       "--task")  # fmt: skip


def add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    """Steps, guidance, seed, batching, device, dtype and output verbosity."""
    group = parser.add_argument_group("sampling (defaults: the model's config)")
    group.add_argument("--steps", "--num_inference_steps", dest="steps", type=int, metavar="N",
                       help="Euler steps (default: the model's, 28 as published)")  # fmt: skip
    group.add_argument("--guidance", "--guidance_scale", dest="guidance", type=float, metavar="G",
                       help="classifier-free guidance scale; 1.0 disables CFG (default: the model's, 2.0)")  # fmt: skip
    group.add_argument("--fast", action="store_true",
                       help=f"{FAST_STEPS} step, guidance {FAST_GUIDANCE} (--steps/--guidance win)")  # fmt: skip
    group.add_argument("--processing-resolution", "--processing_resolution", dest="resolution", type=int,
                       metavar="R", help="square side images are resized to; 0 keeps the input size (default: "
                       "the model's, 768)")  # fmt: skip
    group.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"noise seed per batch (default {DEFAULT_SEED})")
    group.add_argument("--batch-size", "--batch_size", dest="batch_size", type=int, default=1, metavar="B",
                       help="images per pipeline call (default 1)")  # fmt: skip
    group.add_argument("--device", help="torch device (default: cuda, else mps, else cpu)")
    group.add_argument("--dtype", choices=DTYPE_NAMES,
                       help="weight dtype (default: bfloat16 on cuda, float16 on mps, float32 on cpu)")  # fmt: skip
    group.add_argument("--quiet", action="store_true", help="no progress bars or per-image notes")


def add_shard_argument(parser: argparse.ArgumentParser) -> None:
    """``--shard INDEX/COUNT``: this machine's share of the records (combined with accelerate's processes)."""
    parser.add_argument("--shard", metavar="INDEX/COUNT",
                        help="do only records j with j %% COUNT == INDEX (e.g. a SLURM array task); under "
                        "`accelerate launch` the processes split the shard further")  # fmt: skip


def resolve_model_source(args: argparse.Namespace) -> ModelSource:
    """The weights to load from the parsed flags: ``--model``, the published pair, or else the bundled model."""
    if args.model and (args.sd3 or args.checkpoint):
        raise DiceptionInputError("pass either --model DIR or --pretrained_model_path with --diception_path, not both")
    if args.model:
        return ModelSource(model_dir=Path(args.model))
    if args.sd3 and args.checkpoint:
        return ModelSource(sd3_dir=Path(args.sd3), checkpoint=Path(args.checkpoint))
    if args.sd3 or args.checkpoint:
        missing = "--diception_path PTH" if args.sd3 else "--pretrained_model_path SD3_DIR"
        raise DiceptionInputError(f"the published weights need both folders; add {missing}")
    if has_bundled_model():
        return ModelSource(model_dir=bundled_model_path())
    raise DiceptionInputError(
        "no model given and no bundled model installed; pass --model DIR (a folder from `diception convert`) or "
        "--pretrained_model_path SD3_DIR --diception_path DICEPTION_v1.pth"
    )


def sampling_settings(args: argparse.Namespace) -> SamplingSettings:
    """Apply ``--fast`` and check the numbers; unset values stay ``None`` for the model's defaults."""
    steps, guidance = args.steps, args.guidance
    if args.fast:
        steps = FAST_STEPS if steps is None else steps
        guidance = FAST_GUIDANCE if guidance is None else guidance
    if steps is not None and steps < 1:
        raise DiceptionInputError(f"--steps must be at least 1, got {steps}")
    if args.batch_size < 1:
        raise DiceptionInputError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.resolution is not None and args.resolution < 0:
        raise DiceptionInputError(f"--processing-resolution must be >= 0, got {args.resolution}")
    return SamplingSettings(steps, guidance, args.resolution, args.seed, args.batch_size)


def resolve_device(name: str | None) -> torch.device:
    """``--device`` or the best available device, checked to exist."""
    import torch

    from ..jobs.shards import launched_processes, process_state

    if name is None and launched_processes()[1] > 1:  # one device per process of an accelerate launch
        return process_state().device
    if name is None:
        return default_device()
    try:
        device = torch.device(name)
    except RuntimeError:
        raise DiceptionInputError(f"--device '{name}' is not a torch device; use cpu, cuda, cuda:1 or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DiceptionInputError("--device cuda: no CUDA device is available; use --device cpu")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise DiceptionInputError("--device mps: MPS is not available; use --device cpu")
    return device


def configure_progress(quiet: bool) -> None:
    """Loading bars of diffusers/transformers off when quiet or when stderr is not a terminal."""
    import diffusers.utils.logging as diffusers_logging
    import transformers.utils.logging as transformers_logging

    off = quiet or not sys.stderr.isatty()
    for module in (diffusers_logging, transformers_logging):
        module.disable_progress_bar() if off else module.enable_progress_bar()
        if quiet:
            module.set_verbosity_error()


@contextlib.contextmanager
def quiet_dtype_deprecation():
    """Hide diffusers' ``torch_dtype`` FutureWarning (newer releases spell it ``dtype``; older ones need it)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`torch_dtype` is deprecated", category=FutureWarning)
        yield


def load_pipeline(args: argparse.Namespace, prompts: Sequence[str] = ()) -> DiceptionPipeline:
    """Load the model the flags name onto ``--device`` in ``--dtype``; ``prompts`` are cached when converting
    from the published weights."""
    from ..pipelines import DiceptionPipeline

    source = resolve_model_source(args)
    device = resolve_device(args.device)
    dtype = torch_dtype(args.dtype) if args.dtype else default_dtype(device)
    configure_progress(args.quiet)
    with quiet_dtype_deprecation():
        if source.model_dir is not None:
            pipe = DiceptionPipeline.from_pretrained(source.model_dir, torch_dtype=dtype)
        else:
            pipe = DiceptionPipeline.from_official(source.sd3_dir, source.checkpoint, torch_dtype=dtype,
                                                   extra_prompts=list(prompts),
                                                   trust_checkpoint=args.trust_checkpoint)  # fmt: skip
    pipe.set_progress_bar_config(disable=True if args.quiet else None, leave=False)
    for folder in getattr(args, "adapter", []):
        pipe.load_adapter(folder)
    return pipe.to(device)


def check_prompt_available(pipe: DiceptionPipeline, prompt: str) -> None:
    """Fail early for a prompt the model can neither look up nor encode."""
    from ..pipelines.prompt_cache import uncached_prompt_error

    if prompt not in pipe.prompt_cache and not pipe.has_text_encoders:
        raise uncached_prompt_error(prompt, pipe.prompt_cache.prompts)


def register_adapter_tasks(argv: Sequence[str]) -> None:
    """Register the tasks of the ``--adapter DIR`` folders on a command line before it is parsed, so that their
    names are valid ``--task`` choices (the LoRA weights load with the model)."""
    folders = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--adapter"]
    folders += [arg.split("=", 1)[1] for arg in argv if arg.startswith("--adapter=")]
    if not folders:
        return
    from .. import tasks
    from ..pipelines.task_adapter import read_task_adapter
    from ..tasks.user_tasks import is_taught

    for folder in folders:
        task = read_task_adapter(folder).task()
        existing = tasks.TASKS.get(task.name)
        if existing is None or is_taught(existing):
            tasks.register(task, replace=True)
        else:
            raise DiceptionInputError(f"adapter '{folder}' teaches a task named '{task.name}', which is a built-in "
                                      "task; finetune it again under another --task-name")  # fmt: skip
