"""Inference pipelines."""

from .pipeline_diception import DiceptionPipeline
from .pipeline_output import DiceptionOutput
from .prompt_cache import PromptEmbeddingCache

__all__ = ["DiceptionOutput", "DiceptionPipeline", "PromptEmbeddingCache"]
