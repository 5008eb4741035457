"""DICEPTION's networks: the SD3 MMDiT with condition-image and point tokens, and the point encoder."""

from .autoencoder_pixel_shuffle import PixelShuffleAutoencoder
from .point_encoder import PointPromptEncoder
from .transformer_diception import DiceptionTransformer

__all__ = ["DiceptionTransformer", "PixelShuffleAutoencoder", "PointPromptEncoder"]
