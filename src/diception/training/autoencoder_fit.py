"""Fit a freshly built small VAE as a plain autoencoder before diffusion training (``init: scratch`` only).

A random VAE is a random projection whose decoder cannot reproduce pictures, so a from-scratch model first
fits it on the training pictures (inputs and targets): L1 + MSE reconstruction of the posterior mean plus a
tiny KL term, then sets ``shift_factor`` and ``scaling_factor`` so the latents have zero mean and unit variance,
as SD3's VAE is calibrated. The VAE is frozen afterwards.

:func:`fit_autoencoder` is the trainer's short in-run fit; :mod:`.autoencoder_run` is the resumable stand-alone
fit on the synthetic world's scene and target pictures, with the same loss and calibration.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch
from diffusers import AutoencoderKL

logger = logging.getLogger(__name__)


def fit_autoencoder(
    vae: AutoencoderKL,
    next_pictures: Callable[[], torch.Tensor],
    steps: int,
    lr: float = 1e-3,
    kl_weight: float = 1e-6,
    log_every: int = 50,
) -> list[float]:
    """Train ``vae`` on ``(B, 3, H, W)`` pictures in [0, 1] from ``next_pictures()``; returns the losses."""
    vae.train().requires_grad_(True)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=lr, weight_decay=0.0)
    losses = []
    for step in range(steps):
        loss = reconstruction_loss(vae, next_pictures(), kl_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if log_every and (step + 1) % log_every == 0:
            logger.info("vae fit step %d/%d loss %.4f", step + 1, steps, loss.item())
    vae.eval().requires_grad_(False)
    calibrate_latents(vae, next_pictures())
    return losses


def reconstruction_loss(vae: AutoencoderKL, pictures: torch.Tensor, kl_weight: float = 1e-6) -> torch.Tensor:
    """L1 + MSE between ``(B, 3, H, W)`` pictures in [0, 1] and their reconstruction from the posterior mean, in
    the VAE's [-1, 1] units, plus ``kl_weight`` times the posterior's KL to N(0, 1); a scalar."""
    x = pictures * 2.0 - 1.0
    posterior = vae.encode(x).latent_dist
    recon = vae.decode(posterior.mode()).sample
    return (recon - x).abs().mean() + (recon - x).pow(2).mean() + kl_weight * posterior.kl().mean()


@torch.no_grad()
def calibrate_latents(vae: AutoencoderKL, pictures: torch.Tensor) -> None:
    """Set ``shift_factor`` / ``scaling_factor`` to the mean and ``1 / std`` of ``pictures``' latents."""
    latents = vae.encode(pictures * 2.0 - 1.0).latent_dist.mode()
    mean, std = latents.mean().item(), latents.std().item()
    vae.register_to_config(shift_factor=mean, scaling_factor=1.0 / max(std, 1e-6))
