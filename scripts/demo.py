"""`make demo`: run `diception predict` for all six tasks on the sample pictures and build one contact sheet.

The model is the bundled one (a small DICEPTION trained here on the synthetic world; it knows nothing else),
or, in an installation without it, the published code's reference fixture (the real architecture with random
weights: its pictures only show that the chain runs). Point a real model at it with ``--model DIR``.

The sheet has a row per task and, for each sample picture, three cells: the input, the model's picture and the
ground truth. A sample picture that is a synthetic scene (listed with its seed and size in
``examples/images/scenes.json``, written by ``scripts/make_demo_images.py``) is rendered again, and each task
draws its ground truth with its own ``target_picture``; the demo clicks the point segmentation's point on the
largest object of the semantic task's category (person where there is one), and the ground truth is that object's
mask. A real picture has no ground truth; its point is a fixed one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from diception import tasks
from diception.bundled import bundled_model_path, has_bundled_model
from diception.cli.main import main as diception_cli
from diception.data.synthetic import SyntheticScene, render_scene
from diception.data.synthetic.samples import scene_sample
from diception.evaluation.segmentation import farthest_point_from_boundary
from diception.tasks import Point
from diception.tasks.prediction_files import to_uint8

SAMPLES = Path(__file__).resolve().parents[1] / "examples" / "images"
SCENES_FILE = "scenes.json"  # picture file name -> {"seed", "size"} of its synthetic scene (make_demo_images.py)
CELL = 192  # side of one cell of the sheet (pictures are fitted into it, keeping their shape)
LABEL_WIDTH = 120  # the task names' column
HEADER = 40  # the header row: each sample's name over its input / prediction / ground truth
GAP = 8  # white space after each sample's three cells
COLUMNS = ("input", "prediction", "ground truth")
DEFAULT_CATEGORY = "person"
DEFAULT_POINT = Point(0.4, 0.6)  # (x, y): the point clicked on a picture without ground truth ("--points 0.6,0.4")
POINT_RADIUS = 5
RAW_SUFFIX = "_raw.npy"  # what `diception predict --save-npy` writes: the model's RGB picture at input size


@dataclass(frozen=True)
class DemoPrompt:
    """What the demo asks of one picture: the semantic task's category and the point segmentation's point
    (normalised ``(x, y)``); ``instance`` is the scene's instance under the point (``None`` without a scene)."""

    category: str = DEFAULT_CATEGORY
    point: Point = DEFAULT_POINT
    instance: int | None = None


@dataclass(frozen=True)
class DemoPicture:
    """One sample picture: its file, its synthetic scene (``None`` for a real picture) and its prompt."""

    path: Path
    scene: SyntheticScene | None
    prompt: DemoPrompt


def choose_prompt(scene: SyntheticScene | None) -> DemoPrompt:
    """The category and point for ``scene``, taken from its ground truth: person if the scene shows one, else its
    category of largest area; the point is the pixel farthest from the edge of the largest instance of that
    category (SAM's first click). Without a scene, the defaults."""
    if scene is None:
        return DemoPrompt()
    ids, categories = scene.instance_ids, scene.instance_categories
    area = {i: int(np.count_nonzero(ids == i)) for i in categories}
    present = set(categories.values())
    if DEFAULT_CATEGORY in present:
        category = DEFAULT_CATEGORY
    else:
        totals = {c: sum(a for i, a in area.items() if categories[i] == c) for c in present}
        category = min(present, key=lambda c: (-totals[c], c))
    instance = min((i for i, c in categories.items() if c == category), key=lambda i: (-area[i], i))
    x, y = farthest_point_from_boundary(ids == instance)
    h, w = scene.size
    return DemoPrompt(category, Point((x + 0.5) / w, (y + 0.5) / h), instance)


def read_scenes(folder: Path) -> dict[str, tuple[int, int]]:
    """``folder``'s ``scenes.json``: picture file name -> ``(seed, size)`` (empty without the file)."""
    path = folder / SCENES_FILE
    if not path.is_file():
        return {}
    return {name: (int(entry["seed"]), int(entry["size"])) for name, entry in json.loads(path.read_text()).items()}


