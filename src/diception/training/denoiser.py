"""The trainable part of DICEPTION as one module: point encoder + transformer, one forward for DDP/FSDP.

Wrapping both in one ``nn.Module`` lets accelerate hand a single model to DDP, so the point encoder's gradients
are synchronised like the transformer's; the sub-modules stay the pipeline's own objects.
"""

from __future__ import annotations

import torch
from torch import nn

from ..modeling import DiceptionTransformer, PointPromptEncoder


class LearnedPrompt(nn.Module):
    """A prompt's embedding trained with the model (for a prompt the base model has no text encoder for)."""

    def __init__(self, prompt_embeds: torch.Tensor, pooled_prompt_embeds: torch.Tensor):
        super().__init__()
        self.prompt_embeds = nn.Parameter(prompt_embeds.detach().clone().float())  # (S, D)
        self.pooled_prompt_embeds = nn.Parameter(pooled_prompt_embeds.detach().clone().float())  # (P,)


class DiceptionDenoiser(nn.Module):
    """Velocity prediction from noisy latents, condition latents, text embeddings and point slots."""

    def __init__(self, transformer: DiceptionTransformer, point_encoder: PointPromptEncoder,
                 learned_prompt: LearnedPrompt | None = None):  # fmt: skip
        super().__init__()
        self.transformer = transformer
        self.point_encoder = point_encoder
        self.learned_prompt = learned_prompt

    def forward(
        self,
        noisy: torch.Tensor,
        timesteps: torch.Tensor,
        prompt_embeds: torch.Tensor,
        pooled_embeds: torch.Tensor,
        cond_latents: torch.Tensor | None,
        coords: torch.Tensor,
        is_point: torch.Tensor,
        keep_points: torch.Tensor,
        use_learned_prompt: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``(B, C, h, w)`` velocity.

        Args:
            noisy: ``(B, C, h, w)`` noisy target latents.
            timesteps: ``(B,)`` in [0, 1000].
            prompt_embeds, pooled_embeds: ``(B, S, D)`` and ``(B, P)`` from the prompt cache.
            cond_latents: ``(B, C, h, w)`` latents of the input image; ``None`` for text-to-image pretraining
                (then no point tokens either: the transformer is plain SD3).
            coords, is_point: ``(B, 5, 2)`` and ``(B, 5)`` from :func:`diception.tasks.points.point_slots`.
            keep_points: ``(B,)`` bool; False zeroes a sample's point tokens (the sampler's unconditional branch).
            use_learned_prompt: ``(B,)`` bool; True takes :attr:`learned_prompt` for that sample's prompt rows.
        """
        dtype = self.transformer.dtype
        if self.learned_prompt is not None and use_learned_prompt is not None:
            take = use_learned_prompt.to(prompt_embeds.device)
            prompt_embeds = torch.where(take[:, None, None], self.learned_prompt.prompt_embeds[None].to(prompt_embeds),
                                        prompt_embeds)  # fmt: skip
            pooled_embeds = torch.where(take[:, None], self.learned_prompt.pooled_prompt_embeds[None].to(pooled_embeds),
                                        pooled_embeds)  # fmt: skip
        tokens = None
        if cond_latents is not None:
            tokens = self.point_encoder(coords, is_point)  # (B, 5, D)
            tokens = tokens * keep_points.to(tokens.dtype).view(-1, 1, 1)
            cond_latents = cond_latents.to(dtype)
        return self.transformer(
            hidden_states=noisy.to(dtype),
            encoder_hidden_states=prompt_embeds.to(dtype),
            pooled_projections=pooled_embeds.to(dtype),
            timestep=timesteps,
            cond_latents=cond_latents,
            point_tokens=tokens,
            return_dict=False,
        )[0]
