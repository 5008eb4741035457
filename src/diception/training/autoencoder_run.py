"""A resumable stand-alone fit of a small ``AutoencoderKL`` on the synthetic world, before diffusion training.

``fit_autoencoder_run(config)`` builds the VAE (:func:`~diception.modeling.small_autoencoder_kl`), draws its
batches from a scene bank (:class:`.autoencoder_pictures.AutoencoderPictures`: scene pictures and every task's
target pictures), minimises :func:`.autoencoder_fit.reconstruction_loss` with AdamW, and writes into
``output_dir``::

    run.json                 the run's settings; a resumed run must agree (it may raise ``steps``)
    checkpoint/              vae/ (save_pretrained), optimizer.pt, state.json (step, losses, seconds)
    vae/                     the fitted VAE, latents calibrated to zero mean and unit variance: a plain
                             AutoencoderKL folder for ``model.vae_path`` or a DiceptionPipeline's ``vae``

Batches depend on ``(seed, step)`` only and the checkpoint holds the optimizer, so stopping (``steps`` reached,
``max_seconds`` spent, or a kill after a checkpoint) and running the same command again continues the same fit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from diffusers import AutoencoderKL

from ..atomic_files import replace_folder_atomically, write_atomically
from ..data.synthetic import split_seeds
from ..data.synthetic.bank import render_scenes, scene_bank
from ..errors import DiceptionInputError
from ..modeling import small_autoencoder_kl
from .autoencoder_fit import calibrate_latents, reconstruction_loss
from .autoencoder_pictures import AutoencoderPictures

RUN_FILE, STATE_FILE, OPTIMIZER_FILE = "run.json", "state.json", "optimizer.pt"
# settings a resumed run may change: how long it runs and how it reports, not what it fits
RESUMABLE = {"output_dir", "scene_cache", "workers", "steps", "checkpoint_every", "log_every"}


def _option(default, text: str):
    return field(default=default, metadata={"help": text})


@dataclass
class AutoencoderRunConfig:
    """The settings of one fit; ``metadata["help"]`` of each field is its command-line help."""

    output_dir: str = _option("runs/vae", "run folder (run.json, checkpoint/, vae/)")
    size: int = _option(64, "scene side in pixels")
    downscale_factor: int = _option(4, "latent reduction, 4 or 8 (64 px -> 16 x 16 or 8 x 8 latents)")
    base_channels: int = _option(32, "width of the first VAE block; doubled per block up to max_channels")
    max_channels: int = _option(128, "widest VAE block")
    latent_channels: int = _option(8, "latent channels (the transformer's in_channels)")
    layers_per_block: int = _option(1, "ResNet layers per VAE block")
    num_scenes: int = _option(2000, "training-split scenes to draw pictures from")
    scene_cache: str = _option(".cache/synthetic", "scene bank folder ('' renders the scenes in memory)")
    workers: int = _option(0, "processes that render missing scenes (0: all cores)")
    tasks: str = _option("", "comma-separated tasks whose targets are drawn ('': all)")
    image_fraction: float = _option(0.5, "share of scene pictures among the fitted pictures")
    crop_size: int = _option(0, "fit on random square crops of this side (0: whole pictures)")
    batch_size: int = _option(16, "pictures per step")
    steps: int = _option(2000, "optimizer steps in all (raise it and run again to go on)")
    lr: float = _option(1e-3, "AdamW learning rate (constant)")
    kl_weight: float = _option(1e-6, "weight of the posterior's KL term")
    max_grad_norm: float = _option(1.0, "gradient clipping norm (0: none)")
    checkpoint_every: int = _option(200, "steps between checkpoints")
    log_every: int = _option(50, "steps between loss lines (0: none)")
    seed: int = _option(0, "seeds the weights and the batches")

    def task_names(self) -> list[str] | None:
        return [t.strip() for t in self.tasks.split(",") if t.strip()] or None

    def fitted_settings(self) -> dict:
        """The settings that decide the fit (what a resumed run must agree on)."""
        return {k: v for k, v in asdict(self).items() if k not in RESUMABLE}


def _check(config: AutoencoderRunConfig) -> None:
    positive = {"size": config.size, "num_scenes": config.num_scenes, "batch_size": config.batch_size,
                "checkpoint_every": config.checkpoint_every}  # fmt: skip
    bad = [f"{k}={v}" for k, v in positive.items() if v < 1]
    if bad or config.steps < 0 or config.lr <= 0:
        raise DiceptionInputError(f"autoencoder fit: {', '.join(bad) or 'steps/lr'} out of range; size, num_scenes, "
                                  "batch_size, checkpoint_every and lr must be positive, steps >= 0")  # fmt: skip
    if config.size % config.downscale_factor:
        raise DiceptionInputError(f"size {config.size} is not a multiple of downscale_factor {config.downscale_factor}")


def _scenes(config: AutoencoderRunConfig) -> list:
    seeds = split_seeds("train", config.num_scenes)
    workers = config.workers or None
    if config.scene_cache:
        return scene_bank(config.scene_cache, seeds, config.size, workers)
    return render_scenes(seeds, config.size, workers)


def _start(config: AutoencoderRunConfig, out: Path) -> tuple[AutoencoderKL, torch.optim.Optimizer, dict]:
    """The VAE, optimizer and state to go on from: the checkpoint's, or fresh ones for a new run."""
    run_file = out / RUN_FILE
    if run_file.is_file():
        saved = json.loads(run_file.read_text())
        changed = sorted(k for k, v in config.fitted_settings().items() if saved.get(k) != v)
        if changed:
            raise DiceptionInputError(
                f"{out} holds a fit with other settings ({', '.join(f'{k}={saved.get(k)!r}' for k in changed)}); "
                "pass the same settings to resume it, or another output_dir"
            )
    else:
        document = json.dumps(config.fitted_settings(), indent=2)
        write_atomically(run_file, lambda stream: stream.write(document.encode("utf-8")))
    checkpoint = out / "checkpoint"
    if (checkpoint / STATE_FILE).is_file():
        vae = AutoencoderKL.from_pretrained(checkpoint / "vae")
        optimizer = torch.optim.AdamW(vae.parameters(), lr=config.lr, weight_decay=0.0)
        optimizer.load_state_dict(torch.load(checkpoint / OPTIMIZER_FILE, weights_only=True))
        return vae, optimizer, json.loads((checkpoint / STATE_FILE).read_text())
    torch.manual_seed(config.seed)
    vae = small_autoencoder_kl(config.downscale_factor, config.base_channels, config.latent_channels,
                               max_channels=config.max_channels, layers_per_block=config.layers_per_block)  # fmt: skip
    optimizer = torch.optim.AdamW(vae.parameters(), lr=config.lr, weight_decay=0.0)
    return vae, optimizer, {"step": 0, "losses": [], "seconds": 0.0}


