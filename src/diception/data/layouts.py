"""Pick the reader for a dataset path: a depth/normal folder, SA-1B jsons, a COCO json, a manifest, or the example
pairs of a task taught from examples (``images/`` + ``targets/``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

from ..errors import DiceptionInputError
from .coco import COCO_READERS
from .dense_folder import iter_dense_folder
from .manifest import iter_manifest
from .sa1b import iter_sa1b
from .sample import Sample

LAYOUTS = ("auto", "dense", "sa1b", "coco", "manifest", "pairs")


def detect_layout(path: Path) -> str:
    """``dense`` (a folder with ``rgb/``), ``pairs`` (a folder with ``images/`` and ``targets/``), ``sa1b`` (a
    folder of ``sa_*.json``), ``coco`` (a json with ``images`` and ``annotations``) or ``manifest`` (a published
    JSON list or JSON Lines)."""
    if path.is_dir():
        if (path / "rgb").is_dir():
            return "dense"
        if (path / "images").is_dir() and (path / "targets").is_dir():
            return "pairs"
        if any(path.glob("*.json")):
            return "sa1b"
        raise DiceptionInputError(f"'{path}' holds neither rgb/ (depth/normal layout), images/ + targets/ (example "
                                  "pairs) nor SA-1B *.json files")  # fmt: skip
    if not path.is_file():
        raise DiceptionInputError(f"dataset '{path}' does not exist")
    if path.suffix == ".json":
        with path.open() as stream:
            head = stream.read(1 << 16).lstrip()
        if head.startswith("{") and '"images"' in head:
            return "coco"
    return "manifest"


def iter_dataset(
    path: str | Path,
    task: str,
    layout: str = "auto",
    images: str | Path | None = None,
    depth_scale: float | None = None,
    limit: int | None = None,
    allow_outside_root: bool = False,
) -> Iterator[Sample]:
    """Samples of ``task`` from ``path`` (at most ``limit``), with the reader its layout needs.

    Args:
        path: dataset folder or file.
        task: registry task name; samples of other tasks in a manifest are skipped.
        layout: one of :data:`LAYOUTS`; ``auto`` detects it (see :func:`detect_layout`).
        images: image folder for COCO jsons (default: the json's folder); manifest data root otherwise.
        depth_scale: metres per unit of 16-bit depth PNGs.
        allow_outside_root: a manifest's paths may resolve outside its data root (refused by default).
    """
    path = Path(path)
    if layout not in LAYOUTS:
        raise DiceptionInputError(f"unknown layout '{layout}'; choose one of: {', '.join(LAYOUTS)}")
    layout = detect_layout(path) if layout == "auto" else layout
    if layout == "dense":
        samples: Iterator[Sample] = iter_dense_folder(path, task=task, depth_scale=depth_scale)
    elif layout == "sa1b":
        samples = (s for json_path in sorted(path.glob("*.json")) for s in iter_sa1b(json_path))
    elif layout == "coco":
        if task not in COCO_READERS:
            raise DiceptionInputError(f"a COCO json serves {', '.join(COCO_READERS)}; not '{task}'")
        samples = COCO_READERS[task](path, images or path.parent)
    elif layout == "pairs":
        from .. import tasks
        from .pairs import pair_samples, read_pairs

        samples = pair_samples(read_pairs(path), tasks.get(task))
    else:
        samples = iter_manifest(path, data_root=images, depth_scale=depth_scale, allow_outside_root=allow_outside_root)
    return itertools.islice((s for s in samples if s.task == task), limit)
