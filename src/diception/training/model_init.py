"""Where the weights to train come from (``model.init``).

* ``sd3``: SD3's transformer (diffusers folder), a fresh point encoder, SD3's VAE and scheduler, and a prompt cache
  computed once with SD3's three text encoders (which are then dropped): DICEPTION's own starting point;
* ``official``: the same SD3 folder plus the published ``DICEPTION_v1.pth`` (:meth:`DiceptionPipeline.from_official`);
* ``pretrained``: a DICEPTION model folder (``save_pretrained`` layout), to continue training;
* ``scratch``: a small model of the same architecture built from config (``model.transformer``, ``model.vae`` or
  ``model.vae_path``). No text encoder exists then, so every prompt gets a random but fixed embedding drawn from
  ``hash(model.prompt_seed, prompt)``: the model learns to tell prompts apart, and the same seed gives the same
  embeddings for a prompt whatever other prompts are cached (the empty prompt included).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import torch
from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler

from ..errors import DiceptionInputError
from ..modeling import DiceptionTransformer, PointPromptEncoder
from ..pipelines import DiceptionPipeline, PromptEmbeddingCache
from ..pipelines.published_loader import build_prompt_cache, check_sd3_folder, load_text_components
from .config import ModelConfig

# Small-model defaults for ``init: scratch`` (overridden key by key by ``model.transformer`` / ``model.vae``).
SCRATCH_TRANSFORMER = dict(sample_size=8, patch_size=2, in_channels=4, out_channels=4, num_layers=4,
                           attention_head_dim=32, num_attention_heads=4, joint_attention_dim=64,
                           caption_projection_dim=128, pooled_projection_dim=64, pos_embed_max_size=32)  # fmt: skip
SCRATCH_VAE = dict(block_out_channels=[16, 32], down_block_types=["DownEncoderBlock2D"] * 2,
                   up_block_types=["UpDecoderBlock2D"] * 2, latent_channels=4, norm_num_groups=8,
                   layers_per_block=1, sample_size=64, scaling_factor=1.0, shift_factor=0.0)  # fmt: skip
PROMPT_EMBEDDINGS = ("whole", "words")  # model.prompt_embedding: how random_prompt_cache embeds a prompt


def _seeded_generator(*words: object) -> torch.Generator:
    digest = hashlib.sha256("\x00".join(map(str, words)).encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)


def random_prompt_cache(prompts: Sequence[str], sequence_length: int, embed_dim: int, pooled_dim: int,
                        seed: int = 0, embedding: str = "whole") -> PromptEmbeddingCache:  # fmt: skip
    """A cache of random N(0, 1) embeddings standing in for a text encoder.

    ``embedding="whole"``: each prompt's rows are drawn from a generator seeded by ``sha256(seed, prompt)``, so
    prompts share nothing. ``"words"``: row ``j`` is the embedding of the prompt's ``j``-th whitespace word (drawn
    from ``sha256(seed, "word", word)``), later rows are zero and the pooled vector is the words' pooled vectors
    summed and divided by sqrt(count): prompts that share words share rows, as a caption's words do in a text
    encoder (the empty prompt keeps its own whole-prompt draw).
    """
    if embedding not in PROMPT_EMBEDDINGS:
        raise DiceptionInputError(f"model.prompt_embedding={embedding!r}; choose {' or '.join(PROMPT_EMBEDDINGS)}")
    prompts = list(dict.fromkeys([""] + list(prompts)))
    embeds, pooled = [], []
    for prompt in prompts:
        words = prompt.split()
        if embedding == "whole" or not words:
            generator = _seeded_generator(seed, prompt)
            embeds.append(torch.randn(sequence_length, embed_dim, generator=generator))
            pooled.append(torch.randn(pooled_dim, generator=generator))
            continue
        if len(words) > sequence_length:
            raise DiceptionInputError(f"prompt {prompt!r} has {len(words)} words, more than model.prompt_length="
                                      f"{sequence_length}; raise model.prompt_length")  # fmt: skip
        rows, vectors = torch.zeros(sequence_length, embed_dim), []
        for j, word in enumerate(words):
            generator = _seeded_generator(seed, "word", word)
            rows[j] = torch.randn(embed_dim, generator=generator)
            vectors.append(torch.randn(pooled_dim, generator=generator))
        embeds.append(rows)
        pooled.append(torch.stack(vectors).sum(0) / len(vectors) ** 0.5)
    return PromptEmbeddingCache.from_embeddings(prompts, torch.stack(embeds), torch.stack(pooled))


def new_point_encoder(transformer: DiceptionTransformer, config: ModelConfig) -> PointPromptEncoder:
    """A freshly initialised point encoder as wide as the transformer."""
    return PointPromptEncoder(embed_dim=transformer.inner_dim, **config.point_encoder)


def pipeline_from_sd3(sd3_dir: str | Path, config: ModelConfig, prompts: Sequence[str]) -> DiceptionPipeline:
    """DICEPTION's starting point: SD3's transformer, VAE and scheduler, a new point encoder, cached prompts."""
    sd3 = Path(sd3_dir)
    check_sd3_folder(sd3)
    text = load_text_components(sd3, torch.float32)
    prompt_cache = build_prompt_cache(text, prompts)
    del text  # the text encoders run once; the MMDiT is loaded after they are freed
    transformer = DiceptionTransformer.from_pretrained(sd3, subfolder="transformer", local_files_only=True)
    vae = AutoencoderKL.from_pretrained(sd3, subfolder="vae", local_files_only=True)
    scheduler = FlowMatchEulerDiscreteScheduler.from_pretrained(sd3, subfolder="scheduler")
    point_encoder = new_point_encoder(transformer, config)
    return DiceptionPipeline(transformer=transformer, point_encoder=point_encoder, vae=vae, scheduler=scheduler,
                             prompt_cache=prompt_cache, point_order=config.point_order)  # fmt: skip


def pipeline_from_scratch(config: ModelConfig, prompts: Sequence[str], resolution: int) -> DiceptionPipeline:
    """A small DICEPTION of fresh weights (seed them with ``torch.manual_seed`` first) and a random prompt cache."""
    t_args = {**SCRATCH_TRANSFORMER, **config.transformer}
    if t_args["caption_projection_dim"] != t_args["num_attention_heads"] * t_args["attention_head_dim"]:
        raise DiceptionInputError("model.transformer: caption_projection_dim must equal heads x attention_head_dim")
    if config.vae_path:
        vae = AutoencoderKL.from_pretrained(config.vae_path, local_files_only=True)
    elif config.vae_kind == "pixel_shuffle":
        vae = pixel_shuffle_autoencoder(config.vae)
    else:
        vae = AutoencoderKL(**{**SCRATCH_VAE, **config.vae})
    channels = vae.config.latent_channels if "latent_channels" in vae.config else vae.latent_channels
    if channels != t_args["in_channels"]:
        raise DiceptionInputError(
            f"the autoencoder has {channels} latent channels but model.transformer.in_channels is "
            f"{t_args['in_channels']}; make them equal"
        )
    transformer = DiceptionTransformer(**t_args)
    cache = random_prompt_cache(prompts, config.prompt_length, t_args["joint_attention_dim"],
                                t_args["pooled_projection_dim"], config.prompt_seed,
                                config.prompt_embedding)  # fmt: skip
    return DiceptionPipeline(transformer=transformer, point_encoder=new_point_encoder(transformer, config), vae=vae,
                             scheduler=FlowMatchEulerDiscreteScheduler(shift=config.scheduler_shift),
                             prompt_cache=cache, point_order=config.point_order,
                             default_processing_resolution=resolution)  # fmt: skip


def pixel_shuffle_autoencoder(arguments: dict):
    """The parameter-free :class:`~diception.modeling.PixelShuffleAutoencoder` (3 x f^2 latent channels)."""
    try:
        from ..modeling import PixelShuffleAutoencoder
    except ImportError:
        raise DiceptionInputError("model.vae_kind=pixel_shuffle needs diception.modeling.PixelShuffleAutoencoder; "
                                  "use model.vae_kind=kl") from None  # fmt: skip
    return PixelShuffleAutoencoder(**arguments)


def initial_pipeline(config: ModelConfig, prompts: Sequence[str], resolution: int) -> DiceptionPipeline:
    """The pipeline to train, as ``config.init`` says; ``prompts`` must all end up in its prompt cache."""
    prompts = list(dict.fromkeys([*prompts, *config.extra_prompts]))
    if config.init in ("sd3", "official") and not config.sd3_path:
        raise DiceptionInputError(f"model.init={config.init} needs model.sd3_path (the SD3 diffusers folder)")
    if config.init == "sd3":
        return pipeline_from_sd3(config.sd3_path, config, prompts)
    if config.init == "official":
        if not config.official_checkpoint:
            raise DiceptionInputError("model.init=official needs model.official_checkpoint (DICEPTION_v1.pth)")
        return DiceptionPipeline.from_official(config.sd3_path, config.official_checkpoint, extra_prompts=prompts,
                                               trust_checkpoint=config.trust_checkpoint,
                                               point_order=config.point_order)  # fmt: skip
    if config.init == "pretrained":
        if not config.pretrained_path:
            raise DiceptionInputError("model.init=pretrained needs model.pretrained_path (a DICEPTION model folder)")
        pipe = DiceptionPipeline.from_pretrained(config.pretrained_path)
        if config.learn_prompt and config.learn_prompt not in pipe.prompt_cache:  # trained from the init's row
            cache = pipe.prompt_cache.with_prompt_like(config.learn_prompt, config.learn_prompt_init)
            pipe.register_modules(prompt_cache=cache)
        missing = [p for p in prompts if p not in pipe.prompt_cache]
        if missing and not pipe.has_text_encoders:
            raise DiceptionInputError(
                f"{config.pretrained_path} caches no embedding for {len(missing)} training prompt(s), e.g. "
                f"{missing[0]!r}; add them with `diception convert --add-prompt` or drop those samples"
            )
        return pipe
    if config.init == "scratch":
        return pipeline_from_scratch(config, prompts, resolution)
    raise DiceptionInputError(f"model.init={config.init!r}; choose sd3, official, pretrained or scratch")
