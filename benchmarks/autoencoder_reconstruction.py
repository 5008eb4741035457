r"""How well each autoencoder keeps scene pictures and every task's target pictures, and the task scores after it.

    python benchmarks/autoencoder_reconstruction.py --autoencoder pixel_shuffle=pixel_shuffle:4 \
        --autoencoder learned=runs/vae/vae [--count 50] [--size 64] [--out bench_results/autoencoder.json]

Renders ``--count`` test-split scenes (never used in training) into ``--data`` in the published manifest layout,
reads each task's samples back as ``diception eval`` does, and for every autoencoder (``NAME=DIR``: a VAE folder,
a DICEPTION model folder, ``bundled`` for the bundled model's autoencoder, or ``pixel_shuffle:F`` for the exact
pixel shuffle of factor F, v1's autoencoder) reports, with
:mod:`diception.evaluation.autoencoder`:

* the picture error (mean absolute error in [0, 1] units, PSNR in dB; 100 dB is exact) of the scene pictures and
  of each task's target pictures;
* the task round trip: target picture -> encode -> decode -> the task's decoder -> the task's scorer against the
  ground truth, next to the same score of the exact target picture (the codec's own ceiling).

Writes ``--out`` (JSON) and the Markdown tables beside it (``.md``), and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

# The round-trip numbers the table shows per task: (where in the scores, metric, direction).
TABLE_METRICS = {
    "depth": [("summary", "abs_rel", "lower"), ("summary", "delta1", "higher")],
    "normal": [("summary", "mean", "lower"), ("summary", "within_11.25", "higher")],
    "segmentation": [("summary", "mIoU", "higher")],
    "entity": [("summary", "AP", "higher"), ("per_sample", "best_match_iou", "higher")],
    "semantic": [("summary", "AP", "higher"), ("per_sample", "best_match_iou", "higher")],
    "pose": [("summary", "PCK@0.1", "higher"), ("summary", "AP", "higher")],
}
SCENES = "scene pictures"


def load_autoencoder(location: str):
    """The autoencoder of a VAE folder, of a DICEPTION model folder (its ``vae/``), of the bundled model, or the
    exact pixel shuffle (``pixel_shuffle:F``)."""
    import diffusers

    from diception import bundled_model_path, modeling

    if location.startswith("pixel_shuffle:"):
        factor = location.partition(":")[2]
        if not factor.isdigit() or int(factor) < 1:
            raise SystemExit(f"error: {location}: the pixel shuffle's factor must be a positive whole number")
        return modeling.PixelShuffleAutoencoder(downscale_factor=int(factor)).eval()

    path = bundled_model_path() if location == "bundled" else Path(location)
    folder = path / "vae" if (path / "model_index.json").is_file() else path
    try:
        name = json.loads((folder / "config.json").read_text())["_class_name"]
    except (OSError, ValueError, KeyError) as err:
        raise SystemExit(f"error: {location} holds no autoencoder config ({err})") from None
    kind = getattr(modeling, name, None) or getattr(diffusers, name, None)
    if kind is None:
        raise SystemExit(f"error: {folder}: unknown autoencoder class {name!r}")
    return kind.from_pretrained(folder).eval()


def describe(vae) -> dict:
    """Class, spatial factor, latent channels and parameter count of an autoencoder."""
    from diception.pipelines.pipeline_diception import spatial_scale

    channels = vae.config.latent_channels if "latent_channels" in vae.config else vae.latent_channels
    return {"class": type(vae).__name__, "downscale_factor": spatial_scale(vae), "latent_channels": channels,
            "parameters": sum(p.numel() for p in vae.parameters())}  # fmt: skip


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def tables(report: dict) -> str:
    """The report's two Markdown tables: picture error, and the task round trip."""
    names = list(report["autoencoders"])
    lines = ["| pictures | count | " + " | ".join(f"{n}: L1 / PSNR" for n in names) + " |",
             "|---|---|" + "---|" * len(names)]  # fmt: skip
    rows = {SCENES: report["scene_pictures"]} | {
        t: {n: r["autoencoders"][n]["picture"] for n in names} for t, r in report["tasks"].items()
    }
    for what, errors in rows.items():
        count = next(iter(errors.values()))["count"] if errors else 0
        cells = [f"{_number(errors[n]['l1'], 4)} / {_number(errors[n]['psnr'], 1)} dB" for n in names]
        lines.append(f"| {what} | {count} | " + " | ".join(cells) + " |")
    lines += ["", "| task | metric | exact picture (codec alone) | " + " | ".join(names) + " |",
              "|---|---|---|" + "---|" * len(names)]  # fmt: skip
    for task, result in report["tasks"].items():
        for part, metric, direction in TABLE_METRICS.get(task, []):
            codec = result["codec"][part].get(metric)
            cells = [_number(codec)] + [_number(result["autoencoders"][n]["task"][part].get(metric)) for n in names]
            lines.append(f"| {task} | {metric} ({direction} is better) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--autoencoder", action="append", metavar="NAME=DIR",
                        help="an autoencoder to score (repeatable; DIR 'bundled' is the bundled model's, "
                             "'pixel_shuffle:F' the exact pixel shuffle); default: "
                             "exact=pixel_shuffle:4 bundled=bundled")  # fmt: skip
    parser.add_argument("--count", type=int, default=50, help="test scenes (default 50)")
    parser.add_argument("--size", type=int, default=64, help="scene side in pixels (default 64)")
    parser.add_argument("--data", default=".cache/synthetic_test", help="where the test scenes are rendered")
    parser.add_argument("--tasks", nargs="+", metavar="TASK", help="tasks to score (default all)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the instance colours of the target pictures")
    parser.add_argument("--batch-size", type=int, default=32, help="pictures per autoencoder call")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--out", default="bench_results/autoencoder_reconstruction.json",
                        help="JSON report; the Markdown tables go beside it (.md)")  # fmt: skip
    args = parser.parse_args(argv)
    pairs = [a.partition("=") for a in (args.autoencoder or ["exact=pixel_shuffle:4", "bundled=bundled"])]
    if any(not name or not sep or not where for name, sep, where in pairs):
        parser.error("--autoencoder takes NAME=DIR, e.g. learned=runs/vae/vae")

    import numpy as np
    import torch

    from diception import tasks
    from diception.data.layouts import iter_dataset
    from diception.data.synthetic import write_synthetic_dataset
    from diception.evaluation.autoencoder import picture_errors, reconstruct, task_round_trip
    from diception.tasks.task import load_picture

    if args.threads:
        torch.set_num_threads(args.threads)
    names = [tasks.get(t).name for t in (args.tasks or tasks.task_names())]
    data = Path(args.data) / f"test_{args.count}_{args.size}px"
    if not (data / "manifest.json").is_file():
        print(f"rendering {args.count} test scenes into {data} ...", flush=True)
        write_synthetic_dataset(data, args.count, split="test", size=args.size)
    samples = {task: list(iter_dataset(data / "manifest.json", task)) for task in names}
    images = sorted({s.image_path for task_samples in samples.values() for s in task_samples})
    scenes = np.stack([load_picture(path) for path in images])

    autoencoders, report = {}, {"count": args.count, "size": args.size, "split": "test", "autoencoders": {},
                                "scene_pictures": {}, "tasks": {}}  # fmt: skip
    for name, _, where in pairs:
        vae = load_autoencoder(where)
        autoencoders[name] = lambda pictures, vae=vae: reconstruct(vae, pictures, args.batch_size)
        start = time.perf_counter()
        rebuilt = autoencoders[name](scenes)
        seconds = (time.perf_counter() - start) / len(scenes)
        report["autoencoders"][name] = {"path": where, **describe(vae), "seconds_per_picture": seconds}
        report["scene_pictures"][name] = picture_errors(scenes, rebuilt)
    for task in names:
        start = time.perf_counter()
        report["tasks"][task] = task_round_trip(samples[task], task, autoencoders, args.seed)
        print(f"{task}: {len(samples[task])} samples, {time.perf_counter() - start:.1f} s", flush=True)

    report["table"] = tables(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(_json_safe(report), indent=2) + "\n")
    out.with_suffix(".md").write_text(report["table"] + "\n")
    print(report["table"])
    print(f"wrote {out} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
