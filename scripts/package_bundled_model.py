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

from diception import DiceptionPipeline, tasks
from diception.bundled import BUNDLED_MODEL_NAME
from diception.errors import DiceptionInputError
from diception.pipelines import PromptEmbeddingCache

TARGET = Path(__file__).resolve().parents[1] / "src" / "diception" / "bundled" / BUNDLED_MODEL_NAME
LIMIT_MB = 50


def task_prompts_only(cache: PromptEmbeddingCache) -> PromptEmbeddingCache:
    """The cache without the captions of text-to-image pretraining: only prompts that name a task (and "")."""

    def names_a_task(prompt: str) -> bool:
        try:
            tasks.task_from_prompt(prompt)
        except DiceptionInputError:
            return False
        return True

    kept = [p for p in cache.prompts if p == "" or names_a_task(p)]
    embeds, pooled = cache.lookup(kept)
    return PromptEmbeddingCache.from_embeddings(kept, embeds, pooled)


def autoencoder_line(pipe: DiceptionPipeline) -> str:
    if type(pipe.vae).__name__ == "PixelShuffleAutoencoder":
        return ("Autoencoder: `PixelShuffleAutoencoder` (4x4 pixel blocks folded into 48 channels), parameter-free "
                "and exact:\n  every task's target picture round-trips with zero error, so all error is the "
                "transformer's.")  # fmt: skip
    c = pipe.vae.config
    return (
        f"Autoencoder: a small diffusers `AutoencoderKL` ({pipe.vae_scale_factor}x down, {c.latent_channels} "
        f"latent channels, blocks {list(c.block_out_channels)}), fitted here on synthetic scene and target "
        "pictures\n  (`scripts/fit_autoencoder.py`); its reconstruction error per task is in the README."
    )


def earlier_stages(config: dict) -> list[tuple[Path, dict]]:
    """The runs this one started from (``model.init: pretrained``), nearest first, read from their folders."""
    stages = []
    while config["model"].get("init") == "pretrained":
        folder = Path(config["model"]["pretrained_path"]).parent  # <run>/model was that run's output
        if not (folder / "config.yaml").is_file():
            break
        config = yaml.safe_load((folder / "config.yaml").read_text())
        stages.append((folder, config))
    return stages


def recipe_lines(run: Path, config: dict, recipe: str | None = None) -> str:
    """How the weights were made: ``recipe`` (a Markdown list of every stage's command, when the earlier runs'
    folders are gone) or the ``model.init: pretrained`` chain read from the runs still here."""
    if recipe:
        return f"- Last stage: `{run}/config.yaml`, resumable with `--resume latest`."
    lines = f"- Command: `diception train --config <the run's config>` (`{run}/config.yaml`; resumable with " \
            "`--resume latest`), then\n  `python scripts/package_bundled_model.py --run " + f"{run} ...`."  # fmt: skip
    for folder, earlier in earlier_stages(config):
        kind = ("as a text-to-image generator of synthetic scenes from their captions (the generative prior)"
                if earlier.get("objective", {}).get("generative") else "for the six tasks")  # fmt: skip
        steps = earlier["optim"]["max_steps"]
        lines = f"- Started from `{folder}`: the same MMDiT trained {steps} steps {kind}.\n" + lines
    return lines


