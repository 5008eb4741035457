"""Few-shot adaptation, measured: teach the bundled model a task it has never seen from 50 examples.

    python benchmarks/fewshot_proof.py [--steps 300] [--out bench_results/fewshot.json]

The task is the floor mask of the synthetic world (exact ground truth: ``SyntheticScene.surfaces == floor``),
prompt ``[[image2floor]]``, never part of the bundled model's training. 50 training pairs come from the train
split, 200 test scenes from the test split (seeds never trained on). Four runs on the same pairs and test set:

* before: the bundled model given the new prompt (its embedding learned-from: the nearest cached prompt);
* LoRA: ``diception finetune``'s recipe (rank width/4, attention Q/K/V of both streams, a learned prompt);
* full fine-tuning: every transformer weight trained, the same steps;
* LoRA on an untrained model: the same LoRA on a randomly initialised model of the bundled architecture (no
  perception prior to adapt).

Each run is scored on the 200 test scenes every ``--every`` steps (IoU, the `diception eval` protocol); the
JSON holds the curves, the trainable share and the CPU time, and ``--plot`` the learning curves.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from diception import DiceptionPipeline, tasks
from diception.bundled import bundled_model_path
from diception.data.pairs import pair_samples, read_pairs
from diception.data.sample import Sample
from diception.data.synthetic import render_scene
from diception.data.synthetic.render import SURFACES
from diception.data.synthetic.samples import split_seeds
from diception.evaluation.runner import evaluate
from diception.jobs.job import DEFAULT_SEED
from diception.tasks.user_tasks import make_task
from diception.training.config import DataConfig, LoraConfig, ModelConfig, OptimConfig, TrainConfig
from diception.training.finetune import lora_targets, nearest_cached_prompt
from diception.training.trainer import Trainer

NAME, PROMPT = "floor", "[[image2floor]]"


def write_pairs(folder: Path, seeds, size: int) -> Path:
    """``images/`` and ``targets/`` (the floor, white on black) for the scenes of ``seeds``."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "targets").mkdir(exist_ok=True)
    floor = SURFACES.index("floor")
    for seed in seeds:
        scene = render_scene(seed, size)
        Image.fromarray(scene.image).save(folder / "images" / f"{seed}.png")
        Image.fromarray(np.where(scene.surfaces == floor, 255, 0).astype(np.uint8)).save(
            folder / "targets" / f"{seed}.png"
        )
    return folder


def untrained_copy(folder: Path, seed: int = 0) -> Path:
    """The bundled model with its transformer and point encoder re-initialised at random (same architecture,
    same autoencoder and prompt cache): a model with no perception prior."""
    pipe = DiceptionPipeline.from_pretrained(bundled_model_path())
    torch.manual_seed(seed)
    transformer = type(pipe.transformer).from_config(pipe.transformer.config)
    point_encoder = type(pipe.point_encoder).from_config(pipe.point_encoder.config)
    pipe.register_modules(transformer=transformer, point_encoder=point_encoder)
    pipe.save_pretrained(folder)
    return folder


def run(label: str, model: Path, pairs: Path, test: list[Sample], task, steps: int, every: int, lr: float,
        rank: int, work: Path) -> dict:  # fmt: skip
    """Train one condition in chunks of ``every`` steps, scoring the test scenes after each chunk."""
    base = DiceptionPipeline.from_pretrained(model)
    learn_init = nearest_cached_prompt(PROMPT, base.prompt_cache.prompts)
    config = TrainConfig(
        output_dir=str(work / label), seed=0, log_every=every, export=False,
        model=ModelConfig(init="pretrained", pretrained_path=str(model), train_point_encoder=False,
                          lora=LoraConfig(rank=rank, target_modules=lora_targets(("image", "context"))),
                          learn_prompt=PROMPT, learn_prompt_init=learn_init),
        data=DataConfig(kind="pairs", options={"path": str(pairs), "task": NAME}, task_weights={},
                        resolution=base.config.default_processing_resolution),
        optim=OptimConfig(lr=lr, batch_size=8, max_steps=every),
    )  # fmt: skip
    config.validation.every = 0
    config.checkpoint.every, config.checkpoint.at_end = 0, False
    trainer = Trainer(config).setup()
    curve = [(0, score(trainer, test, task))]
    started = time.process_time()
    for k in range(every, steps + 1, every):
        trainer.config.optim.max_steps = k
        trainer.train()
        curve.append((k, score(trainer, test, task)))
        print(f"{label}: step {k} IoU {curve[-1][1]:.4f}", flush=True)
    return {"curve": curve, "trainable_fraction": trainer.trainable_fraction, "cpu_s": time.process_time() - started,
            "rank": rank, "lr": lr, "prompt_init": learn_init}  # fmt: skip


