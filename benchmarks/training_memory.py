"""Training memory per GPU for the SD3-medium recipe (``configs/sd3_medium.yaml``): DDP and FSDP on 1, 4, 8 GPUs.

Computed, not measured on GPUs (none is here):

* parameters: counted on the real shapes (:mod:`diception.modeling.sd3_shapes`), built on the meta device;
* weights, gradients and AdamW states: float32 masters (4 + 4 + 8 bytes a parameter) under bf16 mixed precision;
  DDP holds them whole on every GPU, FSDP holds 1/N of each plus the bf16 copies of the blocks in flight (the
  one computing and the one prefetched, weights and gradients);
* under DDP bf16 autocast also keeps a bf16 copy of every weight while forward and backward run;
* activations, with gradient checkpointing: each of the 24 blocks keeps its inputs (both streams and the
  timestep embedding), and one block's full activations are live while it is recomputed in backward. Those are
  measured here on the CPU: one real-width block at the 768 px sequence (2 x 48 x 48 image tokens, 333 text +
  5 point tokens) runs forward under bf16 autocast and every tensor autograd saves is counted; the S x S
  attention probabilities of the CPU's math attention are replaced by what flash attention keeps (one float32
  log-sum-exp per query and head);
* the frozen VAE in bf16; the CUDA context and allocator slack are not included (add ~1-3 GB).

``python benchmarks/training_memory.py --out bench_results/training_memory.json`` prints the table (markdown) and
writes the JSON. About a minute on 2 CPU cores, ~6 GB of RAM.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from diception.modeling.sd3_shapes import SD3_MEDIUM_TRANSFORMER, SD3_MEDIUM_VAE

GB = 1e9
RESOLUTION = 768
BATCH = 28  # per GPU, the paper's
TEXT_TOKENS, POINT_TOKENS = 333, 5  # 77 CLIP + 256 T5 rows; the point slots
GPUS = (1, 4, 8)


def parameter_counts() -> dict[str, int]:
    """Trainable (transformer + point encoder), per transformer block, and the frozen VAE's."""
    import torch
    from diffusers import AutoencoderKL

    from diception import DiceptionTransformer, PointPromptEncoder

    with torch.device("meta"):
        transformer = DiceptionTransformer(**SD3_MEDIUM_TRANSFORMER)
        point_encoder = PointPromptEncoder(embed_dim=transformer.inner_dim)
        vae = AutoencoderKL(**SD3_MEDIUM_VAE)

    def count(module) -> int:
        return sum(p.numel() for p in module.parameters())

    return {"trainable": count(transformer) + count(point_encoder), "transformer": count(transformer),
            "point_encoder": count(point_encoder), "block": count(transformer.transformer_blocks[0]),
            "blocks": len(transformer.transformer_blocks), "vae": count(vae)}  # fmt: skip


