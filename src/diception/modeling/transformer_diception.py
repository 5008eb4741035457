"""The SD3 MMDiT with DICEPTION's two additions: condition-image tokens and point tokens.

Parameter names are exactly those of diffusers' ``SD3Transformer2DModel``, so SD3 and DICEPTION transformer
weights load unchanged.
"""

from __future__ import annotations

import torch
from diffusers.models.modeling_outputs import Transformer2DModelOutput
from diffusers.models.modeling_utils import ModelMixin  # noqa: F401  (diffusers' loader looks it up here)
from diffusers.models.transformers.transformer_sd3 import SD3Transformer2DModel


class DiceptionTransformer(SD3Transformer2DModel):
    """SD3 MMDiT reading a noisy latent, a condition latent and point tokens.

    * image stream = ``[noisy tokens (N); condition tokens (N)]``: both latents go through the same patch
      embedding and positional table (pixel-aligned); only the first N outputs are read out;
    * context stream = ``[context_embedder(text) (T); point tokens (P)]``: point tokens skip the text projection.

    Called without ``cond_latents`` and ``point_tokens`` it is plain SD3.
    """

    def forward(
        self,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        pooled_projections: torch.Tensor,
        timestep: torch.Tensor,
        cond_latents: torch.Tensor | None = None,
        point_tokens: torch.Tensor | None = None,
        joint_attention_kwargs: dict | None = None,
        return_dict: bool = True,
    ) -> Transformer2DModelOutput | tuple[torch.Tensor]:
        """Velocity prediction for the noisy latent.

        Args:
            hidden_states: ``(B, C, h, w)`` noisy latents.
            encoder_hidden_states: ``(B, T, joint_attention_dim)`` text embeddings (CLIP rows then T5 rows).
            pooled_projections: ``(B, pooled_projection_dim)`` pooled CLIP embeddings.
            timestep: ``(B,)`` flow-matching timesteps in [0, 1000].
            cond_latents: ``(B, C, h, w)`` shifted and scaled latents of the input image, or ``None``.
            point_tokens: ``(B, P, inner_dim)`` tokens from :class:`PointPromptEncoder`, or ``None``.

        Returns:
            ``(B, out_channels, h, w)`` prediction, as ``Transformer2DModelOutput.sample`` or a 1-tuple.
        """
        height, width = hidden_states.shape[-2:]
        image_tokens = self.pos_embed(hidden_states)  # (B, N, D), positional table added
        num_noisy = image_tokens.shape[1]
        if cond_latents is not None:
            if cond_latents.shape[-2:] != (height, width):
                raise ValueError(
                    f"cond_latents {tuple(cond_latents.shape)} must match the noisy latents "
                    f"{tuple(hidden_states.shape)}"
                )
            image_tokens = torch.cat([image_tokens, self.pos_embed(cond_latents)], dim=1)  # (B, 2N, D)
        image_tokens = image_tokens.contiguous()

        temb = self.time_text_embed(timestep, pooled_projections)
        context = self.context_embedder(encoder_hidden_states)  # (B, T, D)
        if point_tokens is not None:
            context = torch.cat([context, point_tokens.to(context.dtype)], dim=1)  # (B, T + P, D)

        for block in self.transformer_blocks:
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                context, image_tokens = self._gradient_checkpointing_func(
                    block, image_tokens, context, temb, joint_attention_kwargs
                )
            else:
                context, image_tokens = block(
                    hidden_states=image_tokens,
                    encoder_hidden_states=context,
                    temb=temb,
                    joint_attention_kwargs=joint_attention_kwargs,
                )

        noisy = self.norm_out(image_tokens[:, :num_noisy], temb)
        noisy = self.proj_out(noisy)  # (B, N, p*p*C)
        output = self.unpatchify(noisy, height, width)
        if not return_dict:
            return (output,)
        return Transformer2DModelOutput(sample=output)

    def unpatchify(self, tokens: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """``(B, N, p*p*C)`` tokens -> ``(B, C, height, width)`` latents."""
        p = self.config.patch_size
        b = tokens.shape[0]
        x = tokens.reshape(b, height // p, width // p, p, p, self.out_channels)
        x = torch.einsum("nhwpqc->nchpwq", x)
        return x.reshape(b, self.out_channels, height, width)
