"""Training configuration: typed dataclasses, YAML files with ``base:`` inheritance, ``--set key=value`` overrides.

A YAML file holds the same nested keys as :class:`TrainConfig`. ``base: other.yaml`` (relative to the file) is
loaded first and the file's keys are deep-merged over it; command-line ``--set optim.lr=1e-4`` overrides come
last (values are parsed as YAML, so ``1e-4``, ``true``, ``[a, b]`` and ``{depth: 1}`` work).

Every value is checked before anything trains, each problem one :class:`~diception.errors.DiceptionInputError`
naming the key: YAML syntax, the type of each key and of each list or dict element, finite numbers, whole numbers
>= 0 (all are counts, sizes, steps or seeds), and the ranges :meth:`TrainConfig.check` gives.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import DiceptionInputError

INIT_MODES = ("sd3", "official", "pretrained", "scratch")
DATA_KINDS = ("synthetic", "scene_captions", "manifest", "pairs", "python")
LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0", "add_q_proj", "add_k_proj", "add_v_proj", "to_add_out"]


@dataclass
class LoraConfig:
    rank: int = 0  # 0: full fine-tune of the transformer; > 0: train only LoRA adapters of this rank
    alpha: float | None = None  # LoRA scale numerator; None = rank (scale 1)
    dropout: float = 0.0  # dropout inside the LoRA branch
    target_modules: list[str] = field(default_factory=lambda: list(LORA_TARGETS))  # SD3 attention projections


@dataclass
class ModelConfig:
    init: str = "sd3"  # sd3 | official | pretrained | scratch (see diception.training.model_init)
    sd3_path: str | None = None  # SD3 diffusers folder (init sd3 and official)
    official_checkpoint: str | None = None  # published DICEPTION_v1.pth (init official)
    trust_checkpoint: bool = False  # unpickle a checkpoint holding Python objects besides tensors (unsafe)
    pretrained_path: str | None = None  # a DICEPTION model folder to continue training (init pretrained)
    transformer: dict[str, Any] = field(default_factory=dict)  # scratch: DiceptionTransformer arguments
    point_encoder: dict[str, Any] = field(default_factory=dict)  # new encoders: PointPromptEncoder args (not embed_dim)
    vae_path: str | None = None  # scratch: an AutoencoderKL folder; None builds one from `vae_kind` and `vae`
    vae_kind: str = "kl"  # scratch: kl (AutoencoderKL) | pixel_shuffle (parameter-free, exact, fast on CPU)
    vae: dict[str, Any] = field(default_factory=dict)  # scratch: arguments of that autoencoder
    vae_pretrain_steps: int = 0  # scratch: fit the fresh VAE as an autoencoder for this many steps first
    vae_pretrain_lr: float = 1e-3  # learning rate of that fit
    scheduler_shift: float = 3.0  # scratch: FlowMatchEulerDiscreteScheduler shift (SD3-medium uses 3.0)
    prompt_length: int = 8  # scratch: text rows per prompt in the random prompt cache
    prompt_seed: int = 0  # scratch: seeds each prompt's random embedding (with the prompt's text)
    prompt_embedding: str = "whole"  # scratch: whole (one random draw per prompt) | words (one per word, shared
    # between prompts: captions of text-to-image pretraining are made of words)
    extra_prompts: list[str] = field(default_factory=list)  # prompts to cache beyond the registry's and the data's
    point_order: str = "xy"  # new pipelines: which point coordinate the model reads first (pipeline config)
    train_transformer: bool = True  # update the transformer (fully, or its LoRA adapters when lora.rank > 0)
    train_point_encoder: bool = True  # update the point encoder
    gradient_checkpointing: bool = False  # recompute transformer blocks in backward (saves memory, ~30 % slower)
    learn_prompt: str | None = None  # a prompt the model cannot encode (no text encoders): its embedding trains
    # with the rest, starting from learn_prompt_init's (a cached prompt; "" = the empty prompt)
    learn_prompt_init: str = ""
    lora: LoraConfig = field(default_factory=LoraConfig)


@dataclass
class DataConfig:
    kind: str = "synthetic"  # synthetic | manifest | pairs | python (see diception.training.datasets)
    options: dict[str, Any] = field(default_factory=dict)  # keyword arguments of the dataset's constructor
    factory: str | None = None  # kind python: "package.module:function" returning a dataset
    validation_options: dict[str, Any] = field(default_factory=dict)  # merged over `options` for validation
    resolution: int = 768  # square training side in pixels (multiple of 8 x patch size)
    task_weights: dict[str, float] = field(default_factory=dict)  # task -> sampling weight (unnamed tasks: 0);
    # {} = every sample equally likely (the dataset's own mix)
    min_points: int = 1  # point tasks: fewest points given to the model
    max_points: int = 5  # point tasks: most points given (<= the model's 5 slots)
    num_workers: int = 0  # DataLoader worker processes
    latent_cache: bool = False  # synthetic kinds with options.scene_cache: VAE-encode the bank's pictures once into
    # the cache folder (diception.training.latent_cache) instead of every step


@dataclass
class ObjectiveConfig:
    logit_mean: float = 0.0  # logit-normal sigma sampling: mean of the normal (SD3: 0)
    logit_std: float = 1.0  # and its standard deviation (SD3: 1)
    max_noise_fraction: float = 0.0  # share of samples trained at the highest noise level, where one-step
    # sampling starts (SD3 and the paper: 0)
    prompt_dropout: float = 0.1  # probability of training a sample unconditionally ("" prompt, zero points)
    generative: bool = False  # text-to-image pretraining (data.kind scene_captions): the transformer draws the
    # picture from its caption, with no condition image and no point tokens (plain SD3)


@dataclass
class OptimConfig:
    lr: float = 2e-5  # AdamW learning rate (paper: 2e-5)
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])  # AdamW betas
    weight_decay: float = 1e-2  # AdamW weight decay
    eps: float = 1e-8  # AdamW epsilon
    lr_scheduler: str = "constant"  # diffusers.optimization.get_scheduler name: constant, constant_with_warmup, linear
    warmup_steps: int = 0  # warm-up optimizer steps of the schedule
    max_grad_norm: float = 1.0  # gradient clipping (0 disables)
    batch_size: int = 28  # samples per device per micro-batch (paper: 28 per GPU)
    gradient_accumulation_steps: int = 1  # micro-batches per optimizer step
    max_steps: int = 30000  # optimizer steps in total


@dataclass
class EmaConfig:
    enabled: bool = False  # keep an exponential moving average of the trainable weights (exported if on)
    decay: float = 0.9999  # EMA decay
    update_after_step: int = 0  # start averaging after this many steps (the decay then ramps up as
    # min(decay, (1 + t) / (10 + t)), diffusers EMAModel's default)


@dataclass
class CheckpointConfig:
    every: int = 1000  # save the full training state every this many optimizer steps (0: only at the end)
    keep: int = 3  # keep the last K checkpoints
    resume: str | None = None  # "latest", a checkpoint folder, or None (start fresh)
    at_end: bool = True  # also save one when training ends (resumable with a larger optim.max_steps)


@dataclass
class ValidationConfig:
    every: int = 1000  # validate every this many optimizer steps (0: never; always at the end if > 0)
    num_samples: int = 6  # fixed validation samples, spread over the tasks
    num_inference_steps: int = 4  # sampler steps at validation
    guidance_scale: float = 1.0  # CFG scale at validation (1: off)


PARALLEL_STRATEGIES = ("ddp", "fsdp")


@dataclass
class ParallelConfig:
    strategy: str = "ddp"  # ddp: a whole copy per GPU | fsdp: weights, gradients and AdamW states sharded over
    # the GPUs (accelerate's FSDP2); with one process both are plain single-device training
    fsdp_reshard_after_forward: bool = True  # fsdp: free gathered block weights after forward (ZeRO-3); false
    # keeps them to backward (ZeRO-2-like: faster, more memory)
    fsdp_cpu_offload: bool = False  # fsdp: keep the shards (and AdamW states) in CPU memory between uses


@dataclass
class TrainConfig:
    output_dir: str = "runs/diception"  # run folder: logs, checkpoints, validation sheets, final model
    seed: int = 0  # seeds the model init, the data order and the noise
    mixed_precision: str = "auto"  # auto (bf16 on CUDA, no on CPU) | no | bf16 | fp16
    log_every: int = 10  # console and metrics.jsonl line every this many optimizer steps
    export: bool = True  # save the final pipeline to <output_dir>/model (EMA weights if EMA is on)
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    ema: EmaConfig = field(default_factory=EmaConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    parallel: ParallelConfig = field(default_factory=ParallelConfig)

    def check(self) -> None:
        """Raise :class:`DiceptionInputError` naming the first inconsistent setting and its fix."""
        if self.model.init not in INIT_MODES:
            raise DiceptionInputError(f"model.init={self.model.init!r}; choose one of {', '.join(INIT_MODES)}")
        if self.model.vae_kind not in ("kl", "pixel_shuffle"):
            raise DiceptionInputError(f"model.vae_kind={self.model.vae_kind!r}; choose kl or pixel_shuffle")
        if self.data.kind not in DATA_KINDS:
            raise DiceptionInputError(f"data.kind={self.data.kind!r}; choose one of {', '.join(DATA_KINDS)}")
        if self.objective.generative != (self.data.kind == "scene_captions"):
            raise DiceptionInputError("objective.generative=true goes with data.kind=scene_captions (captions to "
                                      "draw from), and only with it")  # fmt: skip
        if self.data.latent_cache and (self.data.kind not in ("synthetic", "scene_captions")
                                       or not self.data.options.get("scene_cache")):  # fmt: skip
            raise DiceptionInputError("data.latent_cache=true needs data.kind synthetic or scene_captions with "
                                      "data.options.scene_cache (the bank whose pictures it encodes)")  # fmt: skip
        if self.data.kind == "python" and not self.data.factory:
            raise DiceptionInputError("data.kind=python needs data.factory='package.module:function'")
        if not 1 <= self.data.min_points <= self.data.max_points <= 5:
            raise DiceptionInputError("need 1 <= data.min_points <= data.max_points <= 5")
        if not 0.0 <= self.objective.prompt_dropout <= 1.0:
            raise DiceptionInputError(f"objective.prompt_dropout={self.objective.prompt_dropout} must be in [0, 1]")
        if self.optim.batch_size < 1 or self.optim.gradient_accumulation_steps < 1 or self.optim.max_steps < 1:
            raise DiceptionInputError("optim.batch_size, gradient_accumulation_steps and max_steps must be >= 1")
        if self.mixed_precision not in ("auto", "no", "bf16", "fp16"):
            raise DiceptionInputError(f"mixed_precision={self.mixed_precision!r}; choose auto, no, bf16 or fp16")
        if self.parallel.strategy not in PARALLEL_STRATEGIES:
            raise DiceptionInputError(f"parallel.strategy={self.parallel.strategy!r}; choose ddp or fsdp")
        if self.parallel.strategy == "fsdp" and self.ema.enabled:
            raise DiceptionInputError("ema.enabled=true is not supported with parallel.strategy=fsdp (the average "
                                      "would be sharded too); turn EMA off or train with ddp")  # fmt: skip
        if not (self.model.train_transformer or self.model.train_point_encoder):
            raise DiceptionInputError("nothing to train: set model.train_transformer or model.train_point_encoder")
        self._check_ranges()

    def _check_ranges(self) -> None:
        """Numbers within the range they make sense in; ``optim.lr_scheduler`` a schedule diffusers has."""
        for name, value, low in (
            ("log_every", self.log_every, 1),
            ("checkpoint.keep", self.checkpoint.keep, 1),
            ("data.resolution", self.data.resolution, 1),
            ("model.prompt_length", self.model.prompt_length, 1),
            ("validation.num_inference_steps", self.validation.num_inference_steps, 1),
        ):
            if value < low:
                raise DiceptionInputError(f"{name}={value} must be at least {low}")
        for name, value in (
            ("optim.lr", self.optim.lr),
            ("optim.weight_decay", self.optim.weight_decay),
            ("optim.eps", self.optim.eps),
            ("optim.max_grad_norm", self.optim.max_grad_norm),
            ("objective.logit_std", self.objective.logit_std),
            ("model.vae_pretrain_lr", self.model.vae_pretrain_lr),
            ("model.scheduler_shift", self.model.scheduler_shift),
            ("validation.guidance_scale", self.validation.guidance_scale),
        ):
            if value < 0:
                raise DiceptionInputError(f"{name}={value} must not be negative")
        for name, value in (
            ("objective.max_noise_fraction", self.objective.max_noise_fraction),
            ("ema.decay", self.ema.decay),
            ("model.lora.dropout", self.model.lora.dropout),
        ):
            if not 0.0 <= value <= 1.0:
                raise DiceptionInputError(f"{name}={value} must be in [0, 1]")
        if len(self.optim.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.optim.betas):
            raise DiceptionInputError(f"optim.betas={self.optim.betas} must be two numbers in [0, 1): [0.9, 0.999]")
        if any(w < 0 for w in self.data.task_weights.values()):
            raise DiceptionInputError(f"data.task_weights {self.data.task_weights} must not be negative")
        if self.model.lora.alpha is not None and self.model.lora.alpha <= 0:
            raise DiceptionInputError(f"model.lora.alpha={self.model.lora.alpha} must be positive (or null: the rank)")
        from diffusers.optimization import SchedulerType

        schedules = [kind.value for kind in SchedulerType]
        if self.optim.lr_scheduler not in schedules:
            raise DiceptionInputError(f"optim.lr_scheduler={self.optim.lr_scheduler!r}; choose one of "
                                      f"{', '.join(schedules)}")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------------------------- loading
def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override``'s keys laid over it, recursively for nested mappings."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_yaml(path: str | os.PathLike, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A YAML config with its ``base:`` chain resolved (bases are relative to the file that names them)."""
    path = Path(path).resolve()
    if path in _seen:
        raise DiceptionInputError(f"config {path} inherits from itself (base: chain {' -> '.join(map(str, _seen))})")
    if not path.is_file():
        raise DiceptionInputError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError:
        raise DiceptionInputError(f"config {path} is not UTF-8 text; save it as UTF-8") from None
    except (yaml.YAMLError, RecursionError) as err:
        raise DiceptionInputError(f"config {path}{_yaml_line(err)}: invalid YAML ({_yaml_problem(err)})") from None
    if not isinstance(data, Mapping):
        raise DiceptionInputError(f"config {path} must be a mapping of keys, got {type(data).__name__}")
    base = data.pop("base", None)
    if base is None:
        return dict(data)
    if not isinstance(base, str) or not base.strip():
        raise DiceptionInputError(f"config {path}: base: {base!r:.60} must name a YAML file, e.g. base: base.yaml")
    return deep_merge(read_yaml(path.parent / base, (*_seen, path)), data)