def _save_checkpoint(out: Path, vae: AutoencoderKL, optimizer: torch.optim.Optimizer, state: dict) -> None:
    def build(folder: Path) -> None:
        vae.save_pretrained(folder / "vae")
        torch.save(optimizer.state_dict(), folder / OPTIMIZER_FILE)
        (folder / STATE_FILE).write_text(json.dumps(state))

    replace_folder_atomically(out / "checkpoint", build)


def fit_autoencoder_run(config: AutoencoderRunConfig, max_seconds: float | None = None,
                        log: Callable[[str], None] = print) -> Path:  # fmt: skip
    """Fit (or go on fitting) the run in ``config.output_dir`` up to ``config.steps`` steps, or until
    ``max_seconds`` of fitting have passed in this call; returns the exported ``vae/`` folder."""
    _check(config)
    out = Path(config.output_dir)
    vae, optimizer, state = _start(config, out)
    stream = AutoencoderPictures(_scenes(config), config.task_names(), config.image_fraction, config.batch_size,
                                 config.crop_size or None, config.seed)  # fmt: skip
    vae.train().requires_grad_(True)
    began = time.monotonic()
    step_began = began
    while state["step"] < config.steps:
        pictures, _ = stream.batch(state["step"])
        loss = reconstruction_loss(vae, pictures, config.kl_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(vae.parameters(), config.max_grad_norm)
        optimizer.step()
        now = time.monotonic()
        state["step"] += 1
        state["losses"].append(round(loss.item(), 6))
        state["seconds"] = round(state["seconds"] + now - step_began, 3)
        step_began = now
        step, spent = state["step"], max_seconds is not None and now - began >= max_seconds
        if config.log_every and step % config.log_every == 0:
            recent = state["losses"][-config.log_every :]
            log(f"vae step {step}/{config.steps} loss {sum(recent) / len(recent):.4f} ({state['seconds']:.0f} s)")
        if step % config.checkpoint_every == 0 or step == config.steps or spent:
            _save_checkpoint(out, vae, optimizer, state)
        if spent:
            log(f"stopped after {max_seconds:g} s at step {step}; run again to go on")
            break
    vae.eval().requires_grad_(False)
    calibrate_latents(vae, stream.calibration_batch())
    replace_folder_atomically(out / "vae", lambda folder: vae.save_pretrained(folder))
    return out / "vae"
