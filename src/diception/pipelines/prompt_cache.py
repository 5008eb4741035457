"""Precomputed text embeddings for DICEPTION's closed set of prompts.

SD3's three text encoders (T5-XXL alone is ~9 GB) only ever see a handful of fixed prompts here, so we run them
once, store ``prompt_embeds`` and ``pooled_prompt_embeds`` in the saved model folder, and never load them at
inference for a cached prompt.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

from ..errors import DiceptionInputError

T5_MAX_SEQUENCE_LENGTH = 256  # the published code pads T5 ids to 256


class PromptEmbeddingCache(ModelMixin, ConfigMixin):
    """A table ``prompt -> (prompt_embeds (S, D), pooled_prompt_embeds (P,))``, saved like any model.

    Args:
        prompts: the cached prompt strings, in table order.
        sequence_length: S, text rows per prompt (77 CLIP + 256 T5 = 333 for SD3).
        embed_dim: D, width of the text rows (T5's width, 4096 for SD3).
        pooled_dim: P, width of the pooled vector (768 + 1280 = 2048 for SD3).
    """

    @register_to_config
    def __init__(self, prompts: Sequence[str] = (), sequence_length: int = 333, embed_dim: int = 4096,
                 pooled_dim: int = 2048):  # fmt: skip
        super().__init__()
        self.register_buffer("prompt_embeds", torch.zeros(len(prompts), sequence_length, embed_dim))
        self.register_buffer("pooled_prompt_embeds", torch.zeros(len(prompts), pooled_dim))
        self._index = {p: i for i, p in enumerate(prompts)}

    @classmethod
    def from_embeddings(
        cls, prompts: Sequence[str], prompt_embeds: torch.Tensor, pooled_prompt_embeds: torch.Tensor
    ) -> PromptEmbeddingCache:
        """Build a cache from ``(len(prompts), S, D)`` and ``(len(prompts), P)`` embeddings."""
        if len(set(prompts)) != len(prompts):
            raise ValueError("prompts must be unique")
        cache = cls(list(prompts), prompt_embeds.shape[1], prompt_embeds.shape[2], pooled_prompt_embeds.shape[1])
        cache.prompt_embeds = prompt_embeds.detach().clone()
        cache.pooled_prompt_embeds = pooled_prompt_embeds.detach().clone()
        return cache

    @property
    def prompts(self) -> list[str]:
        return list(self.config.prompts)

    def __contains__(self, prompt: str) -> bool:
        return prompt in self._index

    def __len__(self) -> int:
        return len(self._index)

    def lookup(self, prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, S, D)`` and ``(B, P)`` embeddings of ``prompts``; a clear error for an uncached one."""
        missing = [p for p in prompts if p not in self._index]
        if missing:
            raise uncached_prompt_error(missing[0], self.prompts)
        rows = torch.tensor([self._index[p] for p in prompts], device=self.prompt_embeds.device)
        return self.prompt_embeds[rows], self.pooled_prompt_embeds[rows]

    def with_prompt(self, prompt: str, embeds: torch.Tensor, pooled: torch.Tensor) -> PromptEmbeddingCache:
        """A cache holding ``prompt`` with these ``(S, D)`` and ``(P,)`` embeddings (its row replaced if cached)."""
        want, want_pooled = tuple(self.prompt_embeds.shape[1:]), tuple(self.pooled_prompt_embeds.shape[1:])
        if tuple(embeds.shape) != want or tuple(pooled.shape) != want_pooled:
            raise DiceptionInputError(
                f"prompt '{prompt}': embedding of shape {tuple(embeds.shape)} and {tuple(pooled.shape)}, but this "
                f"model's prompts are {want} and {want_pooled}; the adapter was made for another base model"
            )
        embeds, pooled = embeds.to(self.prompt_embeds), pooled.to(self.pooled_prompt_embeds)
        table, pooled_table = self.prompt_embeds, self.pooled_prompt_embeds
        if prompt in self._index:
            table, pooled_table = table.clone(), pooled_table.clone()
            table[self._index[prompt]], pooled_table[self._index[prompt]] = embeds, pooled
            return PromptEmbeddingCache.from_embeddings(self.prompts, table, pooled_table)
        return PromptEmbeddingCache.from_embeddings(
            self.prompts + [prompt], torch.cat([table, embeds[None]]), torch.cat([pooled_table, pooled[None]])
        )

    def with_prompt_like(self, prompt: str, source: str) -> PromptEmbeddingCache:
        """A cache holding ``prompt`` with the embeddings of the cached ``source`` (a start to learn it from)."""
        embeds, pooled = self.lookup([source])
        return self.with_prompt(prompt, embeds[0], pooled[0])

    def merged_with(self, other: PromptEmbeddingCache) -> PromptEmbeddingCache:
        """A cache holding this one's prompts followed by ``other``'s new ones."""
        new = [p for p in other.prompts if p not in self]
        if not new:
            return self
        embeds, pooled = other.lookup(new)
        return PromptEmbeddingCache.from_embeddings(
            self.prompts + new,
            torch.cat([self.prompt_embeds, embeds.to(self.prompt_embeds)]),
            torch.cat([self.pooled_prompt_embeds, pooled.to(self.pooled_prompt_embeds)]),
        )


def uncached_prompt_error(prompt: str, available: Sequence[str]) -> DiceptionInputError:
    shown = [repr(p) for p in available if p][:8]
    more = f" and {len(available) - 1 - len(shown)} more" if len(available) - 1 > len(shown) else ""
    return DiceptionInputError(
        f"prompt '{prompt}' is not in the model's prompt cache and no text encoders are loaded; cached prompts: "
        f"{', '.join(shown)}{more}. Add it with `diception convert --sd3 SD3_DIR --checkpoint PTH --out DIR "
        f'--add-prompt "{prompt}"` or keep the encoders with `--with-text-encoders`'
    )


def encode_with_text_encoders(components: dict, prompts: Sequence[str], device: torch.device | str = "cpu"
                              ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Run SD3's three text encoders exactly as the published code does (diffusers' SD3 prompt encoding:
    penultimate CLIP states, pooled CLIP at the first end token, T5 padded to 256 without attention mask).

    ``components`` holds ``tokenizer``, ``tokenizer_2``, ``tokenizer_3``, ``text_encoder``, ``text_encoder_2``
    and ``text_encoder_3`` (the last pair may be ``None``: the T5 rows are then zeros, as in diffusers).
    Returns ``(B, 77 + 256, D)`` and ``(B, P)``.
    """
    with quiet_torchvision_fallback():
        from diffusers import StableDiffusion3Pipeline

    encoder = StableDiffusion3Pipeline(
        transformer=None, scheduler=None, vae=None,
        text_encoder=components["text_encoder"], tokenizer=components["tokenizer"],
        text_encoder_2=components["text_encoder_2"], tokenizer_2=components["tokenizer_2"],
        text_encoder_3=components.get("text_encoder_3"), tokenizer_3=components.get("tokenizer_3"),
    )  # fmt: skip
    with torch.no_grad():
        embeds, _, pooled, _ = encoder.encode_prompt(
            prompt=list(prompts), prompt_2=None, prompt_3=None, device=torch.device(device),
            do_classifier_free_guidance=False, max_sequence_length=T5_MAX_SEQUENCE_LENGTH,
        )  # fmt: skip
    return embeds, pooled


@contextlib.contextmanager
def quiet_torchvision_fallback() -> Iterator[None]:
    """Silence transformers' warning that its CLIP and SigLIP image processors want torchvision: diffusers' SD3
    pipeline imports them for IP adapters, which we never use, and the PIL fallback it takes is fine."""
    logger = logging.getLogger("transformers.utils.import_utils")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
