"""A small diffusers ``AutoencoderKL`` for models trained from scratch, sized by three numbers.

The pixel-shuffle autoencoder is exact but its tokens are raw pixels; a learned convolutional VAE gives each
token local features and, by a factor of 8, 128 px pictures at the token count of 64 px today. This builds one
from the down-sampling factor (4 or 8; any power of two from 2), the first block's width and the latent
channels, with SD3's block types. It is a plain ``AutoencoderKL``: ``save_pretrained`` writes a folder that
``AutoencoderKL.from_pretrained``, ``model.vae_path`` and :class:`~diception.DiceptionPipeline` load without
diception code.
"""

from __future__ import annotations

from typing import Any

from diffusers import AutoencoderKL

from ..errors import DiceptionInputError


def small_autoencoder_kl_arguments(
    downscale_factor: int = 4,
    base_channels: int = 32,
    latent_channels: int = 8,
    max_channels: int = 128,
    layers_per_block: int = 1,
    norm_num_groups: int = 8,
    mid_block_attention: bool = False,
) -> dict[str, Any]:
    """The ``AutoencoderKL`` constructor arguments of :func:`small_autoencoder_kl` (what its config.json holds).

    Args:
        downscale_factor: the latent's spatial reduction, a power of two >= 2 (4: 64 px -> 16 x 16 latents).
        base_channels: width of the first block; each further block doubles it up to ``max_channels``.
        latent_channels: channels of the latent (the transformer's ``in_channels``).
        max_channels: the widest block.
        layers_per_block: ResNet layers per block (the decoder has one more, as diffusers builds it).
        norm_num_groups: GroupNorm groups; must divide every block's width.
        mid_block_attention: self-attention in the middle block (off by default: it costs more than it gives at
            16 x 16 latents, and without it the autoencoder is fully convolutional, so it trains on crops).
    """
    blocks = downscale_factor.bit_length() - 1
    if downscale_factor < 2 or downscale_factor != 2**blocks:
        raise DiceptionInputError(f"downscale_factor must be a power of two >= 2 (4 or 8), got {downscale_factor}")
    if min(base_channels, latent_channels, max_channels, layers_per_block, norm_num_groups) < 1:
        raise DiceptionInputError("base_channels, latent_channels, max_channels, layers_per_block and "
                                  "norm_num_groups must all be >= 1")  # fmt: skip
    widths = [min(base_channels * 2**i, max(max_channels, base_channels)) for i in range(blocks + 1)]
    if any(w % norm_num_groups for w in widths):
        raise DiceptionInputError(f"norm_num_groups={norm_num_groups} must divide every block width {widths}; "
                                  "pick base_channels as a multiple of it")  # fmt: skip
    return {
        "block_out_channels": widths,
        "down_block_types": ["DownEncoderBlock2D"] * len(widths),
        "up_block_types": ["UpDecoderBlock2D"] * len(widths),
        "latent_channels": latent_channels,
        "layers_per_block": layers_per_block,
        "norm_num_groups": norm_num_groups,
        "mid_block_add_attention": mid_block_attention,
        "scaling_factor": 1.0,  # set by calibration after fitting (diception.training.autoencoder_fit)
        "shift_factor": 0.0,
    }


def small_autoencoder_kl(downscale_factor: int = 4, base_channels: int = 32, latent_channels: int = 8,
                         **options: Any) -> AutoencoderKL:  # fmt: skip
    """A freshly initialised small ``AutoencoderKL`` (seed it with ``torch.manual_seed`` first); ``options`` are
    the other arguments of :func:`small_autoencoder_kl_arguments`."""
    return AutoencoderKL(**small_autoencoder_kl_arguments(downscale_factor, base_channels, latent_channels, **options))
