"""`make demo`: run `diception predict` for all six tasks on the sample pictures and build one contact sheet.

The model is the bundled one (a small DICEPTION trained here on the synthetic world; it knows nothing else),
or, in an installation without it, the published code's reference fixture (the real architecture with random
weights: its pictures only show that the chain runs). Point a real model at it with ``--model DIR``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw

from diception import tasks
from diception.bundled import bundled_model_path, has_bundled_model
from diception.cli.main import main as diception_cli

SAMPLES = Path(__file__).resolve().parents[1] / "examples" / "images"
CELL = 256  # height of one side-by-side picture in the sheet


def task_arguments(spec: tasks.Task, fast: bool) -> list[str]:
    """What the demo asks each task for: a category for semantic, one point on the figure for segmentation, and
    the one-step preset with ``fast``."""
    args = ["--task", spec.name]
    if spec.needs_category:
        args += ["--category", "person"]
    if spec.accepts_points:
        args += ["--points", "0.6,0.4"]
    if fast:
        args += ["--fast"]
    return args


def contact_sheet(out_dir: Path, images: list[Path], names: list[str]) -> Path:
    """One PNG: a row per task, a column per sample (each cell the input | output picture)."""
    width = 2 * CELL
    sheet = Image.new("RGB", (120 + width * len(images), CELL * len(names)), "white")
    draw = ImageDraw.Draw(sheet)
    for row, name in enumerate(names):
        draw.text((8, row * CELL + CELL // 2), name, fill="black")
        for col, image in enumerate(images):
            cell = Image.open(out_dir / f"{image.stem}_{name}.png").convert("RGB").resize((width, CELL))
            sheet.paste(cell, (120 + col * width, row * CELL))
    path = out_dir / "contact_sheet.png"
    tmp = path.with_name(path.stem + ".partial.png")
    sheet.save(tmp)
    tmp.replace(path)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a DICEPTION model folder (default: the bundled model)")
    parser.add_argument("--fixture", help="reference fixture folder (default ../shared/fixtures/official_tiny)")
    parser.add_argument("--cache", default=".cache", help="where the fixture model is materialised")
    parser.add_argument("--out", default="outputs/demo")
    parser.add_argument("--resolution", type=int, help="processing resolution (default: the model's)")
    parser.add_argument(
        "--full-sampling",
        action="store_true",
        help="the model's default sampling for every task (the fixture model defaults to --fast: "
        "its random weights give noise either way, and 28 steps with CFG take minutes on a CPU)",
    )
    args = parser.parse_args()

    start = time.perf_counter()
    fixture = False
    if args.model:
        model = Path(args.model)
    elif has_bundled_model():
        model = bundled_model_path()
    else:
        from diception.reference_fixture import converted_model

        print("no bundled model: preparing the reference fixture model (first run only, ~1 min) ...", flush=True)
        model, fixture = converted_model(args.cache, args.fixture), True
    fast = fixture and not args.full_sampling
    images = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".png", ".jpg"))
    out = Path(args.out)
    for spec in tasks.TASKS.values():
        print(f"diception predict --task {spec.name} ...", flush=True)
        resolution = args.resolution if args.resolution is not None else (256 if fixture else None)
        resolution = ["--processing-resolution", str(resolution)] if resolution is not None else []
        status = diception_cli(["predict", *map(str, images), *task_arguments(spec, fast), "--model", str(model),
                                *resolution, "--output-dir", str(out), "--overwrite", "--quiet"])  # fmt: skip
        if status:
            return status
    sheet = contact_sheet(out, images, list(tasks.TASKS))
    print(f"done in {time.perf_counter() - start:.0f} s: outputs in {out}/, overview in {sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
