"""SD3's rectified-flow training objective, as DICEPTION trains it (small functions, no state).

With clean latents ``x0`` of the target picture and noise ``e ~ N(0, I)``, a noise level ``sigma`` in (0, 1] is
drawn logit-normally and mapped through the scheduler's (shifted) sigma table; the model sees
``x_sigma = (1 - sigma) x0 + sigma e`` at timestep ``1000 sigma`` and is trained, with a plain MSE, to predict
the velocity ``e - x0`` (the direction the Euler sampler integrates from noise to data, backwards).
"""

from __future__ import annotations

import torch
from diffusers import FlowMatchEulerDiscreteScheduler
from diffusers.training_utils import compute_density_for_timestep_sampling


def training_scheduler(config: dict) -> FlowMatchEulerDiscreteScheduler:
    """A fresh scheduler from a pipeline scheduler's config: its ``sigmas`` hold all ``num_train_timesteps``
    shifted noise levels (the sampler's copy is re-gridded by ``set_timesteps`` and must not be used)."""
    return FlowMatchEulerDiscreteScheduler.from_config(config)


def sample_sigmas(
    scheduler: FlowMatchEulerDiscreteScheduler,
    batch_size: int,
    logit_mean: float = 0.0,
    logit_std: float = 1.0,
    generator: torch.Generator | None = None,
    max_noise_fraction: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B,)`` sigmas and ``(B,)`` timesteps: ``u = sigmoid(N(mean, std))`` indexes the scheduler's table.

    The table is ordered from the highest noise level down (``timesteps[i] = 1000 * sigmas[i]``), exactly how
    diffusers' SD3 example reads ``compute_density_for_timestep_sampling``. Drawn on the CPU (``generator``'s
    device), so the result does not depend on the accelerator. ``max_noise_fraction`` of the draws (on average)
    are then set to the table's highest level, where one-step sampling starts (0 = SD3's objective).
    """
    n = scheduler.config.num_train_timesteps
    u = compute_density_for_timestep_sampling(
        weighting_scheme="logit_normal", batch_size=batch_size, logit_mean=logit_mean, logit_std=logit_std,
        generator=generator,
    )  # fmt: skip
    indices = (u * n).long().clamp(0, n - 1)
    if max_noise_fraction > 0:
        at_max = torch.rand(batch_size, generator=generator) < max_noise_fraction
        indices = torch.where(at_max, torch.zeros_like(indices), indices)
    sigmas = scheduler.sigmas[indices].float()
    return sigmas, sigmas * n


def noisy_latents(x0: torch.Tensor, noise: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """``(1 - sigma) * x0 + sigma * noise`` with one sigma per sample; ``(B, C, h, w)``."""
    s = sigmas.to(x0).view(-1, *([1] * (x0.ndim - 1)))
    return (1.0 - s) * x0 + s * noise


def velocity_target(x0: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """The rectified-flow regression target ``noise - x0``."""
    return noise - x0


def per_sample_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``(B,)`` mean squared error per sample, in float32 (the batch loss is its mean)."""
    return (prediction.float() - target.float()).pow(2).flatten(1).mean(dim=1)
