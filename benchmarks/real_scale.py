"""Convert and load at full size without the real weights: peak memory and times with SD3-medium's shapes.

    python benchmarks/real_scale.py --work /tmp/real_scale --out bench_results/real_scale.json

Builds an SD3-medium-shaped diffusers folder with random weights (the full 2 B-parameter MMDiT, SD3's VAE; the
three text encoders with the real hidden sizes but 1-2 layers and the fixture's small vocabularies, so memory
stays small) and a ``DICEPTION_v1.pth`` of the published layout (bf16, no positional table), then, each step in
its own process so that its peak resident memory is its own: ``diception convert`` (bf16), ``from_pretrained``
in float32 and one 1-step depth prediction at 768 x 768 on the CPU (bf16 matmuls are 4-25x slower on CPUs
without bf16 hardware), and ``from_pretrained`` in bf16 to report the resident size. Goals: convert peak <= 1.5 x
(transformer + largest text encoder) in the dtype used; inference peak <= 1.4 x the transformer's weights. Needs
~12 GB of RAM, ~20 GB of disk and minutes; not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from diception.modeling.sd3_shapes import SD3_MEDIUM_TRANSFORMER, SD3_MEDIUM_VAE

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO.parent / "shared" / "fixtures" / "official_tiny" / "model_recipe"


def build(work: Path) -> dict:
    """The SD3-shaped folder and the checkpoint; returns the sizes (GB) of the pieces in bf16."""
    import torch
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection, T5Config, T5EncoderModel

    from diception import DiceptionTransformer, PointPromptEncoder

    sd3 = work / "sd3"
    shutil.rmtree(sd3, ignore_errors=True)
    sd3.mkdir(parents=True)
    for name in ("tokenizer", "tokenizer_2", "tokenizer_3"):
        shutil.copytree(FIXTURE / name, sd3 / name)
    (sd3 / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusion3Pipeline"}))
    FlowMatchEulerDiscreteScheduler(shift=3.0).save_pretrained(sd3 / "scheduler")
    torch.manual_seed(0)
    torch.set_default_dtype(torch.bfloat16)  # built in bf16 directly: 4 GB, not 8
    try:
        transformer = DiceptionTransformer(**SD3_MEDIUM_TRANSFORMER)
        transformer.save_pretrained(sd3 / "transformer")
        state = {k: v for k, v in transformer.state_dict().items() if k != "pos_embed.pos_embed"}
        point = PointPromptEncoder(embed_dim=transformer.inner_dim).state_dict()
        sizes = {"transformer_gb": sum(v.numel() * 2 for v in transformer.state_dict().values()) / 1e9}
        del transformer
        torch.save({
            "transformer": state,
            "point_embedder": {k.removeprefix("mlp."): v for k, v in point.items() if k.startswith("mlp.")},
            "not_seg_embeddings": {"weight": point["empty_slot_embedding.weight"]},
            "seg_embeddings": {"weight": point["point_embedding.weight"]},
            "positional_encoding_gaussian_matrix": point["fourier_matrix"],
        }, work / "DICEPTION_v1.pth")  # fmt: skip
        del state
        AutoencoderKL(**SD3_MEDIUM_VAE).save_pretrained(sd3 / "vae")
        vocab = {"clip": 844, "t5": 139}  # the fixture tokenizers'
        encoders = {
            "text_encoder": CLIPTextModelWithProjection(CLIPTextConfig(
                vocab_size=vocab["clip"], hidden_size=768, intermediate_size=3072, num_hidden_layers=2,
                num_attention_heads=12, projection_dim=768, eos_token_id=2)),
            "text_encoder_2": CLIPTextModelWithProjection(CLIPTextConfig(
                vocab_size=vocab["clip"], hidden_size=1280, intermediate_size=5120, num_hidden_layers=2,
                num_attention_heads=20, projection_dim=1280, eos_token_id=2)),
            "text_encoder_3": T5EncoderModel(T5Config(
                vocab_size=vocab["t5"], d_model=4096, d_ff=10240, d_kv=64, num_heads=64, num_layers=1,
                feed_forward_proj="gated-gelu")),
        }  # fmt: skip
        for name, model in encoders.items():
            model.save_pretrained(sd3 / name)
            sizes[f"{name}_gb"] = sum(p.numel() * 2 for p in model.parameters()) / 1e9
    finally:
        torch.set_default_dtype(torch.float32)
    return sizes


CHILD = {
    "convert": """
        from diception.cli.main import main
        status = main(["convert", "--sd3", WORK + "/sd3", "--checkpoint", WORK + "/DICEPTION_v1.pth",
                       "--out", WORK + "/model", "--overwrite", "--quiet"])
        assert status == 0
    """,
    "infer_fp32": """
        import numpy as np, torch
        from diception import DiceptionPipeline
        start = time.perf_counter()
        pipe = DiceptionPipeline.from_pretrained(WORK + "/model", torch_dtype=torch.float32)
        pipe.set_progress_bar_config(disable=True)
        RESULT["load_s"] = time.perf_counter() - start
        RESULT["load_peak_rss_gb"] = peak_rss_gb()
        RESULT["resident_after_load_gb"] = current_rss_gb()
        reset_peak_rss()
        image = np.random.default_rng(0).integers(0, 256, (768, 768, 3), dtype=np.uint8)
        start = time.perf_counter()
        out = pipe(image, "depth", num_inference_steps=1, guidance_scale=1.0)
        RESULT["one_step_768_s"] = time.perf_counter() - start
        RESULT["inference_peak_rss_gb"] = peak_rss_gb()
        assert out.prediction[0].shape == (768, 768)
    """,
    "load_bf16": """
        import torch
        from diception import DiceptionPipeline
        start = time.perf_counter()
        pipe = DiceptionPipeline.from_pretrained(WORK + "/model", torch_dtype=torch.bfloat16)
        RESULT["load_s"] = time.perf_counter() - start
        RESULT["weights_gb"] = sum(t.numel() * t.element_size() for m in (pipe.transformer, pipe.point_encoder,
                                   pipe.vae, pipe.prompt_cache) for t in [*m.parameters(), *m.buffers()]) / 1e9
        RESULT["resident_after_load_gb"] = current_rss_gb()
    """,
}
PRELUDE = """
import json, resource, sys, time
WORK = sys.argv[1]
RESULT = {}
def status_gb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1e6
    return float("nan")