def demo_pictures(images: Sequence[Path], scenes: Mapping[str, tuple[int, int]]) -> list[DemoPicture]:
    """Each image with its scene (rendered from ``scenes``, by file name) and prompt. A listed picture that is not
    its scene's rendering, bit for bit, is shown without ground truth (with a warning)."""
    pictures = []
    for path in images:
        scene = None
        if path.name in scenes:
            seed, size = scenes[path.name]
            scene = render_scene(seed, size)
            with Image.open(path) as image:
                if not np.array_equal(np.asarray(image.convert("RGB")), scene.image):
                    print(f"warning: {path.name} is not scene {seed} of {SCENES_FILE}; shown without ground truth")
                    scene = None
        pictures.append(DemoPicture(path, scene, choose_prompt(scene)))
    return pictures


def ground_truth(spec: tasks.Task, scene: SyntheticScene, prompt: DemoPrompt) -> np.ndarray:
    """``spec``'s target picture ``(H, W, 3)`` in [0, 1] for ``scene`` as the demo asks it: for a task with
    points, the mask of the object under the point; for a task with a category, that category's instances."""
    sample = scene_sample(scene)
    if spec.accepts_points:
        sample = replace(sample, mask=scene.instance_ids == prompt.instance, points=(prompt.point,))
    if spec.needs_category:
        named = {i: c for i, c in scene.instance_categories.items() if c == prompt.category}
        ids = np.where(np.isin(scene.instance_ids, list(named)), scene.instance_ids, 0)
        sample = replace(sample, instances=ids, instance_categories=named, category=prompt.category)
    return spec.target_picture(sample)


def task_arguments(spec: tasks.Task, fast: bool, prompt: DemoPrompt | None = None) -> list[str]:
    """What the demo asks a task for one picture (``prompt``, default :class:`DemoPrompt`'s): its category for
    semantic, its point for segmentation, and the one-step preset with ``fast``."""
    prompt = prompt or DemoPrompt()
    args = ["--task", spec.name]
    if spec.needs_category:
        args += ["--category", prompt.category]
    if spec.accepts_points:
        args += ["--points", f"{prompt.point.y:g},{prompt.point.x:g}"]  # the published "row,column" form
    if fast:
        args += ["--fast"]
    return args


