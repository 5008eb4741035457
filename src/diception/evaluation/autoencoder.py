"""How well an autoencoder keeps each task's pictures: the picture error, and the task's score after a round trip.

A perfect diffusion model still answers through the autoencoder: it draws latents, the VAE decodes them, the task
decodes the picture. So an autoencoder bounds every task's score. :func:`task_round_trip` measures that bound:
each sample's target picture (``Task.target_picture``) goes through encode -> decode, the task decodes the result
(``Task.decode``), and the task's own scorer (``Task.scorer``, as ``diception eval`` scores a model) compares it
with the ground truth. The same score of the exact target picture is the codec's own ceiling (an exact autoencoder
such as the pixel shuffle reaches it); the picture error is the mean absolute difference and PSNR in [0, 1] units
(:func:`~diception.evaluation.scorers.picture_metrics`; 100 dB means exact).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from .. import tasks
from ..data.sample import Sample
from .runner import evaluate
from .scorers import picture_metrics

# An autoencoder as this module uses it: (N, H, W, 3) pictures in [0, 1] -> their reconstructions, same shape.
Autoencode = Callable[[np.ndarray], np.ndarray]


@torch.no_grad()
def reconstruct(vae: torch.nn.Module, pictures: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """``(N, H, W, 3)`` pictures in [0, 1] encoded and decoded as the pipeline does (posterior mean, the config's
    shift and scale, clamped to [0, 1]); float32, same shape."""
    shift = vae.config.shift_factor or 0.0
    scale = vae.config.scaling_factor
    out = []
    for start in range(0, len(pictures), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(pictures[start : start + batch_size], dtype=np.float32))
        x = x.permute(0, 3, 1, 2).to(vae.device, vae.dtype) * 2.0 - 1.0  # (B, 3, H, W) in [-1, 1]
        latents = (vae.encode(x).latent_dist.mode() - shift) * scale  # (B, C, H/f, W/f), what the model draws
        raw = vae.decode(latents / scale + shift).sample
        out.append((raw.float() / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros_like(pictures, dtype=np.float32)


def picture_errors(originals: np.ndarray, reconstructions: np.ndarray) -> dict[str, float]:
    """Mean over pictures of the absolute error (``l1``) and of the PSNR (``psnr``, dB), and the ``count``."""
    rows = [picture_metrics(r, o) for o, r in zip(originals, reconstructions)]
    if not rows:
        return {"l1": math.nan, "psnr": math.nan, "count": 0}
    return {"l1": float(np.mean([r["l1"] for r in rows])), "psnr": float(np.mean([r["psnr"] for r in rows])),
            "count": len(rows)}  # fmt: skip


def scored(samples: Sequence[Sample], task: str | tasks.Task, pictures: np.ndarray) -> dict[str, dict[str, float]]:
    """The task's scores of the predictions decoded from ``pictures`` (one per sample, in order): the scorer's
    ``summary`` and, in ``per_sample``, the mean of each numeric column of its per-sample rows."""
    spec = tasks.get(task)
    position = {id(sample): i for i, sample in enumerate(samples)}
    result = evaluate(samples, spec, predictor=lambda sample: spec.decode(pictures[position[id(sample)]]))
    columns: dict[str, list[float]] = {}
    for row in result.rows:
        for key, value in row.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                columns.setdefault(key, []).append(float(value))
    per_sample = {k: float(np.nanmean(v)) if not np.isnan(v).all() else math.nan for k, v in columns.items()}
    return {"summary": dict(result.summary), "per_sample": per_sample}


def target_pictures(samples: Sequence[Sample], task: str | tasks.Task, seed: int = 0) -> np.ndarray:
    """``(N, H, W, 3)`` target pictures of ``samples``; sample ``i``'s free choices (instance colours) are drawn
    from ``(seed, i)``, so they vary as they do in training."""
    spec = tasks.get(task)
    return np.stack([spec.target_picture(s, np.random.default_rng([seed, i])) for i, s in enumerate(samples)])


def task_round_trip(samples: Sequence[Sample], task: str | tasks.Task, autoencoders: Mapping[str, Autoencode],
                    seed: int = 0) -> dict:  # fmt: skip
    """The round trip of ``task``'s target pictures through each autoencoder.

    Returns ``{"samples": N, "codec": scores of the exact pictures, "autoencoders": {name: {"picture":
    picture_errors, "task": scores after the round trip}}}``, scores as :func:`scored` gives them.
    """
    samples = list(samples)
    pictures = target_pictures(samples, task, seed)
    report = {"samples": len(samples), "codec": scored(samples, task, pictures), "autoencoders": {}}
    for name, autoencode in autoencoders.items():
        rebuilt = autoencode(pictures)
        report["autoencoders"][name] = {"picture": picture_errors(pictures, rebuilt),
                                        "task": scored(samples, task, rebuilt)}  # fmt: skip
    return report
