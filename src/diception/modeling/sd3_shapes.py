"""Stable Diffusion 3 medium's shapes, as the ``config.json`` files of its diffusers folder give them.

For building SD3-medium-sized models with random weights (the real-scale and GPU benchmarks, the training
memory table) without the weights themselves.
"""

from __future__ import annotations

SD3_MEDIUM_TRANSFORMER = dict(sample_size=128, patch_size=2, in_channels=16, num_layers=24, attention_head_dim=64,
                              num_attention_heads=24, joint_attention_dim=4096, caption_projection_dim=1536,
                              pooled_projection_dim=2048, out_channels=16, pos_embed_max_size=192)  # fmt: skip
SD3_MEDIUM_VAE = dict(block_out_channels=[128, 256, 512, 512], down_block_types=["DownEncoderBlock2D"] * 4,
                      up_block_types=["UpDecoderBlock2D"] * 4, latent_channels=16, layers_per_block=2,
                      norm_num_groups=32, scaling_factor=1.5305, shift_factor=0.0609, use_quant_conv=False,
                      use_post_quant_conv=False)  # fmt: skip
