"""Point prompts -> context tokens (SAM-style random Fourier features, an MLP, and a slot-type embedding)."""

from __future__ import annotations

import math

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn


class PointPromptEncoder(ModelMixin, ConfigMixin):
    """Encodes up to ``num_slots`` normalised points into as many tokens of width ``embed_dim``.

    Every slot always becomes a token: a given point gets ``point_embedding`` added; an empty slot holds the
    coordinates (0, 0), i.e. the point (-1, -1) after ``2c - 1``, and gets ``empty_slot_embedding`` added.

    Args:
        embed_dim: token width; must equal the transformer's inner dimension (1536 for SD3-medium).
        num_fourier_features: columns of the fixed Gaussian matrix; the MLP input is twice this (sin, cos).
        hidden_dim: width of the MLP's hidden layer.
        num_slots: number of point tokens handed to the transformer.
    """

    @register_to_config
    def __init__(
        self,
        embed_dim: int = 1536,
        num_fourier_features: int = 1024,
        hidden_dim: int = 2048,
        num_slots: int = 5,
    ):
        super().__init__()
        # Fixed at training time (SAM draws it once from N(0, 1)); a persistent buffer so it is saved.
        self.register_buffer("fourier_matrix", torch.randn(2, num_fourier_features), persistent=True)
        self.mlp = nn.Sequential(
            nn.Linear(2 * num_fourier_features, hidden_dim),
            nn.GELU(),
            nn.Linear(hidden_dim, embed_dim),
        )
        self.empty_slot_embedding = nn.Embedding(1, embed_dim)
        self.point_embedding = nn.Embedding(1, embed_dim)

    def fourier_features(self, coords: torch.Tensor) -> torch.Tensor:
        """``(B, S, 2)`` coordinates in [0, 1] -> ``(B, S, 2F)`` features ``[sin, cos]`` of ``2*pi*(2c-1) @ G``."""
        matrix = self.fourier_matrix
        projected = 2.0 * math.pi * ((2.0 * coords.to(matrix.dtype) - 1.0) @ matrix)
        return torch.cat([torch.sin(projected), torch.cos(projected)], dim=-1)

    def forward(self, coords: torch.Tensor, is_point: torch.Tensor) -> torch.Tensor:
        """Point tokens.

        Args:
            coords: ``(B, S, 2)`` normalised coordinates in the model's component order (see the pipeline's
                ``point_order``); empty slots hold zeros.
            is_point: ``(B, S)`` or ``(B, S, 1)``, 1 / True where the slot holds a given point.

        Returns:
            ``(B, S, embed_dim)`` tokens, appended after the embedded text tokens.
        """
        tokens = self.mlp(self.fourier_features(coords).to(self.mlp[0].weight.dtype))
        is_point = is_point.reshape(*tokens.shape[:2], 1).bool()
        slot_type = torch.where(is_point, self.point_embedding.weight, self.empty_slot_embedding.weight)
        return tokens + slot_type.to(tokens.dtype)