def loss_trend(losses: list[dict]) -> str:
    """Whether training was still lowering the loss: the mean logged loss of the first and last third."""
    third = max(1, len(losses) // 3)
    first, last = losses[:third], losses[-third:]
    before, after = (sum(r["loss"] for r in part) / len(part) for part in (first, last))
    span = (f"mean training loss {before:.3f} over steps {first[0]['step']}-{first[-1]['step']}, {after:.3f} over "
            f"steps {last[0]['step']}-{last[-1]['step']}")  # fmt: skip
    if after < 0.97 * before:
        return f"It was still learning at the end ({span})."
    decayed = ", with the learning rate decayed to zero" if losses[-1].get("lr") == 0 else ""
    return f"Its training loss had levelled off by the end ({span}){decayed}."


def other_world_section(report: dict | None) -> str:
    if not report:
        return ""
    return (f"\nOn {report['count']} test scenes of a second renderer (`--world other`: pillars, lying capsules, "
            "stacked boxes and balls,\nellipsoids, two coloured lights, soft shadows, patterned materials), "
            "next to the same trivial baselines:\n\n" + report["table"] + "\n")  # fmt: skip


def model_card(run: Path, report: dict, pipe: DiceptionPipeline, size_mb: float,
               other_world: dict | None = None, recipe: str | None = None,
               findings: str | None = None) -> str:  # fmt: skip
    config = yaml.safe_load((run / "config.yaml").read_text())
    prior = config["model"].get("init") == "pretrained"
    origin = "fine-tuned from a generative prior of its own (see Training)" if prior else "trained from scratch"
    logs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    losses = [r for r in logs if "loss" in r]
    steps = losses[-1]["step"] if losses else 0
    hours = sum(r.get("seconds_per_step", 0.0) * config.get("log_every", 1) for r in losses) / 3600
    params = sum(p.numel() for p in pipe.transformer.parameters()) + sum(
        p.numel() for p in pipe.point_encoder.parameters()
    )
    words = config["model"].get("prompt_embedding") == "words"
    prompt_embedding = "one per word, shared by the prompts that hold it" if words else "one per prompt"
    t, o, options = config["model"]["transformer"], config["optim"], config["data"].get("options", {})
    data_line = f"synthetic train split (seeds from 0) at {config['data']['resolution']} px"
    if options.get("scene_cache"):
        data_line += (f", {options['num_scenes']:,} scenes rendered once into a scene bank, each drawn with "
                      f"{options.get('draws_per_scene', 1)} task choices")  # fmt: skip
    rows = [line for line in report["table"].splitlines()[2:] if line.strip()]
    reached = [row.split("|")[1].strip() + " " + row.split("|")[2].split("(")[0].strip() for row in rows
               if row.rstrip(" |").endswith("yes")]  # fmt: skip
    reached_line = ("it reaches the targets for " + ", ".join(reached)) if reached else "it reaches none of the targets"
    previous_note = ""
    if report.get("previous"):
        previous = report["previous"]
        name = previous if isinstance(previous, str) else previous.get("name") or previous["report"]
        previous_note = f" and to the previous bundled model ({name};\n`--previous`)"
    trained = "in the stages above" if recipe else f"for {hours:.1f} h"
    findings_section = f"\n## Prior vs scratch, and what was learned\n{findings.strip()}\n" if findings else ""
    stages = (
        f"\nEvery stage, in order, with its command and measured time on this 2-core VM:\n\n{recipe.strip()}\n"
        if recipe
        else ""
    )
    dependence = ""
    if report.get("input_dependence_table"):
        dependence = (
            "Does it read its input? The same noise for 16 test scenes; a model that ignored the image "
            "would give one picture for all (difference 0):\n\n" + report["input_dependence_table"] + "\n"
        )
    return f"""# {BUNDLED_MODEL_NAME}

A small DICEPTION model {origin}, on a 2-core CPU, on the procedural synthetic world of
`diception.data.synthetic`. **It knows only the synthetic world**: rooms with boxes, balls, cylinders, cones and
stick people under one light. It is no substitute for the published DICEPTION weights, and it will not give
meaningful answers on natural photographs. It exists so that `make demo`, `diception predict` and the test
suite show the whole system working on any machine, without downloads.

## Model
- Same architecture family as DICEPTION: an SD3 MMDiT (`DiceptionTransformer`, {t["num_layers"]} layers,
  {t["num_attention_heads"]} heads x {t["attention_head_dim"]}, patch {t.get("patch_size", 2)}) with condition-image
  tokens and 5 point tokens (`PointPromptEncoder`), flow-match Euler sampling; {params / 1e6:.1f} M parameters,
  {size_mb:.1f} MB.
- {autoencoder_line(pipe)}
- Text: no text encoder; each prompt of the closed set (the six tasks, the 80 COCO categories and the synthetic
  world's categories box, ball, cylinder, cone) has a fixed random embedding
  ({prompt_embedding}).
- Processing resolution {pipe.config.default_processing_resolution} px; default sampler: steps
  {pipe.config.default_num_inference_steps}, guidance {pipe.config.default_guidance_scale}.

## Training
- Data: {data_line}; all six tasks weighted equally; prompt dropout {config["objective"]["prompt_dropout"]}.
{recipe_lines(run, config, recipe)}
- {steps} steps of batch {o["batch_size"]}, AdamW lr {o["lr"]} ({o["lr_scheduler"]} schedule, {o["warmup_steps"]}
  warm-up steps), logit-normal noise levels with mean {config["objective"]["logit_mean"]} and
  {config["objective"].get("max_noise_fraction", 0.0):.0%} of samples at sigma = 1, EMA
  {config["ema"]["decay"]}; {hours:.2f} h of wall time on 2 CPU cores (fp32){" for this last stage" if recipe else ""}.
{stages}
## Results on the held-out synthetic test split
{report["count"]} test scenes (seeds from 20,000,000, never used in training) at {report["size"]} px, per task,
with the standard protocols of `diception.evaluation` and the model's default sampler settings
(sampler steps: {report["steps"]}, guidance {report["guidance"]}), next to a trivial baseline (a vertical disparity
ramp, all normals facing up, the whole picture as the mask or the one instance, a standing person in the
middle){previous_note}. Reproduce with `python benchmarks/bundled_model_report.py`.

{report["table"]}
{other_world_section(other_world)}
{dependence}{findings_section}
## Limits
This is a demonstration model, trained {trained} on two CPU cores: {reached_line} in the table above.
{loss_trend(losses)} What would close the gap: many more
steps (the same config runs unchanged on a GPU), a wider transformer, and pictures of 128 px or more for pose and
instances (at 64 px a keypoint disc is 4 px across and thin limbs vanish).
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", default="runs/bundled")
    parser.add_argument("--report", default="bench_results/bundled_model.json")
    parser.add_argument("--other-world-report", help="bundled_model_report.py --world other JSON, for the card")
    parser.add_argument("--recipe", help="a Markdown list of every training stage's command and time, for the card")
    parser.add_argument("--findings", help="a Markdown file of comparisons and findings, for the card")
    parser.add_argument("--steps", type=int, help="default sampler steps of the bundled model")
    parser.add_argument("--guidance", type=float, help="default guidance scale of the bundled model")
    args = parser.parse_args()

    run = Path(args.run)
    pipe = DiceptionPipeline.from_pretrained(run / "model")
    if args.steps is not None:
        pipe.register_to_config(default_num_inference_steps=args.steps)
    if args.guidance is not None:
        pipe.register_to_config(default_guidance_scale=args.guidance)
    pipe.register_modules(prompt_cache=task_prompts_only(pipe.prompt_cache))
    partial = TARGET.with_name(TARGET.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    pipe.save_pretrained(partial)
    size_mb = sum(f.stat().st_size for f in partial.rglob("*") if f.is_file()) / 2**20
    if size_mb > LIMIT_MB:
        shutil.rmtree(partial)
        print(f"error: the model takes {size_mb:.1f} MB; the bundled model may take at most {LIMIT_MB} MB")
        return 1
    report = json.loads(Path(args.report).read_text())
    other_world = json.loads(Path(args.other_world_report).read_text()) if args.other_world_report else None
    recipe = Path(args.recipe).read_text() if args.recipe else None
    findings = Path(args.findings).read_text() if args.findings else None
    card = model_card(run, report, pipe, size_mb, other_world, recipe, findings)
    (partial / "MODEL_CARD.md").write_text(card)
    shutil.rmtree(TARGET, ignore_errors=True)
    partial.rename(TARGET)
    print(f"bundled model: {TARGET} ({size_mb:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
