"""The DICEPTION training loop (accelerate): one code path for a laptop CPU and for many GPUs.

``train(config)`` builds the model (:mod:`.model_init`), the data stream (:mod:`.batching`), AdamW with a
diffusers LR schedule, optional EMA and LoRA, and runs optimizer steps of ``gradient_accumulation_steps``
micro-batches. The run folder (``output_dir``) receives::

    config.yaml            the resolved configuration
    metrics.jsonl          one line per log interval: step, loss, loss/<task>, lr, seconds per step
    validation.jsonl       one line per validation: step and metrics per task
    validation/step_*.png  contact sheets (input | target | prediction)
    checkpoints/checkpoint-<step>/   accelerate state (model, optimizer, LR schedule, EMA, RNG) + train_state.json
    vae/                   the fitted VAE of a from-scratch model (model.vae_pretrain_steps > 0)
    lora/                  the LoRA adapter (model.lora.rank > 0)
    model/                 the final pipeline (DiceptionPipeline.from_pretrained loads it)

Multi-device runs go through ``accelerate launch``: DDP by default, FSDP with ``parallel.strategy: fsdp``
(:mod:`.sharding`; validation and export then gather the shards into a whole copy on the main process). Each
process draws its own samples and noise from ``(seed, rank, step)``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import yaml
from accelerate import Accelerator
from accelerate.utils import DistributedDataParallelKwargs, set_seed
from diffusers import AutoencoderKL
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader

from .. import tasks
from ..atomic_files import replace_folder_atomically, write_atomically
from ..errors import DiceptionInputError
from .autoencoder_fit import fit_autoencoder
from .batching import Collator, ExampleOptions, TaskMixtureSampler, TrainingExamples, sample_prompts, step_seed
from .config import LoraConfig, TrainConfig
from .datasets import build_dataset
from .denoiser import DiceptionDenoiser, LearnedPrompt
from .flow_matching import noisy_latents, per_sample_loss, sample_sigmas, training_scheduler, velocity_target
from .generative_prior import GENERATION_TASK, generate_pictures, generation_sheet
from .latent_cache import dataset_latents
from .lora import add_lora, merge_lora, save_lora
from .model_init import initial_pipeline
from .sharding import fsdp_plugin, gathered_denoiser, is_sharded
from .validation import contact_sheet, predict_examples, summarise, validation_examples

logger = logging.getLogger(__name__)

CHECKPOINT_PREFIX = "checkpoint-"
STATE_FILE = "train_state.json"


def find_checkpoint(output_dir: str | Path, resume: str) -> Path | None:
    """The checkpoint ``resume`` names: ``"latest"`` (None when the run has none yet) or a folder."""
    if resume != "latest":
        path = Path(resume)
        if not (path / STATE_FILE).is_file():
            raise DiceptionInputError(f"'{path}' is not a training checkpoint (no {STATE_FILE}); pass --resume latest")
        return path
    found = sorted((Path(output_dir) / "checkpoints").glob(CHECKPOINT_PREFIX + "*"), key=_checkpoint_step)
    found = [p for p in found if (p / STATE_FILE).is_file()]
    return found[-1] if found else None


def _drop_rows_after(log: Path, step: int) -> None:
    """Keep the rows of a ``.jsonl`` log up to ``step``: a resumed run logs the later steps again (and a run killed
    mid-write may have left half a line)."""
    if not log.is_file():
        return
    kept = []
    for line in log.read_text().splitlines():
        with contextlib.suppress(ValueError):
            if json.loads(line).get("step", 0) <= step:
                kept.append(line + "\n")
    document = "".join(kept).encode()
    write_atomically(log, lambda stream: stream.write(document))


def _checkpoint_step(path: Path) -> int:
    try:
        return int(path.name[len(CHECKPOINT_PREFIX) :])
    except ValueError:
        return -1


class Trainer:
    """Holds everything one run needs; ``setup()`` builds it, ``train()`` runs it and returns the model folder."""

    def __init__(self, config: TrainConfig, accelerator: Accelerator | None = None):
        config.check()
        self.config = config
        self.output_dir = Path(config.output_dir)
        cuda = torch.cuda.is_available()
        precision = config.mixed_precision if config.mixed_precision != "auto" else ("bf16" if cuda else "no")
        self.accelerator = accelerator or Accelerator(
            mixed_precision=precision,
            gradient_accumulation_steps=config.optim.gradient_accumulation_steps,
            cpu=not cuda,
            fsdp_plugin=fsdp_plugin(config.parallel) if config.parallel.strategy == "fsdp" else None,
            # DDP's gradients live in its all-reduce buckets instead of beside them: 4 bytes a parameter less
            kwargs_handlers=[DistributedDataParallelKwargs(gradient_as_bucket_view=True)],
        )
        self.step = 0
        self.ema: EMAModel | None = None
        self.task_names = tuple(tasks.TASKS)  # the registry now: tasks registered at run time are logged too
        if config.objective.generative:
            self.task_names = (GENERATION_TASK,)
        self.latents: dict[str, torch.Tensor] | None = None

    # -------------------------------------------------------------------------------------------------- setup
    def setup(self) -> Trainer:
        """Data, model, optimizer, schedule, EMA; then restore a checkpoint if ``checkpoint.resume`` asks."""
        cfg, acc = self.config, self.accelerator
        if acc.is_main_process:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            resolved = yaml.safe_dump(cfg.to_dict(), sort_keys=False).encode()
            write_atomically(self.output_dir / "config.yaml", lambda stream: stream.write(resolved))
        set_seed(cfg.seed)  # identical initial weights on every process

        # 1. Data. Weighting tasks needs each index's prompt, unless the dataset mixes tasks itself; a
        #    from-scratch model must cache every prompt the data can produce.
        self.dataset = build_dataset(cfg.data)
        weighted = bool(cfg.data.task_weights) and not getattr(self.dataset, "mixes_tasks", False)
        self.prompts = sample_prompts(self.dataset) if weighted else None
        known = getattr(self.dataset, "prompts", None)
        if known is None:
            known = self.prompts if self.prompts is not None else sample_prompts(self.dataset)
        cache_prompts = [*tasks.cached_prompt_set(), *known]
        if cfg.objective.generative and cfg.validation.every > 0:  # the captions validation draws from
            validation_set = build_dataset(cfg.data, validation=True)
            cache_prompts += [validation_set.prompt_of(i) for i in range(min(cfg.validation.num_samples,
                                                                             len(validation_set)))]  # fmt: skip
        self.example_options = ExampleOptions(cfg.data.resolution, cfg.objective.prompt_dropout,
                                              cfg.data.min_points, cfg.data.max_points,
                                              cfg.objective.generative)  # fmt: skip

        # 2. Model: pipeline components; the VAE and prompt cache are frozen, the rest trains as configured.
        pipe = initial_pipeline(cfg.model, list(dict.fromkeys(cache_prompts)), cfg.data.resolution)
        pipe.set_progress_bar_config(disable=True)
        if cfg.model.init == "scratch" and cfg.model.vae_kind == "kl" and cfg.model.vae_pretrain_steps > 0:
            pipe.vae = self._fitted_vae(pipe.vae)
        self.pipe = pipe
        self._check_resolution()
        self.train_scheduler = training_scheduler(pipe.scheduler.config)
        weight_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(acc.mixed_precision, torch.float32)
        pipe.vae.requires_grad_(False).eval()
        for module in (pipe.vae, pipe.prompt_cache, pipe.transformer, pipe.point_encoder):
            if module.device != acc.device:
                module.to(acc.device)
        if weight_dtype != torch.float32:  # the frozen VAE runs in the mixed-precision dtype
            pipe.vae.to(dtype=weight_dtype)
        if cfg.data.latent_cache:
            self.latents = self._cached_latents()
        self.trainable = self._trainable_parameters()
        if cfg.model.gradient_checkpointing:
            pipe.transformer.enable_gradient_checkpointing()
        self.learned_prompt = None
        if cfg.model.learn_prompt:
            embeds, pooled = pipe.prompt_cache.lookup([cfg.model.learn_prompt])
            self.learned_prompt = LearnedPrompt(embeds[0], pooled[0]).to(acc.device)
            self.trainable += list(self.learned_prompt.parameters())
        self.denoiser = DiceptionDenoiser(pipe.transformer, pipe.point_encoder, self.learned_prompt)

        # 3. Optimisation. The LR schedule is stepped once per process per optimizer step (accelerate's way).
        o = cfg.optim
        self.optimizer = torch.optim.AdamW(self.trainable, lr=o.lr, betas=tuple(o.betas), weight_decay=o.weight_decay,
                                           eps=o.eps)  # fmt: skip
        self.lr_scheduler = get_scheduler(o.lr_scheduler, self.optimizer,
                                          num_warmup_steps=o.warmup_steps * acc.num_processes,
                                          num_training_steps=o.max_steps * acc.num_processes)  # fmt: skip
        if is_sharded(acc) and cfg.ema.enabled:  # also when FSDP came from `accelerate launch --use_fsdp`
            raise DiceptionInputError("ema.enabled=true is not supported with FSDP (the average would be sharded "
                                      "too); turn EMA off or train with DDP")  # fmt: skip
        self.denoiser, self.optimizer, self.lr_scheduler = acc.prepare(self.denoiser, self.optimizer, self.lr_scheduler)
        if cfg.ema.enabled:
            self.ema = EMAModel(self.trainable, decay=cfg.ema.decay, update_after_step=cfg.ema.update_after_step)
            self.ema.to(acc.device)
            acc.register_for_checkpointing(self.ema)

        # 4. Resume, then a data stream that starts where the restored step left off.
        if cfg.checkpoint.resume:
            checkpoint = find_checkpoint(self.output_dir, cfg.checkpoint.resume)
            if checkpoint is None:
                acc.print(f"no checkpoint in {self.output_dir / 'checkpoints'}; starting at step 0")
            else:
                acc.load_state(str(checkpoint))
                self.step = json.loads((checkpoint / STATE_FILE).read_text())["step"]
                acc.print(f"resumed from {checkpoint} at step {self.step}")
                if acc.is_main_process:
                    for log in ("metrics.jsonl", "validation.jsonl"):
                        _drop_rows_after(self.output_dir / log, self.step)
        self.validation = []
        if acc.is_main_process and cfg.validation.every > 0 and cfg.validation.num_samples > 0 \
                and cfg.objective.generative:  # fmt: skip
            captions = build_dataset(cfg.data, validation=True)
            self.validation = [captions[i] for i in range(min(cfg.validation.num_samples, len(captions)))]
        elif acc.is_main_process and cfg.validation.every > 0 and cfg.validation.num_samples > 0:
            self.validation = validation_examples(build_dataset(cfg.data, validation=True), cfg.validation.num_samples,
                                                  cfg.data.resolution, cfg.seed, self.example_options)  # fmt: skip
        return self

    @property
    def lora(self) -> LoraConfig | None:
        """The LoRA the transformer trains with (``model.lora``), or None for a full fine-tune or a frozen one."""
        model = self.config.model
        return model.lora if model.train_transformer and model.lora.rank > 0 else None

    def _check_resolution(self) -> None:
        multiple = self.pipe.vae_scale_factor * self.pipe.transformer.config.patch_size
        res = self.config.data.resolution
        if res % multiple or res > multiple * self.pipe.transformer.config.pos_embed_max_size:
            raise DiceptionInputError(
                f"data.resolution={res} must be a multiple of {multiple} and at most "
                f"{multiple * self.pipe.transformer.config.pos_embed_max_size} for this model"
            )

    def _trainable_parameters(self) -> list[torch.nn.Parameter]:
        cfg = self.config.model
        transformer, point_encoder = self.pipe.transformer, self.pipe.point_encoder
        transformer.requires_grad_(cfg.train_transformer and cfg.lora.rank == 0)
        if self.lora is not None:
            add_lora(transformer, self.lora)
        point_encoder.requires_grad_(cfg.train_point_encoder)
        transformer.train()
        point_encoder.train()
        params = [p for m in (transformer, point_encoder) for p in m.parameters() if p.requires_grad]
        total = sum(p.numel() for m in (transformer, point_encoder) for p in m.parameters())
        trained = sum(p.numel() for p in params)
        self.trainable_fraction = trained / max(total, 1)
        self.accelerator.print(f"training {trained:,} of {total:,} parameters ({100 * self.trainable_fraction:.2f} %)")
        return params

    def _fitted_vae(self, vae: AutoencoderKL) -> AutoencoderKL:
        """Fit the fresh VAE once (main process) and keep it in the run folder; resumed runs and other ranks load it."""
        folder = self.output_dir / "vae"
        acc = self.accelerator
        if acc.is_main_process and not (folder / "config.json").is_file():
            cfg = self.config
            sampler = iter(TaskMixtureSampler(self.prompts, cfg.data.task_weights, cfg.optim.batch_size, cfg.seed, 0,
                                              size=len(self.dataset)))  # fmt: skip
            examples = TrainingExamples(self.dataset, ExampleOptions(cfg.data.resolution))

            def next_pictures() -> torch.Tensor:
                batch = [examples[next(sampler)] for _ in range(cfg.optim.batch_size)]
                return torch.cat([torch.stack([e["image"] for e in batch]), torch.stack([e["target"] for e in batch])])

            losses = fit_autoencoder(vae, next_pictures, cfg.model.vae_pretrain_steps, cfg.model.vae_pretrain_lr)
            acc.print(f"fitted the VAE: reconstruction loss {losses[0]:.4f} -> {losses[-1]:.4f}")
            vae.save_pretrained(folder)
        acc.wait_for_everyone()
        return AutoencoderKL.from_pretrained(folder)

    def _cached_latents(self) -> dict[str, torch.Tensor]:
        """The bank's latents (``data.latent_cache``): encoded once into the scene cache, then read from it."""
        dataset = getattr(self.dataset, "inner", self.dataset)
        started = time.perf_counter()
        latents = dataset_latents(dataset, self.pipe, self.config.data.options["scene_cache"])
        self.accelerator.print(f"latent cache: {len(latents['target'])} items of {len(latents['image'])} scenes "
                               f"ready in {time.perf_counter() - started:.0f} s")  # fmt: skip
        return {"image": torch.from_numpy(latents["image"]), "target": torch.from_numpy(latents["target"]),
                "num_scenes": len(latents["image"])}  # fmt: skip

    # ---------------------------------------------------------------------------------------------- training
    def data_stream(self) -> DataLoader:
        cfg, acc = self.config, self.accelerator
        sampler = TaskMixtureSampler(self.prompts, cfg.data.task_weights, cfg.optim.batch_size, cfg.seed,
                                     acc.process_index, self.step * cfg.optim.gradient_accumulation_steps,
                                     size=len(self.dataset))  # fmt: skip
        return DataLoader(TrainingExamples(self.dataset, self.example_options), batch_size=cfg.optim.batch_size,
                          sampler=sampler, num_workers=cfg.data.num_workers,
                          collate_fn=Collator(self.pipe.config.point_order),
                          pin_memory=torch.cuda.is_available())  # fmt: skip

    def compute_losses(self, batch: dict, micro_step: int) -> torch.Tensor:
        """``(B,)`` flow-matching losses of one micro-batch (noise and sigmas seeded by the micro-step)."""
        cfg, acc, pipe = self.config, self.accelerator, self.pipe
        generator = torch.Generator().manual_seed(step_seed(cfg.seed, acc.process_index, micro_step, salt=2))
        with torch.no_grad():
            if self.latents is not None:  # encoded once (data.latent_cache): item i's target, its scene's picture
                index = torch.as_tensor(batch["index"])
                x0 = self.latents["target"][index % len(self.latents["target"])].to(acc.device)  # captions: per scene
                cond = self.latents["image"][index % self.latents["num_scenes"]].to(acc.device)
            else:
                x0 = pipe.encode_condition(batch["target"].to(acc.device)).float()  # (B, C, h, w)
                cond = pipe.encode_condition(batch["image"].to(acc.device)).float()  # (B, C, h, w)
            if cfg.objective.generative:  # text-to-image: no condition image, no point tokens
                cond = None
            text, pooled = pipe.encode_prompt(batch["prompt"])
        noise = torch.randn(x0.shape, generator=generator).to(acc.device)
        sigmas, timesteps = sample_sigmas(self.train_scheduler, x0.shape[0], cfg.objective.logit_mean,
                                          cfg.objective.logit_std, generator,
                                          cfg.objective.max_noise_fraction)  # fmt: skip
        noisy = noisy_latents(x0, noise, sigmas.to(acc.device))
        with acc.autocast():
            learned = torch.tensor([p == cfg.model.learn_prompt for p in batch["prompt"]], device=acc.device)
            velocity = self.denoiser(noisy, timesteps.to(acc.device), text.to(acc.device), pooled.to(acc.device), cond,
                                     batch["coords"].to(acc.device), batch["is_point"].to(acc.device),
                                     batch["keep_points"].to(acc.device), learned)  # fmt: skip
        return per_sample_loss(velocity, velocity_target(x0, noise))

    def train(self) -> Path | None:
        """Run to ``optim.max_steps``; returns the exported model folder (None when export is off)."""
        cfg, acc = self.config, self.accelerator
        accum, max_steps = cfg.optim.gradient_accumulation_steps, cfg.optim.max_steps
        stream = iter(self.data_stream())
        task_loss = torch.zeros(len(self.task_names), 2, device=acc.device)  # (sum, count) per task since the last log
        started = time.perf_counter()
        steps_since_log = 0
        while self.step < max_steps:
            for micro in range(accum):
                batch = next(stream)
                with acc.accumulate(self.denoiser):
                    losses = self.compute_losses(batch, self.step * accum + micro)
                    if not torch.isfinite(losses).all():
                        raise FloatingPointError(f"non-finite loss at step {self.step}: {losses.tolist()}")
                    acc.backward(losses.mean())
                    if acc.sync_gradients and cfg.optim.max_grad_norm > 0:
                        acc.clip_grad_norm_(self.denoiser.parameters(), cfg.optim.max_grad_norm)
                    self.optimizer.step()
                    self.lr_scheduler.step()
                    self.optimizer.zero_grad(set_to_none=True)
                for task, loss in zip(batch["task"], losses.detach()):
                    task_loss[self.task_names.index(task)] += torch.stack([loss, torch.ones_like(loss)])
            self.step += 1
            steps_since_log += 1
            if self.ema is not None:
                self.ema.step(self.trainable)
            if self.step % cfg.log_every == 0 or self.step == max_steps:
                self._log(task_loss, (time.perf_counter() - started) / steps_since_log)
                task_loss.zero_()
                started, steps_since_log = time.perf_counter(), 0
            if cfg.checkpoint.every > 0 and self.step % cfg.checkpoint.every == 0 and self.step < max_steps:
                self.save_checkpoint()
            if cfg.validation.every > 0 and (self.step % cfg.validation.every == 0 or self.step == max_steps):
                self.validate()
        if cfg.checkpoint.at_end:
            self.save_checkpoint()
        return self.export() if cfg.export else None

    def _log(self, task_loss: torch.Tensor, seconds_per_step: float) -> None:
        acc = self.accelerator
        totals = acc.reduce(task_loss.clone(), reduction="sum").cpu()
        if not acc.is_main_process:
            return
        count = totals[:, 1].sum().item()
        row = {"step": self.step, "loss": totals[:, 0].sum().item() / max(count, 1)}
        row.update({f"loss/{t}": totals[i, 0].item() / totals[i, 1].item()
                    for i, t in enumerate(self.task_names) if totals[i, 1] > 0})  # fmt: skip
        row.update(lr=self.lr_scheduler.get_last_lr()[0], seconds_per_step=seconds_per_step)
        with open(self.output_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")
        per_task = " ".join(f"{k[5:]}={v:.4f}" for k, v in row.items() if k.startswith("loss/"))
        acc.print(f"step {self.step}/{self.config.optim.max_steps} loss {row['loss']:.4f} [{per_task}] "
                  f"lr {row['lr']:.2e} {seconds_per_step:.3f} s/step")  # fmt: skip

    # ------------------------------------------------------------------------------------ checkpoints, export
    def save_checkpoint(self) -> Path:
        """Save the full training state; keep the newest ``checkpoint.keep``."""
        acc = self.accelerator
        folder = self.output_dir / "checkpoints" / f"{CHECKPOINT_PREFIX}{self.step:07d}"
        if acc.is_main_process and folder.exists():  # left incomplete by a run killed while saving this step
            shutil.rmtree(folder)
        acc.wait_for_everyone()
        acc.save_state(str(folder))
        if acc.is_main_process:  # the state file, written last and atomically, is what makes a checkpoint complete
            state = json.dumps({"step": self.step, "config": self.config.to_dict()}).encode()
            write_atomically(folder / STATE_FILE, lambda stream: stream.write(state))
            old = sorted((self.output_dir / "checkpoints").glob(CHECKPOINT_PREFIX + "*"), key=_checkpoint_step)
            for stale in old[: max(len(old) - max(self.config.checkpoint.keep, 1), 0)]:
                shutil.rmtree(stale, ignore_errors=True)
        acc.wait_for_everyone()
        return folder

    def _swap_in_ema(self) -> bool:
        if self.ema is None:
            return False
        self.ema.store(self.trainable)
        self.ema.copy_to(self.trainable)
        return True

    @contextlib.contextmanager
    def _whole_pipeline(self, restore: bool = True) -> Iterator:
        """The pipeline with whole weights (EMA's if on) on the main process, ``None`` on the others.

        Under DDP that is the training pipeline itself (EMA swapped in, and back out on leaving if ``restore``).
        Under FSDP every process must enter: the shards are gathered into an unsharded copy that the main
        process's pipeline uses inside the block (its transformer and point encoder are swapped back after).
        """
        acc, pipe = self.accelerator, self.pipe
        if not is_sharded(acc):
            if not acc.is_main_process:
                yield None
                return
            swapped = self._swap_in_ema()
            self.cache_learned_prompt(pipe, self.learned_prompt)
            self.denoiser.eval()
            try:
                yield pipe
            finally:
                self.denoiser.train()
                if swapped and restore:
                    self.ema.restore(self.trainable)
            return
        whole = gathered_denoiser(acc, self.denoiser, self.lora)
        if whole is None:
            yield None
            return
        self.cache_learned_prompt(pipe, whole.learned_prompt)
        sharded = {"transformer": pipe.transformer, "point_encoder": pipe.point_encoder}
        pipe.register_modules(transformer=whole.transformer.to(acc.device),
                              point_encoder=whole.point_encoder.to(acc.device))  # fmt: skip
        try:
            yield pipe
        finally:
            pipe.register_modules(**sharded)

    def cache_learned_prompt(self, pipe, learned) -> None:
        """Put the learned prompt's current embedding into ``pipe``'s prompt cache (for sampling and export)."""
        if learned is not None:
            cache = pipe.prompt_cache.with_prompt(self.config.model.learn_prompt, learned.prompt_embeds.detach(),
                                                  learned.pooled_prompt_embeds.detach())  # fmt: skip
            pipe.register_modules(prompt_cache=cache.to(pipe.prompt_cache.device))

    def validate(self) -> dict[str, float]:
        """Sample the fixed validation set (main process), log metrics and save a contact sheet."""
        acc, cfg = self.accelerator, self.config
        metrics: dict[str, float] = {}
        predictions = None
        if cfg.validation.num_samples <= 0:  # the same on every process: none of them gathers
            return metrics
        if cfg.objective.generative:
            return self._validate_generation()
        with self._whole_pipeline() as pipe:
            if pipe is not None and self.validation:
                with acc.autocast():
                    predictions = predict_examples(pipe, self.validation, cfg.validation.num_inference_steps,
                                                   cfg.validation.guidance_scale, cfg.seed)  # fmt: skip
        if predictions is not None:
            metrics = summarise(self.validation, predictions)
            contact_sheet(self.validation, predictions, self.output_dir / "validation" / f"step_{self.step:07d}.png")
            with open(self.output_dir / "validation.jsonl", "a") as f:
                f.write(json.dumps({"step": self.step, **metrics}) + "\n")
            shown = " ".join(f"{k}={v:.3f}" for k, v in metrics.items())
            acc.print(f"validation at step {self.step}: {shown}")
        acc.wait_for_everyone()
        return metrics

    def _validate_generation(self) -> dict[str, float]:
        """A generative run's validation: draw the validation scenes from their captions, save true | drawn."""
        acc, cfg = self.accelerator, self.config
        with self._whole_pipeline() as pipe:
            if pipe is not None and self.validation:
                captions = [example.prompt for example in self.validation]
                with acc.autocast():
                    drawn = generate_pictures(pipe, captions, cfg.data.resolution, cfg.validation.num_inference_steps,
                                              cfg.validation.guidance_scale, cfg.seed)  # fmt: skip
                truths = np.stack([example.target for example in self.validation])
                generation_sheet(truths, drawn, captions, self.output_dir / "validation" / f"step_{self.step:07d}.png")
                acc.print(f"validation at step {self.step}: drew {len(captions)} scenes from their captions")
        acc.wait_for_everyone()
        return {}

    def export(self) -> Path:
        """Save the final pipeline (EMA weights if EMA is on; LoRA merged, the adapter also saved alone); under
        FSDP the shards are gathered first."""
        acc = self.accelerator
        folder = self.output_dir / "model"
        acc.wait_for_everyone()
        with self._whole_pipeline(restore=False) as pipe:
            if pipe is not None:
                if self.lora is not None:
                    replace_folder_atomically(self.output_dir / "lora", lambda out: save_lora(pipe.transformer, out))
                    merge_lora(pipe.transformer)
                if pipe.vae.dtype != torch.float32:
                    pipe.vae.to(dtype=torch.float32)
                replace_folder_atomically(folder, pipe.save_pretrained)
                acc.print(f"saved the trained pipeline to {folder}")
        acc.wait_for_everyone()
        return folder


def train(config: TrainConfig) -> Path | None:
    """Train as ``config`` says; returns the exported model folder (``<output_dir>/model``)."""
    return Trainer(config).setup().train()
