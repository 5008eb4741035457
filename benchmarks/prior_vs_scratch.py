r"""From scratch vs from a generative prior, at the same fine-tuning compute: the table and the learning curves.

    python benchmarks/prior_vs_scratch.py --scratch runs/v2_scratch --prior runs/v2_from_prior \
        --pretraining runs/v2_prior --reports bench_results/v2_scratch.json bench_results/v2_from_prior.json \
        [--baseline-report bench_results/bundled_v1.json] --plot docs/figures/prior_vs_scratch.png \
        --table bench_results/prior_vs_scratch.md

Reads each fine-tuning run's ``metrics.jsonl`` (training loss per task) and ``validation.jsonl`` (metrics of the
fixed validation examples), checks that both arms ran the same steps with the same batch, and draws one panel per
curve. The table puts the two arms' held-out test scores (``benchmarks/bundled_model_report.py`` reports) side by
side, with the compute each arm cost (pretraining included).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

# (file, key, title, lower is better): the curves, in panel order
CURVES = [
    ("metrics", "loss", "training loss, all tasks", True),
    ("metrics", "loss/depth", "training loss, depth", True),
    ("metrics", "loss/pose", "training loss, pose", True),
    ("metrics", "loss/entity", "training loss, entity", True),
    ("validation", "depth/abs_rel", "validation depth AbsRel", True),
    ("validation", "normal/normal_mean_deg", "validation normals, mean error (deg)", True),
    ("validation", "segmentation/mask_iou", "validation point segmentation IoU", False),
    ("validation", "all/picture_l1", "validation picture L1, all tasks", True),
]


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []


def run_summary(folder: Path) -> dict:
    """Steps, batch and seconds of a run folder (from its config and metrics)."""
    config = yaml.safe_load((folder / "config.yaml").read_text())
    rows = read_rows(folder / "metrics.jsonl")
    seconds = 0.0
    for previous, row in zip([{"step": 0}, *rows], rows):
        seconds += (row["step"] - previous["step"]) * row["seconds_per_step"]
    return {"steps": rows[-1]["step"] if rows else 0, "batch_size": config["optim"]["batch_size"],
            "seconds": seconds, "config": config}  # fmt: skip


def plot(arms: dict[str, Path], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 4, figsize=(16, 7))
    for ax, (kind, key, title, lower) in zip(axes.ravel(), CURVES):
        for (name, folder), style in zip(arms.items(), ("-", "--")):
            rows = [r for r in read_rows(folder / f"{kind}.jsonl") if key in r]
            ax.plot([r["step"] for r in rows], [r[key] for r in rows], style, label=name)
        ax.set_title(title + (" (lower is better)" if lower else " (higher is better)"), fontsize=9)
        ax.set_xlabel("fine-tuning step", fontsize=8)
        ax.grid(alpha=0.3)
    axes[0, 0].legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)


def table(reports: dict[str, dict], summaries: dict[str, dict], pretraining: dict | None) -> str:
    from bundled_model_report import HEADLINES  # noqa: PLC0415  (same folder)

    names = list(reports)
    lines = ["| task | metric | " + " | ".join(names) + " | target |", "|---|---|" + "---|" * len(names) + "---|"]
    first = next(iter(reports.values()))
    for task in first["tasks"]:
        for metric, direction, target in HEADLINES[task]:
            values = [reports[n]["tasks"].get(task, {}).get("model", {}).get(metric, float("nan")) for n in names]
            shown = " | ".join(f"{v:.3f}" for v in values)
            lines.append(f"| {task} | {metric} ({direction} is better) | {shown} | {target:g} |")
        spreads = [reports[n]["tasks"].get(task, {}).get("input_dependence") for n in names]
        if all(spreads):  # does the model read its input? 0 = one picture for every scene
            shown = " | ".join(f"{d['model']:.3f}" for d in spreads)
            lines.append(f"| {task} | output spread across {spreads[0]['scenes']} scenes (higher: reads its input) "
                         f"| {shown} | true {spreads[0]['truth']:.3f} |")  # fmt: skip
    cost = []
    for name in names:
        s = summaries.get(name)
        if s:
            extra = ""
            if pretraining and name.endswith("prior"):
                extra = f" + {pretraining['steps']} pretraining steps ({pretraining['seconds'] / 60:.0f} min)"
            cost.append(f"{name}: {s['steps']} fine-tuning steps of batch {s['batch_size']} "
                        f"({s['seconds'] / 60:.0f} min){extra}")  # fmt: skip
    return "\n".join(lines) + ("\n\n" + "; ".join(cost) + "." if cost else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scratch", type=Path, required=True, help="the from-scratch fine-tuning run folder")
    parser.add_argument("--prior", type=Path, required=True, help="the from-prior fine-tuning run folder")
    parser.add_argument("--pretraining", type=Path, help="the text-to-image pretraining run folder")
    parser.add_argument("--reports", type=Path, nargs=2, metavar=("SCRATCH", "PRIOR"),
                        help="bundled_model_report.py JSON of each arm")  # fmt: skip
    parser.add_argument("--baseline-report", type=Path, help="a third report shown first (e.g. the v1 model)")
    parser.add_argument("--plot", type=Path, default=Path("bench_results/prior_vs_scratch.png"))
    parser.add_argument("--table", type=Path, default=Path("bench_results/prior_vs_scratch.md"))
    args = parser.parse_args()

    arms = {"from scratch": args.scratch, "from the prior": args.prior}
    summaries = {name: run_summary(folder) for name, folder in arms.items()}
    steps = {(s["steps"], s["batch_size"]) for s in summaries.values()}
    if len(steps) != 1:
        print(f"the two arms did not run the same fine-tuning compute: {steps}", file=sys.stderr)
        return 2
    plot(arms, args.plot)
    print(f"wrote {args.plot}")
    if args.reports:
        reports = {}
        if args.baseline_report:
            reports["v1 (bundled today)"] = json.loads(args.baseline_report.read_text())
        reports.update({name: json.loads(p.read_text()) for name, p in zip(arms, args.reports)})
        pretraining = run_summary(args.pretraining) if args.pretraining else None
        text = table(reports, summaries, pretraining)
        args.table.parent.mkdir(parents=True, exist_ok=True)
        args.table.write_text(text + "\n")
        print(text)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
