"""The small AutoencoderKL builder: its factor, widths and latent channels are what was asked, or an error says why."""

from __future__ import annotations

import pytest
import torch

from diception.errors import DiceptionInputError
from diception.modeling import small_autoencoder_kl, small_autoencoder_kl_arguments
from diception.pipelines.pipeline_diception import spatial_scale


@pytest.mark.parametrize(("factor", "latent_shape"), [(4, (8, 8)), (8, (4, 4))])
def test_factor_sets_the_latent_grid_and_the_pipeline_reads_it(factor, latent_shape):
    torch.manual_seed(0)
    vae = small_autoencoder_kl(downscale_factor=factor, base_channels=8, latent_channels=6)
    with torch.no_grad():
        latents = vae.encode(torch.rand(2, 3, 32, 32) * 2 - 1).latent_dist.mode()
        pictures = vae.decode(latents).sample
    assert latents.shape == (2, 6, *latent_shape) and pictures.shape == (2, 3, 32, 32)
    assert spatial_scale(vae) == factor


def test_widths_double_up_to_the_cap_and_the_middle_block_has_no_attention_by_default():
    arguments = small_autoencoder_kl_arguments(8, base_channels=32, latent_channels=4, max_channels=64)
    assert arguments["block_out_channels"] == [32, 64, 64, 64]
    assert arguments["mid_block_add_attention"] is False and arguments["scaling_factor"] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"downscale_factor": 6}, "power of two"), ({"downscale_factor": 1}, "power of two"),
     ({"base_channels": 12}, "norm_num_groups=8 must divide"), ({"latent_channels": 0}, "must all be >= 1")],
)  # fmt: skip
def test_bad_sizes_are_refused_with_the_reason(kwargs, message):
    with pytest.raises(DiceptionInputError, match=message):
        small_autoencoder_kl_arguments(**kwargs)
