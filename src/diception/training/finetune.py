"""Teach a DICEPTION model a new task from a few example pairs with LoRA: ``diception finetune``.

The paper's recipe (Sec. 5): rank-128 LoRA on every attention Q, K and V projection, AdamW at 2e-5, batch 8, on
about 50 examples. The base model stays frozen; the new task's prompt is encoded by the model folder's text
encoders when it keeps them, and otherwise learned with the adapter, starting from the nearest cached prompt's
embedding (or the empty prompt's). The result is an adapter folder (:mod:`diception.pipelines.task_adapter`)
that ``DiceptionPipeline.load_adapter`` and ``--adapter DIR`` load; its card records the data size, the steps,
the trainable share and the task's metric on the evaluation pairs before and after.
"""

from __future__ import annotations

import difflib
import re
import time
from dataclasses import dataclass
from pathlib import Path

from .. import tasks
from ..data.pairs import pair_samples, read_pairs
from ..errors import DiceptionInputError
from ..jobs.job import DEFAULT_SEED
from ..tasks.user_tasks import make_task
from .config import DataConfig, LoraConfig, ModelConfig, OptimConfig, TrainConfig

PAPER_RANK = 128
TARGETS = {"image": ["to_q", "to_k", "to_v"], "context": ["add_q_proj", "add_k_proj", "add_v_proj"]}
HEADLINE = {"grey": "abs_rel", "mask": "iou", "rgb": "psnr"}  # the one metric a card reports per kind


@dataclass
class FinetuneSettings:
    """One ``diception finetune`` run (the command's flags)."""

    data: str
    task_name: str
    prompt: str
    kind: str
    model: str
    out: str
    rank: int | None = None  # None: the paper's 128, or a quarter of the transformer's width if that is smaller
    targets: tuple[str, ...] = ("image", "context")
    steps: int = 300
    lr: float = 2e-5
    batch_size: int = 8
    seed: int = 0
    eval_data: str | None = None  # held-out pairs for the before/after metric (default: the training pairs)
    init_prompt: str | None = None  # the cached prompt a learned embedding starts from (default: the nearest)
    num_inference_steps: int | None = None  # sampling for the before/after metric (default: the model's)
    gradient_checkpointing: bool = False  # recompute blocks in backward (a 2 B model at 768 px needs it)
    resolution: int | None = None  # training and evaluation side in pixels (default: the model's)


@dataclass
class FinetuneResult:
    folder: Path
    metric: str
    before: float
    after: float
    trainable_fraction: float
    seconds: float
    learned_prompt: bool


def lora_targets(names: tuple[str, ...] | list[str]) -> list[str]:
    """The attention projections ``--targets image,context`` names."""
    unknown = [n for n in names if n not in TARGETS]
    if unknown or not names:
        raise DiceptionInputError(f"--targets {','.join(names)}: choose from {', '.join(TARGETS)} (comma-separated)")
    return [module for name in names for module in TARGETS[name]]


def nearest_cached_prompt(prompt: str, cached: list[str]) -> str:
    """The cached prompt whose task word is most like ``prompt``'s (``[[image2floor_mask]]`` -> ``floor_mask``),
    or the empty prompt when none is alike (ratio below 0.6)."""

    def word(text: str) -> str:
        return re.sub(r"^\[\[image2|\]\].*$", "", text)

    candidates = [c for c in cached if c]
    scores = [(difflib.SequenceMatcher(None, word(prompt), word(c)).ratio(), c) for c in candidates]
    best = max(scores, default=(0.0, ""))
    return best[1] if best[0] >= 0.6 else ""


