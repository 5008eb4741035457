"""Inference pipelines."""

from .pipeline_diception import DiceptionPipeline, default_device, default_dtype
from .pipeline_output import DiceptionOutput
from .prompt_cache import PromptEmbeddingCache

__all__ = ["DiceptionOutput", "DiceptionPipeline", "PromptEmbeddingCache", "default_device", "default_dtype"]
