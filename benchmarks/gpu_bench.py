"""DICEPTION at full size on a GPU: seconds per image, images per second, peak memory, compile, MFU.

    python benchmarks/gpu_bench.py --out bench_results/gpu.json            # SD3-medium shape, bf16, CUDA
    python benchmarks/gpu_bench.py --tiny --device cpu --no-compile ...    # the same code at a tiny size

The model is DICEPTION with SD3-medium's shapes (24 MMDiT layers of 1536, the 2x1024 point encoder, SD3's VAE)
and random weights: speed and memory do not depend on the values. Measured at 768 x 768 (``--resolution``):
the published sampler (28 steps, classifier-free guidance 2) at batch 1 and 4, the fast one (1 step, no
guidance) at batch 1, 8 and 16, each eager and (unless ``--no-compile``) with ``torch.compile`` on the
transformer; peak allocated memory per setting; the resident size of the weights; FLOPs per image counted by
``torch.utils.flop_counter`` and the model FLOP utilisation against ``--peak-tflops`` (989: H100/H200 dense
bf16). The goals (28 steps + CFG <= 0.8 s per image, the paper's H800 figure; 1 step >= 20 images/s at batch 8;
<= 4.5 GB of weights) are checked and written with the figures. Meant to finish in under 8 minutes on one H100.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

from diception.modeling.sd3_shapes import SD3_MEDIUM_TRANSFORMER, SD3_MEDIUM_VAE

SETTINGS = [  # (name, steps, guidance, batch)
    ("28_steps_cfg", 28, 2.0, 1),
    ("28_steps_cfg", 28, 2.0, 4),
    ("1_step", 1, 1.0, 1),
    ("1_step", 1, 1.0, 8),
    ("1_step", 1, 1.0, 16),
]
GOALS = {"seconds_per_image_28_steps_cfg": 0.8, "images_per_second_1_step_batch_8": 20.0, "weights_gb": 4.5}

TINY = dict(sample_size=32, patch_size=2, in_channels=16, num_layers=2, attention_head_dim=32,
            num_attention_heads=4, joint_attention_dim=64, caption_projection_dim=128, pooled_projection_dim=32,
            out_channels=16, pos_embed_max_size=32)  # fmt: skip
TINY_VAE = dict(SD3_MEDIUM_VAE, block_out_channels=[8, 8, 16, 16], layers_per_block=1, norm_num_groups=8)


def build_pipeline(tiny: bool, device: str, dtype):
    """A DICEPTION pipeline of SD3-medium's shape (or a tiny one) with random weights, on ``device``."""
    import torch
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler

    from diception import DiceptionPipeline, DiceptionTransformer, PointPromptEncoder, PromptEmbeddingCache
    from diception.tasks import DEPTH

    shape, vae_shape = (TINY, TINY_VAE) if tiny else (SD3_MEDIUM_TRANSFORMER, SD3_MEDIUM_VAE)
    torch.manual_seed(0)
    with torch.device(device):
        transformer = DiceptionTransformer(**shape).to(dtype)
        point_encoder = PointPromptEncoder(
            embed_dim=transformer.inner_dim, **({"num_fourier_features": 16, "hidden_dim": 32} if tiny else {})
        )
        vae = AutoencoderKL(**vae_shape).to(dtype)
    prompts = ["", DEPTH.prompt]
    cache = PromptEmbeddingCache.from_embeddings(
        prompts, torch.randn(2, 333, shape["joint_attention_dim"]), torch.randn(2, shape["pooled_projection_dim"])
    )
    scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0)
    pipe = DiceptionPipeline(transformer, point_encoder.to(dtype), vae, scheduler, cache).to(device)
    pipe.prompt_cache.to(dtype=dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def weights_gb(pipe) -> float:
    modules = (pipe.transformer, pipe.point_encoder, pipe.vae, pipe.prompt_cache)
    return sum(t.numel() * t.element_size() for m in modules for t in [*m.parameters(), *m.buffers()]) / 1e9


def run_setting(pipe, steps: int, guidance: float, batch: int, resolution: int, repeats: int, device: str) -> dict:
    """Time ``repeats`` calls after a warm-up; peak memory over them."""
    import numpy as np
    import torch

    images = [np.random.default_rng(k).integers(0, 256, (resolution, resolution, 3), dtype=np.uint8)
              for k in range(batch)]  # fmt: skip

    def call():
        pipe(images, "depth", num_inference_steps=steps, guidance_scale=guidance, processing_resolution=resolution,
             generator=torch.Generator("cpu").manual_seed(0), output_type="latent")  # fmt: skip

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    call()  # warm-up (and compilation)
    sync()
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        sync()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    out = {"steps": steps, "guidance": guidance, "batch": batch, "seconds_per_call": round(seconds, 4),
           "seconds_per_image": round(seconds / batch, 4), "images_per_second": round(batch / seconds, 2)}  # fmt: skip
    if device.startswith("cuda"):
        out["peak_allocated_gb"] = round(torch.cuda.max_memory_allocated() / 1e9, 3)
    return out


def flops_per_image(pipe, steps: int, guidance: float, resolution: int) -> float:
    """FLOPs of one image's call, from two counted calls (1 and 2 steps): fixed part + steps x per-step part."""
    import numpy as np
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    image = np.zeros((resolution, resolution, 3), dtype=np.uint8)
    counted = []
    for n in (1, 2):
        with FlopCounterMode(display=False) as counter:
            pipe(image, "depth", num_inference_steps=n, guidance_scale=guidance, processing_resolution=resolution,
                 generator=torch.Generator("cpu").manual_seed(0))  # fmt: skip
        counted.append(counter.get_total_flops())
    per_step = counted[1] - counted[0]
    return float(counted[0] + (steps - 1) * per_step)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="bench_results/gpu.json")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", default=None, help="default: bfloat16 on CUDA, float32 elsewhere")
    parser.add_argument("--resolution", type=int, default=768)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="a tiny model of the same code (for CPU checks)")
    parser.add_argument("--no-compile", action="store_true", help="eager only")
    parser.add_argument("--peak-tflops", type=float, default=989.0, help="the device's dense peak (H100/H200 bf16)")
    args = parser.parse_args(argv)

    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("error: no CUDA device; run with --device cpu --tiny to check the script", file=sys.stderr)
        return 2
    dtype = getattr(torch, args.dtype) if args.dtype else (torch.bfloat16 if args.device.startswith("cuda")
                                                            else torch.float32)  # fmt: skip
    pipe = build_pipeline(args.tiny, args.device, dtype)
    report = {
        "model": "tiny" if args.tiny else "SD3-medium shape (random weights)",
        "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor() or "cpu",
        "dtype": str(dtype).removeprefix("torch."), "resolution": args.resolution, "torch": torch.__version__,
        "weights_gb": round(weights_gb(pipe), 3), "settings": [],
    }  # fmt: skip
    flops = {name: flops_per_image(pipe, steps, guidance, args.resolution)
             for name, steps, guidance, _ in {(s[0], s[1], s[2], 0) for s in SETTINGS}}  # fmt: skip
    modes = ["eager"] if args.no_compile else ["eager", "compiled"]
    for mode in modes:
        if mode == "compiled":
            pipe.transformer.compile()
        for name, steps, guidance, batch in SETTINGS:
            row = run_setting(pipe, steps, guidance, batch, args.resolution, args.repeats, args.device)
            row.update(setting=name, mode=mode, gflops_per_image=round(flops[name] / 1e9, 3))
            row["mfu"] = round(flops[name] * row["images_per_second"] / (args.peak_tflops * 1e12), 4)
            report["settings"].append(row)
            print(json.dumps(row), flush=True)

    def best(name: str, batch: int, key: str, pick) -> float:
        return pick(r[key] for r in report["settings"] if r["setting"] == name and r["batch"] == batch)

    reached = {
        "seconds_per_image_28_steps_cfg": best("28_steps_cfg", 1, "seconds_per_image", min),
        "images_per_second_1_step_batch_8": best("1_step", 8, "images_per_second", max),
        "weights_gb": report["weights_gb"],
    }
    report["goals"] = {
        key: {"goal": goal, "measured": reached[key],
              "met": reached[key] >= goal if key.startswith("images") else reached[key] <= goal}
        for key, goal in GOALS.items()
    }  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(out)
    print(f"wrote {out}: " + ", ".join(f"{k} {v['measured']} (goal {v['goal']})" for k, v in report["goals"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
