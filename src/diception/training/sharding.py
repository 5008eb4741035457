"""FSDP for training (``parallel.strategy: fsdp``): accelerate's FSDP2 plugin set up for the MMDiT, and the
gather that puts the sharded weights back together on the main process for validation and export.

Under FSDP every process holds 1/N of each weight, gradient and AdamW state; a transformer block's weights are
gathered just for its forward and backward. Validation pictures and the exported folder need the whole model
on one process, so :func:`gathered_denoiser` collects the full state dict (every process takes part) and the
main process loads it into a fresh, unsharded copy built on the meta device (no second random
initialisation). Checkpoints stay sharded (accelerate's distributed checkpoint), so saving and resuming never
gather.
"""

from __future__ import annotations

import torch
from accelerate import Accelerator
from accelerate.utils import DistributedType, FullyShardedDataParallelPlugin

from ..modeling import DiceptionTransformer, PointPromptEncoder
from .config import LoraConfig, ParallelConfig
from .denoiser import DiceptionDenoiser, LearnedPrompt
from .lora import add_lora

# Each MMDiT block is one FSDP unit: its weights are gathered together, one block at a time.
WRAPPED_BLOCKS = ["JointTransformerBlock"]


def fsdp_plugin(config: ParallelConfig) -> FullyShardedDataParallelPlugin:
    """accelerate's FSDP2 plugin: one unit per transformer block plus the rest, sharded checkpoints."""
    return FullyShardedDataParallelPlugin(
        fsdp_version=2,
        auto_wrap_policy="transformer_based_wrap",
        transformer_cls_names_to_wrap=list(WRAPPED_BLOCKS),
        reshard_after_forward=config.fsdp_reshard_after_forward,
        cpu_offload=config.fsdp_cpu_offload,
        state_dict_type="SHARDED_STATE_DICT",
    )


def is_sharded(accelerator: Accelerator) -> bool:
    """Whether ``accelerator`` runs FSDP (the weights are split over the processes)."""
    return accelerator.distributed_type == DistributedType.FSDP


def gathered_denoiser(
    accelerator: Accelerator, denoiser: DiceptionDenoiser, lora: LoraConfig | None = None
) -> DiceptionDenoiser | None:
    """A whole, unsharded copy of the FSDP-prepared ``denoiser`` on the main process (on the CPU, float32 as
    trained); ``None`` on the others. Every process must call it: the gather is a collective.

    ``lora``: the adapters the training run added (the copy gets the same layers, so the keys match).
    """
    state = accelerator.get_state_dict(denoiser)  # full tensors on the main process, {} elsewhere
    if not accelerator.is_main_process:
        return None
    trained = accelerator.unwrap_model(denoiser)
    with torch.device("meta"):
        transformer = DiceptionTransformer.from_config(trained.transformer.config)
        if lora is not None:
            add_lora(transformer, lora)
        point_encoder = PointPromptEncoder.from_config(trained.point_encoder.config)
        learned = None
        if trained.learned_prompt is not None:
            shapes = (trained.learned_prompt.prompt_embeds.shape, trained.learned_prompt.pooled_prompt_embeds.shape)
            learned = LearnedPrompt(*(torch.empty(shape) for shape in shapes))
    whole = DiceptionDenoiser(transformer, point_encoder, learned)
    whole.load_state_dict(state, strict=True, assign=True)  # takes the gathered tensors, copies nothing
    return whole.requires_grad_(False).eval()