def score(trainer: Trainer, test: list[Sample], task) -> float:
    """Test IoU of the model as trained so far (its learned prompt put into the cache first)."""
    pipe = trainer.pipe
    trainer.cache_learned_prompt(pipe, trainer.learned_prompt)
    trainer.denoiser.eval()
    with torch.no_grad():
        result = evaluate(test, task, pipe=pipe, seed=DEFAULT_SEED, batch_size=16)
    trainer.denoiser.train()
    return float(result.summary["iou"])


def trivial_baselines(test_pairs: Path) -> dict[str, float]:
    """Test IoU of masks that look at no pixel: the whole picture, and its lower half (floors are low)."""
    scores: dict[str, list[float]] = {"everything is floor": [], "the lower half is floor": []}
    for target in sorted((test_pairs / "targets").iterdir()):
        truth = np.asarray(Image.open(target)) > 127
        lower = np.zeros_like(truth)
        lower[truth.shape[0] // 2 :] = True
        for name, guess in zip(scores, (np.ones_like(truth), lower)):
            union = (truth | guess).sum()
            scores[name].append(float((truth & guess).sum() / union) if union else 1.0)
    return {name: float(np.mean(values)) for name, values in scores.items()}


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for label, r in results["runs"].items():
        steps, ious = zip(*r["curve"])
        ax.plot(steps, ious, marker="o", label=f"{label} ({100 * r['trainable_fraction']:.1f} % trained)")
    for (name, value), style in zip(results["baselines"].items(), (":", "--")):
        ax.axhline(value, color="grey", linestyle=style, label=f"baseline: {name}")
    ax.set_xlabel("optimizer steps (batch 8, 50 training pairs)")
    ax.set_ylabel("test IoU (200 scenes)")
    ax.set_title("Teaching the bundled model a floor mask")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--train", type=int, default=50)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--work", type=Path, default=Path("bench_results/fewshot_work"))
    parser.add_argument("--out", type=Path, default=Path("bench_results/fewshot.json"))
    parser.add_argument("--plot", type=Path, default=Path("bench_results/fewshot_curves.png"))
    args = parser.parse_args()

    started = time.perf_counter()
    size = DiceptionPipeline.load_config(str(bundled_model_path()))["default_processing_resolution"]
    train_pairs = write_pairs(args.work / "train", split_seeds("train", args.train, start=90_000), size)
    test_pairs = write_pairs(args.work / "test", split_seeds("test", args.test), size)
    task = tasks.register(make_task(NAME, PROMPT, "mask"), replace=True)
    test = list(pair_samples(read_pairs(test_pairs), task))
    untrained = untrained_copy(args.work / "untrained_model")
    width = DiceptionPipeline.from_pretrained(bundled_model_path()).transformer.config
    rank = max(1, width.num_attention_heads * width.attention_head_dim // 4)
    common = (train_pairs, test, task, args.steps, args.every)
    runs = {
        "LoRA": run("LoRA", bundled_model_path(), *common, 1e-3, rank, args.work),
        "full fine-tuning": run("full", bundled_model_path(), *common, 1e-4, 0, args.work),
        "LoRA, untrained model": run("LoRA_untrained", untrained, *common, 1e-3, rank, args.work),
    }
    results = {
        "task": NAME, "prompt": PROMPT, "train_pairs": args.train, "test_scenes": args.test, "steps": args.steps,
        "before": runs["LoRA"]["curve"][0][1], "runs": runs, "baselines": trivial_baselines(test_pairs),
        "wall_s": round(time.perf_counter() - started, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    plot(results, args.plot)
    print(f"| run | test IoU before | after {args.steps} steps | trained share | CPU s |\n|---|---|---|---|---|")
    for label, r in runs.items():
        print(f"| {label} | {r['curve'][0][1]:.3f} | {r['curve'][-1][1]:.3f} | {100 * r['trainable_fraction']:.2f} % | "
              f"{r['cpu_s']:.0f} |")  # fmt: skip
    for name, value in results["baselines"].items():
        print(f"| baseline: {name} | | {value:.3f} | 0 | 0 |")
    print(f"wall {results['wall_s']} s; wrote {args.out} and {args.plot}")


if __name__ == "__main__":
    main()