def parse_override(text: str) -> dict[str, Any]:
    """``"optim.lr=1e-4"`` -> ``{"optim": {"lr": 1e-4}}`` (the value parsed as YAML)."""
    key, sep, value = text.partition("=")
    parts = key.strip().split(".")
    if not sep or not all(p.strip() for p in parts):
        raise DiceptionInputError(f"override {text!r} must look like section.key=value, e.g. optim.lr=1e-4")
    try:
        nested: Any = yaml.safe_load(value) if value.strip() else None
    except (yaml.YAMLError, RecursionError) as err:
        raise DiceptionInputError(f"override {text!r}: the value is not valid YAML ({_yaml_problem(err)}); quote "
                                  "a text value: key='...'") from None  # fmt: skip
    for part in reversed(parts):
        nested = {part.strip(): nested}
    return nested


def _yaml_line(err: BaseException) -> str:
    mark = getattr(err, "problem_mark", None)
    return f":{mark.line + 1}" if mark is not None else ""


def _yaml_problem(err: BaseException) -> str:
    if isinstance(err, RecursionError):
        return "nested too deeply"
    return str(getattr(err, "problem", None) or (str(err).splitlines() or [type(err).__name__])[0])


def config_from_dict(data: Mapping[str, Any]) -> TrainConfig:
    """A checked :class:`TrainConfig` from nested mappings; unknown keys are errors that list the valid ones."""
    config = _build(TrainConfig, data, "")
    config.check()
    return config