def fit(picture: Image.Image) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """``picture`` scaled to fit a cell, centred on white; with the box ``(left, top, width, height)`` it fills."""
    scale = CELL / max(picture.size)
    width, height = max(1, round(picture.width * scale)), max(1, round(picture.height * scale))
    cell = Image.new("RGB", (CELL, CELL), "white")
    box = ((CELL - width) // 2, (CELL - height) // 2, width, height)
    cell.paste(picture.convert("RGB").resize((width, height), Image.BILINEAR), box[:2])
    return cell, box


def draw_point(cell: Image.Image, box: tuple[int, int, int, int], point: Point) -> None:
    """A clicked point: a red dot with a black outline ringed in white, visible on dark and light pictures."""
    draw = ImageDraw.Draw(cell)
    x, y = box[0] + point.x * box[2], box[1] + point.y * box[3]
    r = POINT_RADIUS
    draw.ellipse((x - r - 2, y - r - 2, x + r + 2, y + r + 2), fill="white")
    draw.ellipse((x - r, y - r, x + r, y + r), fill=(230, 30, 30), outline="black", width=2)


def no_ground_truth() -> Image.Image:
    """The ground-truth cell of a picture without one."""
    cell = Image.new("RGB", (CELL, CELL), (235, 235, 235))
    draw = ImageDraw.Draw(cell)
    text = "no ground truth"
    left, top, right, bottom = draw.textbbox((0, 0), text)
    draw.text(((CELL - right - left) // 2, (CELL - bottom - top) // 2), text, fill=(90, 90, 90))
    return cell


def prediction_picture(out_dir: Path, picture: DemoPicture, name: str) -> Image.Image:
    """The model's picture for ``picture`` and task ``name`` (``<stem>_<task>_raw.npy``, from ``--save-npy``)."""
    return Image.fromarray(to_uint8(np.load(out_dir / f"{picture.path.stem}_{name}{RAW_SUFFIX}")))


def sheet_size(pictures: int, rows: int) -> tuple[int, int]:
    """``(width, height)``: the task names, three cells and a gap per picture; a header, then a row per task."""
    return LABEL_WIDTH + pictures * (len(COLUMNS) * CELL + GAP), HEADER + rows * CELL


def cell_origin(picture: int, column: int, row: int) -> tuple[int, int]:
    """Top-left pixel of cell ``column`` (0 input, 1 prediction, 2 ground truth) of ``picture`` in task ``row``."""
    return LABEL_WIDTH + picture * (len(COLUMNS) * CELL + GAP) + column * CELL, HEADER + row * CELL


def _centred_text(draw: ImageDraw.ImageDraw, text: str, centre_x: float, top: int) -> None:
    left, _, right, _ = draw.textbbox((0, 0), text)
    draw.text((centre_x - (right - left) / 2, top), text, fill="black")


def contact_sheet(out_dir: Path, pictures: Sequence[DemoPicture], names: Sequence[str]) -> Path:
    """One PNG: a header row, then a row per task (its name on the left) with, per picture, input | prediction |
    ground truth; the clicked points drawn on the input and prediction of a task with points."""
    sheet = Image.new("RGB", sheet_size(len(pictures), len(names)), "white")
    draw = ImageDraw.Draw(sheet)
    for k, picture in enumerate(pictures):
        x, _ = cell_origin(k, 0, 0)
        _centred_text(draw, picture.path.name, x + len(COLUMNS) * CELL / 2, 4)
        for column, title in enumerate(COLUMNS):
            _centred_text(draw, title, x + (column + 0.5) * CELL, HEADER // 2 + 2)
    for row, name in enumerate(names):
        spec = tasks.get(name)
        draw.text((8, HEADER + row * CELL + CELL // 2), name, fill="black")
        for k, picture in enumerate(pictures):
            with Image.open(picture.path) as image:
                shown, box = fit(image)
            predicted, predicted_box = fit(prediction_picture(out_dir, picture, name))
            if spec.accepts_points:
                draw_point(shown, box, picture.prompt.point)
                draw_point(predicted, predicted_box, picture.prompt.point)
            if picture.scene is None:
                truth = no_ground_truth()
            else:
                truth, _ = fit(Image.fromarray(to_uint8(ground_truth(spec, picture.scene, picture.prompt))))
            for column, cell in enumerate((shown, predicted, truth)):
                sheet.paste(cell, cell_origin(k, column, row))
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
    pictures = demo_pictures(images, read_scenes(SAMPLES))
    out = Path(args.out)
    resolution = args.resolution if args.resolution is not None else (256 if fixture else None)
    resolution = ["--processing-resolution", str(resolution)] if resolution is not None else []
    for spec in tasks.TASKS.values():
        groups: dict[tuple[str, ...], list[Path]] = {}  # pictures asked the same (a point task: one per picture)
        for picture in pictures:
            groups.setdefault(tuple(task_arguments(spec, fast, picture.prompt)), []).append(picture.path)
        for task_args, group in groups.items():
            print(f"diception predict {' '.join(task_args)} ({len(group)} pictures) ...", flush=True)
            status = diception_cli(["predict", *map(str, group), *task_args, "--model", str(model), *resolution,
                                    "--output-dir", str(out), "--save-npy", "--overwrite", "--quiet"])  # fmt: skip
            if status:
                return status
    sheet = contact_sheet(out, pictures, list(tasks.TASKS))
    print(f"done in {time.perf_counter() - start:.0f} s: outputs in {out}/, overview in {sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
