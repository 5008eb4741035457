"""Throughput of ``diception batch``: images per second on a folder of photos-sized JPEGs, bundled model.

    python benchmarks/batch_throughput.py --images 1000 --out bench_results/batch_throughput.json

Makes ``--images`` random-texture JPEGs (640 x 480, as a camera would give), a JSON Lines manifest of depth
records, and runs ``diception batch`` on them with the bundled model and the fast preset (1 step), once with
every output file and once with ``--outputs npy`` (what a pseudo-labelling job keeps), each in its own process
and into an empty folder. Reports wall time and images per second per run (start-up included: it is part of
what a user waits for) and the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path


def make_images(root: Path, count: int) -> Path:
    """``count`` 640 x 480 JPEGs under two folders with equal stems, and their manifest."""
    import numpy as np
    from PIL import Image

    manifest = root / "manifest.jsonl"
    if manifest.is_file() and sum(1 for _ in manifest.open()) == count:
        return manifest
    rng = np.random.default_rng(0)
    lines = []
    for i in range(count):
        folder = root / f"cam_{i % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        coarse = rng.integers(0, 256, (15, 20, 3), dtype=np.uint8)  # smooth content, JPEG-friendly
        Image.fromarray(coarse).resize((640, 480), Image.BILINEAR).save(folder / f"{i // 2:06d}.jpg", quality=90)
        lines.append(json.dumps({"input": f"cam_{i % 2}/{i // 2:06d}.jpg", "caption": "[[image2depth]]"}))
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def run_batch(manifest: Path, save: Path, batch_size: int, extra: list[str]) -> dict:
    shutil.rmtree(save, ignore_errors=True)
    command = [sys.executable, "-m", "diception", "batch", str(manifest), "--save-path", str(save), "--fast",
               "--batch-size", str(batch_size), "--quiet", *extra]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"batch failed: {done.stderr.strip() or done.stdout.strip()}")
    files = sum(1 for p in save.rglob("*") if p.is_file())
    return {"command": " ".join(command[1:]), "wall_s": round(wall, 2), "files": files, "summary": done.stdout.strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--work", type=Path, default=Path("bench_results/batch_throughput_work"))
    parser.add_argument("--out", type=Path, default=Path("bench_results/batch_throughput.json"))
    parser.add_argument("--label", default="", help="a name for this run in the results file (e.g. a commit)")
    args = parser.parse_args()

    manifest = make_images(args.work / "data", args.images)
    runs = {}
    for name, extra in (("all_outputs", []), ("outputs_npy", ["--outputs", "npy"])):
        run = run_batch(manifest, args.work / f"out_{name}", args.batch_size, extra)
        run["images_per_s"] = round(args.images / run["wall_s"], 2)
        runs[name] = run
        print(f"{name}: {run['wall_s']} s, {run['images_per_s']} images/s ({run['files']} files)")
    result = {
        "label": args.label,
        "images": args.images,
        "batch_size": args.batch_size,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.out.read_text()) if args.out.is_file() else []
    previous = previous if isinstance(previous, list) else [previous]
    args.out.write_text(json.dumps(previous + [result], indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