def load_config(path: str | os.PathLike | None = None, overrides: Sequence[str] = (), **top_level: Any) -> TrainConfig:
    """Read a YAML config (or the defaults), apply ``--set`` overrides, then keyword top-level overrides."""
    data = read_yaml(path) if path is not None else {}
    for text in overrides:
        data = deep_merge(data, parse_override(text))
    data = deep_merge(data, {k: v for k, v in top_level.items() if v is not None})
    return config_from_dict(data)


def _build(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, Mapping):
        raise DiceptionInputError(f"config section '{prefix or 'top level'}' must be a mapping, got {data!r:.60}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    where = f"section '{prefix}'" if prefix else "the top level"
    if any(not isinstance(key, str) for key in data):
        key = next(k for k in data if not isinstance(k, str))
        raise DiceptionInputError(f"config key {key!r:.40} in {where} is not text; valid: {', '.join(fields)}")
    unknown = [key if key.isprintable() else repr(key) for key in sorted(set(data) - set(fields))]
    if unknown:
        raise DiceptionInputError(f"unknown config key(s) {', '.join(unknown)} in {where}; valid: {', '.join(fields)}")
    values = {}
    for name, value in data.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = _build(hint, value, f"{prefix}{name}.")
        else:
            values[name] = _coerce(value, hint, f"{prefix}{name}")
    return cls(**values)


def _coerce(value: Any, hint: Any, name: str) -> Any:
    """``value`` as type ``hint`` (elements of lists and dicts too): whole numbers are never negative (every one
    is a count, a size, a step or a seed) nor beyond 64 bits, numbers are finite."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is float and not isinstance(value, bool):
        try:  # YAML reads 1e-4 (no dot) as a string
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            pass
        else:
            if not math.isfinite(number):
                raise DiceptionInputError(f"config key '{name}' must be a finite number, got {value!r:.60}")
            return number
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 2**63:
            raise DiceptionInputError(f"config key '{name}' must be a whole number from 0 to 2**63 - 1, got {value}")
        return value
    expected = origin or hint
    if expected is Any or (isinstance(value, expected) and expected is not int):
        if expected is list and args:
            return [_coerce(item, args[0], f"{name}[{i}]") for i, item in enumerate(value)]
        if expected is dict and args:
            return {_coerce(k, args[0], f"{name} key"): _coerce(v, args[1], f"{name}.{k}") for k, v in value.items()}
        return value
    raise DiceptionInputError(
        f"config key '{name}' must be {getattr(expected, '__name__', expected)}, got {value!r:.60}"
    )
