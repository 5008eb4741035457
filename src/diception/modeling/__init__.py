"""DICEPTION's networks: the SD3 MMDiT with condition-image and point tokens, and the point encoder."""

from .point_encoder import PointPromptEncoder
from .transformer_diception import DiceptionTransformer

__all__ = ["DiceptionTransformer", "PointPromptEncoder"]
