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
    OUT/scenes/<stem>.json            the scene's manifest records, written last: a scene that has it is complete

Every file is written atomically, so an interrupted run resumes: a scene with its ``scenes/`` file is kept as
it is, the others are rendered again, and the manifest is written once all are there. A scene's ``scenes/`` file
of the other world (:mod:`.other_world`) says ``"world": "other"`` (a training-world file has no ``world``, as
before), so a folder of one world is never resumed with the other's scenes.

:func:`diception.data.manifest.iter_manifest` reads it back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ...atomic_files import write_atomically
from ...errors import DiceptionInputError
from ...tasks import registry
from .other_world import render_other_scene
from .render import SyntheticScene, render_scene
from .samples import scene_sample, split_seeds

MANIFEST_NAME = "manifest.json"
WORLDS = {"train": render_scene, "other": render_other_scene}  # world name -> renderer (seed, size) -> scene


def _scene_records(
    scene: SyntheticScene, stem: str, out: Path, tasks: Sequence[str], world: str
) -> list[dict[str, Any]]:
    """Write one scene's picture and each task's ground truth (``Task.write_ground_truth``); return its manifest
    records."""
    image = f"images/{stem}.png"
    write_atomically(out / image, lambda stream: Image.fromarray(scene.image).save(stream, format="PNG"))
    sample = scene_sample(scene)
    rng = np.random.default_rng([scene.seed or 0, 1])  # the point prompts of the segmentation targets
    records = []
    for task in tasks:
        for caption, target in registry.get(task).write_ground_truth(sample, out / "targets", stem, rng):
            records.append({"input": image, "caption": caption, "target": {"path": f"targets/{target}"}})
    marks = {"size": scene.size, "tasks": list(tasks)} | ({"world": world} if world != "train" else {})
    document = json.dumps({**marks, "records": records}).encode("utf-8")
    write_atomically(out / "scenes" / f"{stem}.json", lambda stream: stream.write(document))
    return records


def _written_records(out: Path, stem: str, size: int, tasks: Sequence[str], world: str) -> list[dict[str, Any]] | None:
    """The records of a scene an earlier run wrote completely at this size for these tasks from this world (a
    file without ``world`` is the training world's); None otherwise."""
    try:
        written = json.loads((out / "scenes" / f"{stem}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(written, dict) or written.get("size") != [size, size] or written.get("tasks") != list(tasks):
        return None
    if written.get("world", "train") != world:
        return None
    return written.get("records")


def write_synthetic_dataset(
    out_dir: str | Path,
    count: int,
    split: str = "train",
    size: int = 128,
    tasks: Sequence[str] | None = None,
    start: int = 0,
    world: str = "train",
) -> Path:
    """Render ``count`` scenes of ``split`` and write them with a manifest (layout in the module doc).

    Args:
        out_dir: folder to write into (created); a scene an earlier run of the same arguments completed there is
            kept, not rendered again.
        count: number of scenes.
        split: ``"train"``, ``"validation"`` or ``"test"``; scene seeds come from :func:`.split_seeds`.
        size: picture side in pixels.
        tasks: registry task names to write targets for; default all six.
        start: index of the first scene within the split (to write a split in chunks).
        world: ``"train"``, the world the bundled model trains on (:func:`.render_scene`), or ``"other"``, the
            out-of-distribution world of :mod:`.other_world` (:func:`.render_other_scene`: other objects,
            lighting and materials, no people), rendered from the same split seeds.

    Returns:
        The path of ``manifest.json``.
    """
    if world not in WORLDS:
        raise DiceptionInputError(f"unknown world '{world}'; choose one of: {', '.join(WORLDS)}")
    render = WORLDS[world]
    names = tuple(registry.get(t).name for t in (tasks if tasks is not None else registry.task_names()))
    if not names:
        raise DiceptionInputError("tasks is empty; name at least one of: " + ", ".join(registry.task_names()))
    seeds = split_seeds(split, count, start)
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "targets").mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    for seed in seeds:
        stem = f"{split}_{seed:08d}"
        written = _written_records(out, stem, size, names, world)
        records += written if written is not None else _scene_records(render(seed, size), stem, out, names, world)
    manifest = out / MANIFEST_NAME
    document = json.dumps(records, indent=1)
    write_atomically(manifest, lambda stream: stream.write(document.encode("utf-8")))
    return manifest