def finetune(settings: FinetuneSettings, log=print) -> FinetuneResult:
    """Run ``settings``; returns the adapter folder and the before/after figures."""
    from ..evaluation.runner import evaluate
    from ..pipelines import DiceptionPipeline
    from ..pipelines.task_adapter import TaskAdapter, save_task_adapter, write_task_adapter_config
    from .trainer import Trainer

    started = time.perf_counter()
    task = make_task(settings.task_name, settings.prompt, settings.kind)
    if task.name in tasks.TASKS and not isinstance(tasks.TASKS[task.name], type(task)):
        raise DiceptionInputError(f"task '{task.name}' exists already; choose another --task-name")
    pairs = read_pairs(settings.data)
    held_out = read_pairs(settings.eval_data) if settings.eval_data else pairs
    base = DiceptionPipeline.from_pretrained(settings.model)
    base.set_progress_bar_config(disable=True)
    tasks.register(task, replace=True)
    learn = task.prompt not in base.prompt_cache and not base.has_text_encoders
    init = settings.init_prompt if settings.init_prompt is not None else nearest_cached_prompt(
        task.prompt, base.prompt_cache.prompts)  # fmt: skip
    if learn and init not in base.prompt_cache:
        raise DiceptionInputError(f"--init-prompt '{init}' is not cached in {settings.model}")
    width = base.transformer.config.num_attention_heads * base.transformer.config.attention_head_dim
    rank = settings.rank if settings.rank is not None else min(PAPER_RANK, max(1, width // 4))
    target_modules = lora_targets(settings.targets)
    if learn:  # the base model is scored with the embedding training starts from
        base.register_modules(prompt_cache=base.prompt_cache.with_prompt_like(task.prompt, init))
    steps = settings.num_inference_steps or base.config.default_num_inference_steps
    guidance = base.config.default_guidance_scale
    resolution = settings.resolution or base.config.default_processing_resolution

    def score(pipe) -> float:
        # the seed `diception eval` uses, so that it gives the card's figure
        result = evaluate(pair_samples(held_out, task), task, pipe=pipe, num_inference_steps=steps,
                          guidance_scale=guidance, processing_resolution=resolution, seed=DEFAULT_SEED)  # fmt: skip
        return float(result.summary[HEADLINE[task.kind]])

    metric = HEADLINE[task.kind]
    before = score(base)
    log(f"{task.name}: {metric} {before:.4f} before ({len(held_out)} evaluation pairs, {steps} sampling steps)")
    del base

    out = Path(settings.out)
    config = TrainConfig(
        output_dir=str(out / "run"), seed=settings.seed, log_every=max(1, settings.steps // 10), export=False,
        model=ModelConfig(init="pretrained", pretrained_path=settings.model, train_point_encoder=False,
                          gradient_checkpointing=settings.gradient_checkpointing,
                          lora=LoraConfig(rank=rank, target_modules=target_modules),
                          learn_prompt=task.prompt if learn else None, learn_prompt_init=init),
        data=DataConfig(kind="pairs", options={"path": str(settings.data), "task": task.name}, task_weights={},
                        resolution=resolution),
        optim=OptimConfig(lr=settings.lr, batch_size=settings.batch_size, max_steps=settings.steps),
    )  # fmt: skip
    config.validation.every = 0
    config.checkpoint.every, config.checkpoint.at_end = 0, False
    trainer = Trainer(config).setup()
    trainer.train()

    pipe = trainer.pipe
    if trainer.learned_prompt is not None:
        embeds = trainer.learned_prompt.prompt_embeds.detach()
        pooled = trainer.learned_prompt.pooled_prompt_embeds.detach()
    else:
        embeds, pooled = (t[0] for t in pipe.encode_prompt([task.prompt]))
    seconds = time.perf_counter() - started
    adapter = TaskAdapter(task.name, task.prompt, task.kind, embeds, pooled, task.description,
                          lora={"rank": rank, "alpha": rank, "target_modules": target_modules},
                          training={"pairs": len(pairs), "evaluation_pairs": len(held_out), "steps": settings.steps,
                                    "lr": settings.lr, "batch_size": settings.batch_size, "seed": settings.seed,
                                    "resolution": resolution,
                                    "base_model": str(settings.model), "learned_prompt": learn,
                                    "learned_prompt_init": init if learn else None,
                                    "trainable_fraction": trainer.trainable_fraction,
                                    f"{metric}_before": before})  # fmt: skip
    save_task_adapter(adapter, pipe.transformer, out, lora_name="default")

    tuned = DiceptionPipeline.from_pretrained(settings.model)  # the round trip a user makes
    tuned.set_progress_bar_config(disable=True)
    tuned.load_adapter(out)
    after = score(tuned)
    adapter.training[f"{metric}_after"] = after
    adapter.training["seconds"] = round(seconds, 1)
    write_task_adapter_config(adapter, out, card=_card(adapter, metric, before, after))
    log(f"{task.name}: {metric} {after:.4f} after {settings.steps} steps; adapter in {out}")
    return FinetuneResult(out, metric, before, after, trainer.trainable_fraction, seconds, learn)


def _card(adapter, metric: str, before: float, after: float) -> str:
    t = adapter.training
    return (f"# {adapter.name}\n\n{adapter.description}. Prompt `{adapter.prompt}`, kind `{adapter.kind}`.\n\n"
            f"- base model: `{t['base_model']}`\n- LoRA rank {adapter.lora['rank']} on "
            f"{', '.join(adapter.lora['target_modules'])}; trainable share {100 * t['trainable_fraction']:.2f} %\n"
            f"- {t['pairs']} training pairs, {t['steps']} steps, lr {t['lr']}, batch {t['batch_size']}, seed "
            f"{t['seed']}; prompt embedding {'learned' if t['learned_prompt'] else 'encoded by the text encoders'}\n"
            f"- {metric} on {t['evaluation_pairs']} evaluation pairs: {before:.4f} before, {after:.4f} after\n\n"
            "Load it with `DiceptionPipeline.load_adapter(DIR)` or `--adapter DIR`.\n")  # fmt: skip


RECIPE_KEYS = ("rank", "targets", "steps", "lr", "batch_size", "seed", "gradient_checkpointing", "resolution")


def read_recipe(path: str | Path) -> dict:
    """A finetune recipe YAML (``configs/fewshot_sd3_medium.yaml``): values for the keys of :data:`RECIPE_KEYS`."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise DiceptionInputError(f"--config '{path}' cannot be read as YAML ({err})") from None
    unknown = sorted(set(data) - set(RECIPE_KEYS)) if isinstance(data, dict) else ["(not a mapping)"]
    if unknown:
        raise DiceptionInputError(f"--config '{path}': unknown key(s) {', '.join(unknown)}; valid: "
                                  f"{', '.join(RECIPE_KEYS)}")  # fmt: skip
    if isinstance(data.get("targets"), list):
        data["targets"] = ",".join(data["targets"])
    return data
