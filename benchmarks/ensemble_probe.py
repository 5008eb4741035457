"""Does a test-time ensemble help a model at its sampler settings? Average its pictures over noise seeds and a
mirrored copy of the input before decoding, and score the dense tasks on the held-out test split.

    python benchmarks/ensemble_probe.py [--model DIR] [--count 200] [--seeds 1 4] [--flip both]

Every row averages ``seeds`` pictures (noise seeds 42, 43, ...) of the input, and with ``--flip`` as many of its
mirror image, mirrored back: depth and masks mirror as they are; a normal's x component changes sign, so its red
channel becomes ``1 - red`` (the convention of :mod:`diception.tasks.normals`). The average picture is decoded by
the task's own decoder and scored by its own scorer, as ``benchmarks/bundled_model_report.py`` scores one picture.
A large gain says the model's error is in its samples' spread (more samples help); a small one says it is bias.
Each picture is computed once and shared by the rows that average it; a row's s/image is its passes times the
measured time of one pass.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from bundled_model_report import add_model_and_split_options, load_model, render_test_split  # a sibling script
from PIL import Image

from diception import DiceptionPipeline, tasks
from diception.data.layouts import iter_dataset
from diception.evaluation.runner import evaluate, record_rng

# The dense tasks, whose pictures mirror with the input, and the headline metric of each.
HEADLINES = {"depth": ["abs_rel", "delta1"], "normal": ["mean"], "segmentation": ["mIoU"]}


def mirror_back(task: str, picture: np.ndarray) -> np.ndarray:
    """The picture of a mirrored input, mirrored back into the input's frame."""
    picture = picture[:, ::-1].copy()
    if task == "normal":
        picture[..., 0] = 1.0 - picture[..., 0]
    return picture


def sample_pictures(pipe: DiceptionPipeline, task: str, sample, seeds: int, mirrored_too: bool, steps: int | None,
                    guidance: float | None) -> np.ndarray:  # fmt: skip
    """``(seeds, views, H, W, 3)``: the model's pictures of ``sample`` for noise seeds 42, 43, ..., of the input
    and, with ``mirrored_too``, of its mirror image, mirrored back (view 1)."""
    spec = tasks.get(task)
    points = spec.eval_points(sample, 1, record_rng(42, sample.sample_id))  # the report's points
    with Image.open(sample.image_path) as image:
        pixels = np.asarray(image.convert("RGB"))
    views = [(pixels, tuple(points or ()), False)]
    if mirrored_too:
        views.append((pixels[:, ::-1].copy(), tuple((1.0 - x, y) for x, y in points or ()), True))
    pictures = []
    for seed in range(42, 42 + seeds):
        for view, view_points, mirrored in views:
            out = pipe(view, tasks.TaskRequest(spec, sample.prompt, view_points), num_inference_steps=steps,
                       guidance_scale=guidance, processing_resolution=0,
                       generator=torch.Generator().manual_seed(seed))  # fmt: skip
            pictures.append(mirror_back(task, out.images[0]) if mirrored else out.images[0])
    return np.stack(pictures).reshape(seeds, len(views), *pictures[0].shape)


def averaged_predictor(spec: tasks.Task, pictures: dict, seeds: int, views: int):
    """A predictor for :func:`~diception.evaluation.runner.evaluate`: the decoded average of the first ``seeds``
    seeds and ``views`` views of a sample's pictures (``pictures`` by sample id and prompt)."""

    def predict(sample):
        return spec.decode(pictures[sample.sample_id, sample.prompt][:seeds, :views].mean(axis=(0, 1)))

    return predict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_and_split_options(parser)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 4], help="ensemble sizes to score")
    parser.add_argument("--flip", choices=("no", "yes", "both"), default="both", help="add the mirrored input")
    parser.add_argument("--tasks", nargs="+", choices=list(HEADLINES), default=list(HEADLINES))
    parser.add_argument("--out", default="bench_results/ensemble_probe.json")
    args = parser.parse_args(argv)

    manifest = render_test_split(args.data, args.count, args.size)
    model, pipe = load_model(args.model)

    flips = {"no": [False], "yes": [True], "both": [False, True]}[args.flip]
    rows = [{"seeds": seeds, "flip": flip, "passes": seeds * (2 if flip else 1), "tasks": {}}
            for flip in flips for seeds in args.seeds]  # fmt: skip
    most_seeds, views = max(args.seeds), 2 if True in flips else 1
    pass_seconds = []
    for task in args.tasks:  # every picture once; each row averages its share of them
        spec = tasks.get(task)
        samples = list(iter_dataset(manifest, task, limit=args.count))
        start = time.perf_counter()
        pictures = {(s.sample_id, s.prompt): sample_pictures(pipe, task, s, most_seeds, views == 2, args.steps,
                                                             args.guidance) for s in samples}  # fmt: skip
        pass_seconds.append((time.perf_counter() - start) / (len(samples) * most_seeds * views))
        for row in rows:
            average = averaged_predictor(spec, pictures, row["seeds"], 2 if row["flip"] else 1)
            result = evaluate(samples, task, predictor=average)
            row["tasks"][task] = {m: float(result.summary[m]) for m in HEADLINES[task]}
    lines = ["| seeds | mirrored | passes | " + " | ".join(f"{t} {m}" for t in args.tasks for m in HEADLINES[t])
             + " | s/image |", "|---" * (4 + sum(len(HEADLINES[t]) for t in args.tasks)) + "|"]  # fmt: skip
    for row in rows:
        row["seconds_per_image"] = row["passes"] * float(np.mean(pass_seconds))
        scores = " | ".join(f"{row['tasks'][t][m]:.4f}" for t in args.tasks for m in HEADLINES[t])
        lines.append(f"| {row['seeds']} | {'yes' if row['flip'] else 'no'} | {row['passes']} | {scores} | "
                     f"{row['seconds_per_image']:.3f} |")  # fmt: skip
    report = {"model": str(model), "count": args.count, "size": args.size, "steps": args.steps,
              "guidance": args.guidance, "rows": rows, "table": "\n".join(lines)}  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(report["table"])
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