def block_activation_bytes() -> dict[str, float]:
    """Bytes per sample: what one block keeps under checkpointing (its inputs) and all it saves for backward."""
    import torch
    from diffusers.models.attention import JointTransformerBlock

    cfg = SD3_MEDIUM_TRANSFORMER
    dim = cfg["num_attention_heads"] * cfg["attention_head_dim"]
    image_tokens = 2 * (RESOLUTION // 8 // cfg["patch_size"]) ** 2  # noisy + condition latent tokens
    context_tokens = TEXT_TOKENS + POINT_TOKENS
    sequence = image_tokens + context_tokens
    torch.manual_seed(0)
    block = JointTransformerBlock(dim, cfg["num_attention_heads"], cfg["attention_head_dim"])
    weights = {p.data_ptr() for p in block.parameters()}
    weight_shapes = {tuple(p.shape) for p in block.parameters()}
    hidden = torch.randn(1, image_tokens, dim, requires_grad=True)
    context = torch.randn(1, context_tokens, dim, requires_grad=True)
    temb = torch.randn(1, dim, requires_grad=True)
    seen: dict[int, int] = {}
    attention_probabilities = 0

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        nonlocal attention_probabilities
        ptr = tensor.untyped_storage().data_ptr()
        if ptr in weights or tuple(tensor.shape) in weight_shapes:  # weights and their bf16 casts: counted apart
            return tensor
        if tensor.dim() >= 2 and tensor.shape[-1] == tensor.shape[-2] == sequence:
            attention_probabilities += tensor.numel() * tensor.element_size()
            return tensor
        seen[ptr] = max(seen.get(ptr, 0), tensor.untyped_storage().nbytes())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), torch.autocast("cpu", dtype=torch.bfloat16):
        block(hidden_states=hidden, encoder_hidden_states=context, temb=temb)
    flash_lse = cfg["num_attention_heads"] * sequence * 4  # float32 log-sum-exp per head and query
    checkpoint_inputs = (image_tokens + context_tokens + 1) * dim * 2  # bf16 inputs of both streams + temb
    return {"sequence": sequence, "image_tokens": image_tokens, "context_tokens": context_tokens,
            "saved_per_block": sum(seen.values()) + flash_lse, "cpu_attention_probabilities": attention_probabilities,
            "checkpoint_inputs_per_block": checkpoint_inputs}  # fmt: skip


def table(counts: dict[str, int], act: dict[str, float]) -> list[dict]:
    """One row per (strategy, GPUs): GB per GPU of each part and the total."""
    p, block = counts["trainable"], counts["block"]
    activations = BATCH * (counts["blocks"] * act["checkpoint_inputs_per_block"] + act["saved_per_block"])
    rows = []
    for strategy in ("DDP", "FSDP"):
        for gpus in GPUS:
            shards = gpus if strategy == "FSDP" else 1  # one process: accelerate runs FSDP as plain training
            in_flight = 2 * 2 * block * 2 if shards > 1 else 0  # two blocks' bf16 weights + bf16 gradients
            autocast_copies = 2 * p if shards == 1 else 0
            row = {"strategy": strategy, "gpus": gpus, "weights_fp32": 4 * p / shards, "bf16_copies": autocast_copies
                   + in_flight, "gradients_fp32": 4 * p / shards, "adamw_states": 8 * p / shards,
                   "activations_batch_28": activations, "frozen_vae_bf16": 2 * counts["vae"]}  # fmt: skip
            row["total"] = sum(v for k, v in row.items() if k not in ("strategy", "gpus"))
            rows.append({k: (round(v / GB, 2) if isinstance(v, float | int) and k != "gpus" else v)
                         for k, v in row.items()})  # fmt: skip
    return rows


def markdown(rows: list[dict]) -> str:
    head = ("| strategy | GPUs | weights fp32 | bf16 copies | gradients | AdamW | activations (28 x 768 px, "
            "checkpointed) | VAE | **total per GPU** |")  # fmt: skip
    lines = [head, "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['strategy']} | {r['gpus']} | {r['weights_fp32']:.1f} | {r['bf16_copies']:.1f} | "
                     f"{r['gradients_fp32']:.1f} | {r['adamw_states']:.1f} | {r['activations_batch_28']:.1f} | "
                     f"{r['frozen_vae_bf16']:.2f} | **{r['total']:.1f} GB** |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench_results/training_memory.json"))
    args = parser.parse_args(argv)
    counts = parameter_counts()
    act = block_activation_bytes()
    rows = table(counts, act)
    print(markdown(rows))
    print(f"\ntrainable parameters {counts['trainable']:,} ({counts['block']:,} per block x {counts['blocks']}); "
          f"sequence {act['sequence']} tokens; per sample per block: {act['saved_per_block'] / 1e6:.0f} MB saved "
          f"for backward, {act['checkpoint_inputs_per_block'] / 1e6:.1f} MB kept by checkpointing")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"parameters": counts, "activations_bytes_per_sample": act, "rows": rows,
                                    "batch_per_gpu": BATCH, "resolution": RESOLUTION}, indent=2) + "\n")  # fmt: skip
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
