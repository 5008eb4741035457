"""DICEPTION: one diffusion model (SD3 MMDiT) as a generalist perception system.

from diception import DiceptionPipeline
pipe = DiceptionPipeline.from_pretrained("path/to/diception-model")
out = pipe("photo.jpg", task="depth")
out.prediction[0]  # (H, W) relative disparity in [0, 1]
"""

from .bundled import bundled_model_path
from .errors import DiceptionInputError
from .modeling import DiceptionTransformer, PixelShuffleAutoencoder, PointPromptEncoder
from .pipelines import DiceptionOutput, DiceptionPipeline, PromptEmbeddingCache

__version__ = "0.1.0"

__all__ = [
    "bundled_model_path",
    "DiceptionInputError",
    "DiceptionOutput",
    "DiceptionPipeline",
    "DiceptionTransformer",
    "PixelShuffleAutoencoder",
    "PointPromptEncoder",
    "PromptEmbeddingCache",
]
