"""Write synthetic scenes to disk in the published manifest layout, so one reader serves synthetic and real data.

Layout (``<stem>`` is ``<split>_<seed>``)::

    OUT/manifest.json                 [{"input", "caption", "target": {"path"}}, ...], paths relative to OUT
    OUT/images/<stem>.png             the picture
    OUT/targets/<stem>_depth.npy      (H, W) float32 metres along the optical axis
    OUT/targets/<stem>_normal.npy     (H, W, 3) float32 unit normals, OpenGL camera space
    OUT/targets/<stem>_instances.png  (H, W) 16-bit instance ids, 0 = background
    OUT/targets/<stem>_instances.json [{"id", "category", "segmentation": RLE, "area", "bbox"}], entity and
                                      semantic targets (one semantic record per category present)
    OUT/targets/<stem>_masks.json     SA-1B style, one annotation per instance with 1-5 ``point_coords``
                                      (pixel (x, y); pixel c spans [c, c + 1))
    OUT/targets/<stem>_pose.json      [{"id", "category", "keypoints": 51 numbers, "num_keypoints"}]; keypoint
                                      pixel centres at integers, as the pose codec draws them

:func:`diception.data.manifest.iter_manifest` reads it back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ...errors import DiceptionInputError
from ...tasks import registry
from ..rle import encode_mask
from .render import SyntheticScene, render_scene
from .samples import MAX_POINTS, sample_points, split_seeds

MANIFEST_NAME = "manifest.json"


def _write_json(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data))
    return path.name


def _instance_annotations(scene: SyntheticScene) -> list[dict[str, Any]]:
    annotations = []
    for instance, category in scene.instance_categories.items():
        mask = scene.instance_ids == instance
        rows, cols = np.nonzero(mask)
        bbox = [int(cols.min()), int(rows.min()), int(cols.max() - cols.min() + 1), int(rows.max() - rows.min() + 1)]
        annotations.append(
            {"id": instance, "category": category, "segmentation": encode_mask(mask), "area": int(mask.sum()),
             "bbox": bbox}
        )  # fmt: skip
    return annotations


def _scene_records(scene: SyntheticScene, stem: str, out: Path, tasks: Sequence[str]) -> list[dict[str, Any]]:
    """Write one scene's files; return its manifest records."""
    h, w = scene.size
    image = f"images/{stem}.png"
    Image.fromarray(scene.image).save(out / image)
    targets = out / "targets"
    records: list[dict[str, Any]] = []

    def add(task: str, target: str, category: str | None = None) -> None:
        caption = registry.get(task).full_prompt(category)
        records.append({"input": image, "caption": caption, "target": {"path": f"targets/{target}"}})

    annotations = _instance_annotations(scene)
    if {"entity", "semantic"} & set(tasks):
        Image.fromarray(scene.instance_ids.astype(np.uint16)).save(targets / f"{stem}_instances.png")
        instances_file = _write_json(targets / f"{stem}_instances.json", annotations)
    for task in tasks:
        if task == "depth":
            np.save(targets / f"{stem}_depth.npy", scene.depth)
            add(task, f"{stem}_depth.npy")
        elif task == "normal":
            np.save(targets / f"{stem}_normal.npy", scene.normals)
            add(task, f"{stem}_normal.npy")
        elif task == "entity":
            add(task, instances_file)
        elif task == "semantic":
            for category in sorted(set(scene.instance_categories.values())):
                add(task, instances_file, category)
        elif task == "segmentation":
            rng = np.random.default_rng([scene.seed or 0, 1])
            masks = []
            for ann in annotations:
                points = sample_points(scene.instance_ids == ann["id"], int(rng.integers(1, MAX_POINTS + 1)), rng)
                masks.append({**ann, "point_coords": [[round(x * w, 3), round(y * h, 3)] for x, y in points]})
            info = {"image_id": stem, "file_name": f"{stem}.png", "height": h, "width": w}
            add(task, _write_json(targets / f"{stem}_masks.json", {"image": info, "annotations": masks}))
        elif task == "pose":
            people = [
                {"id": pid, "category": "person", "keypoints": [round(float(v), 3) for v in kp.ravel()],
                 "num_keypoints": int((kp[:, 2] > 0).sum())}
                for pid, kp in scene.keypoints.items()
            ]  # fmt: skip
            add(task, _write_json(targets / f"{stem}_pose.json", people))
    return records


def write_synthetic_dataset(
    out_dir: str | Path,
    count: int,
    split: str = "train",
    size: int = 128,
    tasks: Sequence[str] | None = None,
    start: int = 0,
) -> Path:
    """Render ``count`` scenes of ``split`` and write them with a manifest (layout in the module doc).

    Args:
        out_dir: folder to write into (created; existing files of the same names are overwritten).
        count: number of scenes.
        split: ``"train"``, ``"validation"`` or ``"test"``; scene seeds come from :func:`.split_seeds`.
        size: picture side in pixels.
        tasks: registry task names to write targets for; default all six.
        start: index of the first scene within the split (to write a split in chunks).

    Returns:
        The path of ``manifest.json``.
    """
    names = tuple(registry.get(t).name for t in (tasks if tasks is not None else registry.task_names()))
    if not names:
        raise DiceptionInputError("tasks is empty; name at least one of: " + ", ".join(registry.task_names()))
    seeds = split_seeds(split, count, start)
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "targets").mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    for seed in seeds:
        records += _scene_records(render_scene(seed, size), f"{split}_{seed:08d}", out, names)
    manifest = out / MANIFEST_NAME
    manifest.write_text(json.dumps(records, indent=1))
    return manifest
