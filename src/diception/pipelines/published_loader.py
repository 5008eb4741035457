"""Loading the published pair (the SD3-medium diffusers folder + ``DICEPTION_v1.pth``) into a pipeline.

Order matters for memory at full size: the checkpoint is read (memory-mapped), checked against a transformer
built on the meta device, and completed from the SD3 folder's weights where it lacks some (see
:mod:`diception.modeling.convert_published`) first; SD3's text encoders then run once to fill the prompt cache and are
freed (unless kept) before the 2 B-parameter MMDiT is materialised, so the two never coexist.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from .. import tasks
from ..errors import DiceptionInputError
from ..modeling.convert_published import (
    base_transformer_weights,
    complete_state_dict,
    load_weights,
    point_encoder_state_dict,
    read_published_checkpoint,
)
from .prompt_cache import PromptEmbeddingCache, encode_with_text_encoders

if TYPE_CHECKING:
    from .pipeline_diception import DiceptionPipeline

TEXT_COMPONENTS = ("tokenizer", "tokenizer_2", "tokenizer_3", "text_encoder", "text_encoder_2", "text_encoder_3")


def load_published(
    pipeline_class: type[DiceptionPipeline],
    sd3_dir: str | os.PathLike,
    diception_pth: str | os.PathLike,
    torch_dtype: torch.dtype | None = None,
    with_text_encoders: bool = False,
    extra_prompts: Sequence[str] = (),
    trust_checkpoint: bool = False,
    **config,
) -> DiceptionPipeline:
    """The pipeline of :meth:`DiceptionPipeline.from_official` (see there for the arguments)."""
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler

    from ..modeling import DiceptionTransformer, PointPromptEncoder

    dtype = torch_dtype or torch.float32
    sd3 = Path(sd3_dir)
    check_sd3_folder(sd3)
    ckpt = read_published_checkpoint(diception_pth, trust=trust_checkpoint)
    with init_empty_weights():  # no memory yet: the checkpoint is checked before any slow work
        transformer = DiceptionTransformer.from_config(DiceptionTransformer.load_config(sd3 / "transformer"))
        point_encoder = PointPromptEncoder(embed_dim=transformer.inner_dim)
    point_state = complete_state_dict(point_encoder, point_encoder_state_dict(ckpt), "point encoder")
    transformer_state = complete_state_dict(transformer, ckpt["transformer"], "transformer",
                                            base=base_transformer_weights(sd3), base_name=f"'{sd3}'")  # fmt: skip

    text = load_text_components(sd3, dtype)
    prompts = list(dict.fromkeys(tasks.cached_prompt_set() + list(extra_prompts)))
    prompt_cache = build_prompt_cache(text, prompts, device=fastest_device())
    if not with_text_encoders:
        text = {}
        free_memory()
    load_weights(transformer, transformer_state, dtype)
    load_weights(point_encoder, point_state, dtype)
    del ckpt, point_state, transformer_state

    vae = AutoencoderKL.from_pretrained(sd3, subfolder="vae", torch_dtype=dtype)
    scheduler = FlowMatchEulerDiscreteScheduler.from_pretrained(sd3, subfolder="scheduler")
    return pipeline_class(transformer=transformer, point_encoder=point_encoder, vae=vae, scheduler=scheduler,
                          prompt_cache=prompt_cache, **text, **config)  # fmt: skip


def load_text_components(sd3_dir: Path, dtype: torch.dtype) -> dict:
    """SD3's tokenizers and text encoders from the diffusers folder (T5 skipped if the folder has none)."""
    from transformers import CLIPTextModelWithProjection, CLIPTokenizer, T5EncoderModel, T5TokenizerFast

    parts = {
        "tokenizer": (CLIPTokenizer, {}),
        "tokenizer_2": (CLIPTokenizer, {}),
        "tokenizer_3": (T5TokenizerFast, {}),
        "text_encoder": (CLIPTextModelWithProjection, {"torch_dtype": dtype}),
        "text_encoder_2": (CLIPTextModelWithProjection, {"torch_dtype": dtype}),
        "text_encoder_3": (T5EncoderModel, {"torch_dtype": dtype}),
    }
    loaded = {}
    for name, (klass, kwargs) in parts.items():
        if not (sd3_dir / name).is_dir():
            if name.endswith("_3"):
                loaded[name] = None
                continue
            raise DiceptionInputError(f"'{sd3_dir}' has no {name}/ folder; it is not a complete SD3 diffusers folder")
        loaded[name] = klass.from_pretrained(sd3_dir, subfolder=name, local_files_only=True, **kwargs)
    return loaded


def build_prompt_cache(text_components: dict, prompts: Sequence[str], batch_size: int = 16,
                       device: torch.device | str = "cpu") -> PromptEmbeddingCache:  # fmt: skip
    """Encode ``prompts`` (plus the empty prompt) with SD3's text encoders into a :class:`PromptEmbeddingCache`
    (on the CPU). The encoders run on ``device`` and are moved back to the CPU afterwards.

    diffusers' SD3 prompt encoding needs the three encoders at once; CLIP-L and CLIP-G are 1.6 GB in bf16 beside
    T5-XXL's 9.5 GB, so loading them together adds little to the peak.
    """
    prompts = list(dict.fromkeys([""] + list(prompts)))
    encoders = [m for m in text_components.values() if isinstance(m, torch.nn.Module)]
    for module in encoders:
        module.to(device)
    try:
        chunks = [encode_with_text_encoders(text_components, prompts[i : i + batch_size], device)
                  for i in range(0, len(prompts), batch_size)]  # fmt: skip
    finally:
        for module in encoders:
            module.to("cpu")
    return PromptEmbeddingCache.from_embeddings(
        prompts, torch.cat([c[0].cpu() for c in chunks]), torch.cat([c[1].cpu() for c in chunks])
    )


def fastest_device() -> torch.device:
    """CUDA when present (the text encoders run there), else the CPU."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def free_memory() -> None:
    """Give freed tensors' memory back (Python's and CUDA's caches) before the next large allocation."""
    import gc

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def check_sd3_folder(folder: Path) -> None:
    """A one-line error unless ``folder`` looks like an SD3 diffusers folder."""
    needed = ["model_index.json", "transformer/config.json", "vae/config.json", "scheduler/scheduler_config.json"]
    missing = [n for n in needed if not (folder / n).is_file()]
    if missing:
        raise DiceptionInputError(
            f"'{folder}' is not an SD3 diffusers folder (missing {', '.join(missing)}); pass the folder of "
            "stabilityai/stable-diffusion-3-medium-diffusers (--pretrained_model_path)"
        )
