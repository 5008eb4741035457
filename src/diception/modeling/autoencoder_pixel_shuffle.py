"""A parameter-free autoencoder: pixel (un)shuffle, for small models trained from scratch.

SD3's VAE cannot be had offline and a learned one costs training time; folding each ``f x f`` block of pixels
into channels round-trips exactly (infinite PSNR on every task's target picture) at ~0.1 ms per image. It keeps
``AutoencoderKL``'s interface (``encode(x).latent_dist.mode()``, ``decode(z).sample``, ``scaling_factor``,
``shift_factor``), so the pipeline and the trainer use it unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKLOutput
from diffusers.models.autoencoders.vae import DecoderOutput, DiagonalGaussianDistribution
from diffusers.models.modeling_utils import ModelMixin


class PixelShuffleAutoencoder(ModelMixin, ConfigMixin):
    """``(B, C, H, W)`` <-> ``(B, C * f^2, H / f, W / f)``, exactly.

    Args:
        in_channels: image channels.
        downscale_factor: ``f``, the latent's spatial reduction.
        scaling_factor, shift_factor: the latent normalisation the pipeline applies, ``(z - shift) * scale``.
    """

    @register_to_config
    def __init__(self, in_channels: int = 3, downscale_factor: int = 4, scaling_factor: float = 1.0,
                 shift_factor: float = 0.0):  # fmt: skip
        super().__init__()
        if in_channels < 1 or downscale_factor < 1:
            raise ValueError(f"in_channels and downscale_factor must be >= 1, got {in_channels}, {downscale_factor}")
        # No weights. This buffer carries the module's device and dtype, and is saved so that the folder has the
        # weights file every diffusers model folder has.
        self.register_buffer("anchor", torch.zeros(1))

    @property
    def latent_channels(self) -> int:
        return self.config.in_channels * self.config.downscale_factor**2

    def encode(self, x: torch.Tensor, return_dict: bool = True) -> AutoencoderKLOutput | tuple:
        latents = F.pixel_unshuffle(x, self.config.downscale_factor)
        posterior = DiagonalGaussianDistribution(torch.cat([latents, torch.zeros_like(latents)], 1), deterministic=True)
        return AutoencoderKLOutput(latent_dist=posterior) if return_dict else (posterior,)

    def decode(self, z: torch.Tensor, return_dict: bool = True) -> DecoderOutput | tuple:
        sample = F.pixel_shuffle(z, self.config.downscale_factor)
        return DecoderOutput(sample=sample) if return_dict else (sample,)
