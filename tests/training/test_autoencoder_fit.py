"""The trainer's in-run VAE fit: it lowers the reconstruction loss, then freezes and calibrates the VAE."""

from __future__ import annotations

import torch

from diception.modeling import small_autoencoder_kl
from diception.training.autoencoder_fit import fit_autoencoder, reconstruction_loss


def test_fit_autoencoder_lowers_the_loss_freezes_and_calibrates():
    torch.manual_seed(0)
    vae = small_autoencoder_kl(4, base_channels=8, latent_channels=4, max_channels=16)
    pictures = torch.rand(4, 3, 16, 16)
    losses = fit_autoencoder(vae, lambda: pictures, steps=15, lr=3e-3, log_every=0)
    assert len(losses) == 15 and losses[-1] < 0.8 * losses[0]
    assert not vae.training and not any(p.requires_grad for p in vae.parameters())
    with torch.no_grad():
        assert reconstruction_loss(vae, pictures).item() < 0.8 * losses[0]  # the frozen VAE keeps its fit
        z = (vae.encode(pictures * 2 - 1).latent_dist.mode() - vae.config.shift_factor) * vae.config.scaling_factor
    assert abs(z.mean().item()) < 1e-4 and abs(z.std().item() - 1.0) < 1e-3
