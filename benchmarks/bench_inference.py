"""Inference speed and peak memory: cached prompt embeddings versus running SD3's text encoders.

    python benchmarks/bench_inference.py --out bench_results/inference.json

Each path runs in its own process so that peak memory (resident set size, and CUDA peak allocation when a GPU
is used) belongs to that path alone. Measured per path: load time, seconds per image for the fast preset
(1 step, no guidance) and the published default (28 steps, guidance 2), and peak memory. The model is the
published code's reference fixture (tiny weights, real SD3 architecture) unless ``--model`` names another
DICEPTION folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SETTINGS = {"fast_1_step": (1, 1.0), "default_28_steps_cfg": (28, 2.0)}


def measure(path: str, model_dir: str, official_dir: str, resolution: int, repeats: int, device: str) -> dict:
    """Run in a child process: load one path, time both settings, report peak memory."""
    import numpy as np
    import torch

    from diception import DiceptionPipeline, PromptEmbeddingCache
    from diception.cli.model_options import default_dtype

    dtype = default_dtype(device)
    start = time.perf_counter()
    if path == "cached_prompts":
        pipe = DiceptionPipeline.from_pretrained(model_dir, torch_dtype=dtype)
    else:  # every prompt goes through CLIP-L, CLIP-G and T5, as the published code does
        pipe = DiceptionPipeline.from_official(official_dir, Path(official_dir) / "DICEPTION_v1.pth",
                                               torch_dtype=dtype, with_text_encoders=True)  # fmt: skip
        pipe.prompt_cache = PromptEmbeddingCache(prompts=[], sequence_length=1, embed_dim=1, pooled_dim=1)
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    load_s = time.perf_counter() - start

    image = (np.random.default_rng(0).random((resolution, resolution, 3)) * 255).astype(np.uint8)
    result = {"path": path, "load_s": round(load_s, 3), "seconds_per_image": {}}
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    for name, (steps, guidance) in SETTINGS.items():
        times = []
        for i in range(repeats + 1):  # the first run warms up
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            pipe(image, "depth", num_inference_steps=steps, guidance_scale=guidance,
                 processing_resolution=resolution, generator=torch.Generator("cpu").manual_seed(i))  # fmt: skip
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            if i:
                times.append(time.perf_counter() - t0)
        result["seconds_per_image"][name] = round(statistics.median(times), 4)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if device.startswith("cuda"):
        result["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    text_params = sum(p.numel() for n in ("text_encoder", "text_encoder_2", "text_encoder_3")
                      if getattr(pipe, n, None) is not None for p in getattr(pipe, n).parameters())  # fmt: skip
    result["text_encoder_params"] = text_params
    result["prompt_cache_mb"] = round(sum(b.numel() * b.element_size() for b in pipe.prompt_cache.buffers()) / 2**20, 2)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fixture", help="reference fixture folder (default ../shared/fixtures/official_tiny)")
    parser.add_argument("--cache", default=".cache", help="where the fixture is materialised")
    parser.add_argument("--model", help="a DICEPTION folder to time instead of the converted fixture")
    parser.add_argument("--resolution", type=int, default=128, help="processing resolution (fixture max: 384)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda" if _cuda() else "cpu")
    parser.add_argument("--out", default="bench_results/inference.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        payload = json.loads(args.child)
        print(json.dumps(measure(**payload)))
        return 0

    from diception.reference_fixture import converted_model, materialise

    official = materialise(args.cache, args.fixture)
    model = Path(args.model) if args.model else converted_model(args.cache, args.fixture)
    rows = []
    for path in ("cached_prompts", "text_encoders"):
        payload = dict(path=path, model_dir=str(model), official_dir=str(official), resolution=args.resolution,
                       repeats=args.repeats, device=args.device)  # fmt: skip
        child = subprocess.run([sys.executable, __file__, "--child", json.dumps(payload)], check=True,
                               capture_output=True, text=True)  # fmt: skip
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))

    report = {
        "benchmark": "inference",
        "model": str(model),
        "device": args.device,
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "torch_threads": _threads(),
        "resolution": args.resolution,
        "repeats": args.repeats,
        "results": rows,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(out)

    print(f"device {args.device}, {args.resolution}x{args.resolution}, median of {args.repeats}")
    print(f"{'path':16} {'load s':>7} {'1 step s/img':>13} {'28+CFG s/img':>13} {'peak RSS MB':>12} {'CUDA MB':>8}")
    for r in rows:
        s = r["seconds_per_image"]
        print(
            f"{r['path']:16} {r['load_s']:>7.2f} {s['fast_1_step']:>13.3f} {s['default_28_steps_cfg']:>13.3f} "
            f"{r['peak_rss_mb']:>12.0f} {r.get('peak_cuda_mb', float('nan')):>8.0f}"
        )
    print(f"wrote {out}")
    return 0


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    sys.exit(main())
