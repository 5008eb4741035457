"""The parameter-free autoencoder round-trips exactly and drops into the pipeline in place of SD3's VAE."""

from __future__ import annotations

import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler

from diception import (
    DiceptionPipeline,
    DiceptionTransformer,
    PixelShuffleAutoencoder,
    PointPromptEncoder,
    PromptEmbeddingCache,
)
from diception.tasks import cached_prompt_set


def test_round_trip_is_exact():
    ae = PixelShuffleAutoencoder(downscale_factor=4)
    x = torch.rand(2, 3, 32, 48)
    z = ae.encode(x).latent_dist.mode()
    assert z.shape == (2, 48, 8, 12) and ae.latent_channels == 48
    torch.testing.assert_close(ae.decode(z).sample, x, atol=0, rtol=0)


def tiny_pipeline() -> DiceptionPipeline:
    torch.manual_seed(0)
    ae = PixelShuffleAutoencoder(downscale_factor=4, scaling_factor=2.0)
    transformer = DiceptionTransformer(
        sample_size=8, patch_size=2, in_channels=48, out_channels=48, num_layers=2, attention_head_dim=8,
        num_attention_heads=2, joint_attention_dim=12, caption_projection_dim=16, pooled_projection_dim=6,
        pos_embed_max_size=16,
    )  # fmt: skip
    prompts = cached_prompt_set()
    cache = PromptEmbeddingCache.from_embeddings(
        prompts, torch.randn(len(prompts), 4, 12), torch.randn(len(prompts), 6)
    )
    return DiceptionPipeline(transformer=transformer, point_encoder=PointPromptEncoder(embed_dim=16, hidden_dim=32),
                             vae=ae, scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0), prompt_cache=cache,
                             default_processing_resolution=32)  # fmt: skip


def test_pipeline_runs_and_reloads_with_the_pixel_shuffle_autoencoder(tmp_path):
    pipe = tiny_pipeline()
    pipe.set_progress_bar_config(disable=True)
    image = np.random.default_rng(0).random((40, 24, 3)).astype(np.float32)
    out = pipe(image, "depth", num_inference_steps=2, generator=torch.Generator().manual_seed(0))
    assert out.images.shape == (1, 40, 24, 3) and pipe.vae_scale_factor == 4
    pipe.save_pretrained(tmp_path / "tiny")
    again = DiceptionPipeline.from_pretrained(tmp_path / "tiny")
    again.set_progress_bar_config(disable=True)
    repeat = again(image, "depth", num_inference_steps=2, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(repeat.images, out.images, atol=1e-6)
