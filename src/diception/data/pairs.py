"""Example pairs that teach a new task: an input image and the picture the model should draw for it.

Two layouts: a folder with ``images/<stem>.<ext>`` and ``targets/<stem>.png`` (same stems), or a JSON list or
JSON Lines manifest of ``{"input": image, "target": picture}`` with paths relative to the manifest. Every pair
is checked before any training: a missing target, a target of another size than its image, an unreadable
line or no pair at all is one clear error naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DiceptionInputError
from .sample import Sample

if TYPE_CHECKING:
    from ..tasks.task import Task

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


@dataclass(frozen=True)
class Pair:
    """One example: the input image, its target picture, and the name results and messages use."""

    image: Path
    target: Path
    stem: str


def read_pairs(path: str | Path) -> list[Pair]:
    """The checked pairs of a pairs folder or manifest (see the module docstring)."""
    path = Path(path)
    if not path.exists():
        raise DiceptionInputError(f"--data '{path}' does not exist; pass a folder with images/ and targets/ or a "
                                  "JSON/JSONL manifest of {\"input\", \"target\"}")  # fmt: skip
    pairs = _folder_pairs(path) if path.is_dir() else _manifest_pairs(path)
    if not pairs:
        raise DiceptionInputError(f"--data '{path}' holds no example pair; put images/<stem>.png and "
                                  "targets/<stem>.png in it (at least one pair)")  # fmt: skip
    for pair in pairs:
        _check_sizes(pair)
    return pairs


def pair_samples(pairs: Iterable[Pair], task: Task) -> Iterator[Sample]:
    """The evaluation samples of ``pairs`` for ``task``: each image with its target picture as ground truth."""
    for pair in pairs:
        yield Sample(image_path=pair.image, task=task.name, prompt=task.full_prompt(), sample_id=pair.stem,
                     target_path=pair.target)  # fmt: skip


def _folder_pairs(folder: Path) -> list[Pair]:
    images_dir, targets_dir = folder / "images", folder / "targets"
    for sub in (images_dir, targets_dir):
        if not sub.is_dir():
            raise DiceptionInputError(f"--data '{folder}' has no {sub.name}/ folder; a pairs folder holds "
                                      "images/<stem>.<ext> and targets/<stem>.png")  # fmt: skip
    images = {p.stem: p for p in sorted(images_dir.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}
    targets = {p.stem: p for p in sorted(targets_dir.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}
    missing = [stem for stem in images if stem not in targets]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise DiceptionInputError(f"{len(missing)} image(s) in '{images_dir}' have no target in '{targets_dir}': "
                                  f"{shown}; add targets/<stem>.png or remove the images")  # fmt: skip
    return [Pair(images[stem], targets[stem], stem) for stem in images]


def _manifest_pairs(manifest: Path) -> list[Pair]:
    text = manifest.read_text(encoding="utf-8", errors="replace")
    try:
        records = json.loads(text) if text.lstrip().startswith("[") else None
    except json.JSONDecodeError as err:
        raise DiceptionInputError(f"manifest '{manifest}' is not valid JSON ({err.msg}, line {err.lineno})") from None
    numbered = list(enumerate(records, start=1)) if records is not None else []
    if records is None:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                numbered.append((number, json.loads(line)))
            except json.JSONDecodeError as err:
                raise DiceptionInputError(f"manifest '{manifest}' line {number} is not JSON ({err.msg}); each line "
                                          "is one {\"input\": ..., \"target\": ...} record") from None  # fmt: skip
    pairs = []
    for number, record in numbered:
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("input"), str)
            or not isinstance(record.get("target"), str)
        ):
            raise DiceptionInputError(f"manifest '{manifest}' record {number} needs string \"input\" and \"target\" "
                                      "paths")  # fmt: skip
        image, target = manifest.parent / record["input"], manifest.parent / record["target"]
        for role, file in (("image", image), ("target", target)):
            if not file.is_file():
                raise DiceptionInputError(f"manifest '{manifest}' record {number}: {role} '{file}' does not exist")
        pairs.append(Pair(image, target, image.stem))
    return pairs


def _check_sizes(pair: Pair) -> None:
    from PIL import Image, UnidentifiedImageError

    sizes = []
    for file in (pair.image, pair.target):
        try:
            with Image.open(file) as picture:
                sizes.append(picture.size)
        except (UnidentifiedImageError, OSError) as err:
            raise DiceptionInputError(f"pair '{pair.stem}': '{file}' is not a readable image ({err})") from None
    if sizes[0] != sizes[1]:
        (w, h), (tw, th) = sizes
        raise DiceptionInputError(f"pair '{pair.stem}': image {w}x{h} but target {tw}x{th}; a target must have its "
                                  "image's size")  # fmt: skip
