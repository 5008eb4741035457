"""DICEPTION's networks: the SD3 MMDiT with condition-image and point tokens, the point encoder, and the small
autoencoders of models trained from scratch."""

from .autoencoder_kl_small import small_autoencoder_kl, small_autoencoder_kl_arguments
from .autoencoder_pixel_shuffle import PixelShuffleAutoencoder
from .point_encoder import PointPromptEncoder
from .transformer_diception import DiceptionTransformer

__all__ = [
    "DiceptionTransformer",
    "PixelShuffleAutoencoder",
    "PointPromptEncoder",
    "small_autoencoder_kl",
    "small_autoencoder_kl_arguments",
]