def current_rss_gb():
    return status_gb("VmRSS")
def peak_rss_gb():
    return status_gb("VmHWM")
def reset_peak_rss():  # Linux: writing 5 to clear_refs resets the peak resident size
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
"""
EPILOGUE = """
RESULT["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
print("RESULT " + json.dumps(RESULT))
"""


def run_child(step: str, work: Path) -> dict:
    code = PRELUDE + textwrap.dedent(CHILD[step]) + EPILOGUE
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(work)], capture_output=True, text=True, cwd=REPO)
    if done.returncode:
        raise RuntimeError(f"{step} failed:\n{done.stderr[-3000:]}")
    result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:])
    result["wall_s"] = time.perf_counter() - start
    result["warnings"] = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default="/tmp/diception_real_scale", help="where the folders go (~20 GB)")
    parser.add_argument("--out", default="bench_results/real_scale.json")
    parser.add_argument("--steps", nargs="+", choices=list(CHILD), default=list(CHILD), help="default: all")
    parser.add_argument("--reuse", action="store_true", help="keep the folders --work already holds")
    args = parser.parse_args()
    work = Path(args.work)
    start = time.perf_counter()
    sizes_file = work / "sizes.json"
    if args.reuse and sizes_file.is_file():
        report = {"sizes_bf16": json.loads(sizes_file.read_text())}
    else:
        report = {"sizes_bf16": {k: round(v, 3) for k, v in build(work).items()}}
        sizes_file.write_text(json.dumps(report["sizes_bf16"]))
    report["build_s"] = round(time.perf_counter() - start, 1)
    previous = json.loads(Path(args.out).read_text()) if args.reuse and Path(args.out).is_file() else {}
    for step in CHILD:
        if step not in args.steps:
            if step in previous:
                report[step] = previous[step]
            continue
        report[step] = run_child(step, work)
        print(step, json.dumps(report[step]), flush=True)
    sizes = report["sizes_bf16"]
    largest_encoder = max(v for k, v in sizes.items() if k.startswith("text_encoder"))
    report["goals"] = {
        "convert_peak_gb": {"measured": report["convert"]["peak_rss_gb"],
                            "goal": round(1.5 * (sizes["transformer_gb"] + largest_encoder), 3)},
        "inference_peak_fp32_gb": {"measured": report["infer_fp32"]["inference_peak_rss_gb"],
                                   "goal": round(1.4 * 2 * sizes["transformer_gb"], 3)},
    }  # fmt: skip
    for goal in report["goals"].values():
        goal["met"] = goal["measured"] <= goal["goal"]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["goals"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
