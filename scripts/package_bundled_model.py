"""Package a finished training run as the bundled model, with its model card.

    python scripts/package_bundled_model.py --run runs/bundled --report bench_results/bundled_model.json \
        --steps 8 --guidance 1.0

Copies ``<run>/model`` (safetensors, EMA weights) into ``src/diception/bundled/diception-tiny-synthetic``, sets
its default sampler settings, and writes ``MODEL_CARD.md`` from the run's config and logs and the test-split
report of ``benchmarks/bundled_model_report.py``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import yaml

from diception import DiceptionPipeline
from diception.bundled import BUNDLED_MODEL_NAME

TARGET = Path(__file__).resolve().parents[1] / "src" / "diception" / "bundled" / BUNDLED_MODEL_NAME
LIMIT_MB = 50


def model_card(run: Path, report: dict, pipe: DiceptionPipeline, size_mb: float) -> str:
    config = yaml.safe_load((run / "config.yaml").read_text())
    logs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    losses = [r for r in logs if "loss" in r]
    steps = losses[-1]["step"] if losses else 0
    hours = sum(r.get("seconds_per_step", 0.0) * config.get("log_every", 1) for r in losses) / 3600
    params = sum(p.numel() for p in pipe.transformer.parameters()) + sum(
        p.numel() for p in pipe.point_encoder.parameters()
    )
    t, o, options = config["model"]["transformer"], config["optim"], config["data"].get("options", {})
    data_line = f"synthetic train split (seeds from 0) at {config['data']['resolution']} px"
    if options.get("scene_cache"):
        data_line += (f", {options['num_scenes']:,} scenes rendered once into a scene bank, each drawn with "
                      f"{options.get('draws_per_scene', 1)} task choices")  # fmt: skip
    rows = [line for line in report["table"].splitlines()[2:] if line.strip()]
    reached = [row.split("|")[1].strip() + " " + row.split("|")[2].split("(")[0].strip() for row in rows
               if row.rstrip(" |").endswith("yes")]  # fmt: skip
    reached_line = ("it reaches the targets for " + ", ".join(reached)) if reached else "it reaches none of the targets"
    dependence = ""
    if report.get("input_dependence_table"):
        dependence = (
            "Does it read its input? The same noise for 16 test scenes; a model that ignored the image "
            "would give one picture for all (difference 0):\n\n" + report["input_dependence_table"] + "\n"
        )
    return f"""# {BUNDLED_MODEL_NAME}

A small DICEPTION model trained from scratch, on a 2-core CPU, on the procedural synthetic world of
`diception.data.synthetic`. **It knows only the synthetic world**: rooms with boxes, balls, cylinders, cones and
stick people under one light. It is no substitute for the published DICEPTION weights, and it will not give
meaningful answers on natural photographs. It exists so that `make demo`, `diception predict` and the test
suite show the whole system working on any machine, without downloads.

## Model
- Same architecture family as DICEPTION: an SD3 MMDiT (`DiceptionTransformer`, {t["num_layers"]} layers,
  {t["num_attention_heads"]} heads x {t["attention_head_dim"]}, patch {t.get("patch_size", 2)}) with condition-image
  tokens and 5 point tokens (`PointPromptEncoder`), flow-match Euler sampling; {params / 1e6:.1f} M parameters,
  {size_mb:.1f} MB.
- Autoencoder: `PixelShuffleAutoencoder` (4x4 pixel blocks folded into 48 channels), parameter-free and exact:
  every task's target picture round-trips with infinite PSNR (zero error), so all error is the transformer's.
- Text: no text encoder; each prompt of the closed set (the six tasks, the 80 COCO categories and the synthetic
  world's categories box, ball, cylinder, cone) has a fixed random embedding.
- Processing resolution {pipe.config.default_processing_resolution} px; default sampler: steps
  {pipe.config.default_num_inference_steps}, guidance {pipe.config.default_guidance_scale}.

## Training
- Data: {data_line}; all six tasks weighted equally; prompt dropout {config["objective"]["prompt_dropout"]}.
- Command: `diception train --config configs/bundled_tiny.yaml` (resumable with `--resume latest`), then
  `python scripts/package_bundled_model.py --run runs/bundled ...`.
- {steps} steps of batch {o["batch_size"]}, AdamW lr {o["lr"]} ({o["lr_scheduler"]} schedule, {o["warmup_steps"]}
  warm-up steps), logit-normal noise levels with mean {config["objective"]["logit_mean"]} and
  {config["objective"].get("max_noise_fraction", 0.0):.0%} of samples at sigma = 1, EMA
  {config["ema"]["decay"]}; {hours:.2f} h of wall time on 2 CPU cores (fp32).

## Results on the held-out synthetic test split
{report["count"]} test scenes (seeds from 20,000,000, never used in training) at {report["size"]} px, per task,
with the standard protocols of `diception.evaluation` and the model's default sampler settings
(sampler steps: {report["steps"]}, guidance {report["guidance"]}), next to a trivial baseline (a vertical disparity
ramp, all normals facing up, the whole picture as the mask or the one instance, a standing person in the
middle). Reproduce with `python benchmarks/bundled_model_report.py`.

{report["table"]}

{dependence}
## Limits
This is a demonstration model, trained for {hours:.1f} h on two CPU cores: {reached_line} in the table above.
It was still learning at the end (training loss {losses[len(losses) // 2]["loss"]:.3f} at step
{losses[len(losses) // 2]["step"]}, {losses[-1]["loss"]:.3f} at step {steps}). What would close the gap: many more
steps (the same config runs unchanged on a GPU), a wider transformer, and pictures of 128 px or more for pose and
instances (at 64 px a keypoint disc is 4 px across and thin limbs vanish). Its pictures are blurry, and the grid
of its 4x4-pixel tokens shows in them.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", default="runs/bundled")
    parser.add_argument("--report", default="bench_results/bundled_model.json")
    parser.add_argument("--steps", type=int, help="default sampler steps of the bundled model")
    parser.add_argument("--guidance", type=float, help="default guidance scale of the bundled model")
    args = parser.parse_args()

    run = Path(args.run)
    pipe = DiceptionPipeline.from_pretrained(run / "model")
    if args.steps is not None:
        pipe.register_to_config(default_num_inference_steps=args.steps)
    if args.guidance is not None:
        pipe.register_to_config(default_guidance_scale=args.guidance)
    partial = TARGET.with_name(TARGET.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    pipe.save_pretrained(partial)
    size_mb = sum(f.stat().st_size for f in partial.rglob("*") if f.is_file()) / 2**20
    if size_mb > LIMIT_MB:
        shutil.rmtree(partial)
        print(f"error: the model takes {size_mb:.1f} MB; the bundled model may take at most {LIMIT_MB} MB")
        return 1
    report = json.loads(Path(args.report).read_text())
    (partial / "MODEL_CARD.md").write_text(model_card(run, report, pipe, size_mb))
    shutil.rmtree(TARGET, ignore_errors=True)
    partial.rename(TARGET)
    print(f"bundled model: {TARGET} ({size_mb:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
