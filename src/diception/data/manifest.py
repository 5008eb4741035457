"""Published DICEPTION manifests: a JSON list (or JSON Lines) of ``{"input", "caption", "target"}`` records.

The released evaluation files (``DATA/jsons/evaluate/example_batch_*.json``) look like::

    [{"input": "DATA/REAL_DATA/val/test_sa1b/sa_525837.jpg",
      "caption": "[[image2segmentation]]",
      "target": {"path": "DATA/REAL_DATA/val/test_sa1b/sa_525837.json"}},
     {"input": "...jpg", "caption": "[[image2semantic]] person"}]

``input`` and ``target.path`` are relative to a data root. ``target`` is optional; when present it is
``{"path": ...}`` or an inline RLE ``{"size": [h, w], "counts": ...}``. What a target file holds depends
on the task:

==============  ===========================================================================================
task            target file
==============  ===========================================================================================
depth           ``.npy`` metres, or 16-bit ``.png`` with ``depth_scale`` (:func:`.dense_folder.load_depth`)
normal          ``.npy`` (H, W, 3) or ``(n + 1) / 2`` coded ``.png`` (:func:`.dense_folder.load_normals`)
segmentation    SA-1B ``.json`` (one sample per mask, with its ``point_coords``) or a mask image
semantic        ``.json`` list of annotations ``{"prompt": <category>, "segmentation": polygon | RLE}``;
                a caption without a category yields one sample per category in the file
entity          ``.json`` list of annotations ``{"segmentation": ..., "prompt"/"category": optional}``
pose            ``.json`` list of annotations with 51 ``keypoints``; any other file (e.g. a rendered
                skeleton) is kept only as ``target_path``
==============  ===========================================================================================

A bad record raises :class:`~diception.errors.DiceptionInputError` naming the file, the record's line and
the problem; with ``skip_bad=True`` it is skipped and the message collected instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..errors import DiceptionInputError
from ..tasks.registry import TASKS
from .coco import NUM_KEYPOINTS, paint_instances
from .dense_folder import load_depth, load_normals
from .rle import decode_published_rle, decode_segmentation
from .sa1b import iter_sa1b
from .sample import Sample

_MASK_TASKS = ("segmentation", "semantic", "entity")
_READ_ERRORS = (DiceptionInputError, OSError, ValueError, KeyError, TypeError, IndexError)


# ------------------------------------------------------------------------------------------------ parsing
def _records(path: Path, text: str) -> Iterator[tuple[int, Any, str | None]]:
    """``(line, record, parse_error)`` for each record of a JSON list or a JSON Lines file."""
    start = len(text) - len(text.lstrip())
    if path.suffix.lower() in (".jsonl", ".ndjson") or not text[start:].startswith("["):
        for line_no, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    yield line_no, json.loads(line), None
                except json.JSONDecodeError as err:
                    yield line_no, None, f"invalid JSON ({err.msg} at column {err.colno})"
        return
    decoder = json.JSONDecoder()

    def skip_ws(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    i = skip_ws(start + 1)
    if i < len(text) and text[i] == "]":
        return
    while True:
        try:
            record, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as err:
            raise DiceptionInputError(f"{path}:{err.lineno}: invalid JSON ({err.msg})") from None
        yield text.count("\n", 0, i) + 1, record, None
        i = skip_ws(end)
        if i < len(text) and text[i] == "]":
            return
        if i >= len(text) or text[i] != ",":
            line = text.count("\n", 0, i) + 1
            raise DiceptionInputError(f"{path}:{line}: invalid JSON (expected ',' or ']' after a record)")
        i = skip_ws(i + 1)


def _parse_caption(caption: str) -> tuple[str, str | None]:
    """``(task name, category or None)`` of a caption such as ``"[[image2semantic]] person"``."""
    text = caption.strip()
    for spec in TASKS.values():
        if text == spec.prompt or text.startswith(spec.prompt + " "):
            category = text[len(spec.prompt) :].strip() or None
            if category and not spec.needs_category:
                raise DiceptionInputError(f"caption '{caption}': task '{spec.name}' takes no category")
            return spec.name, category
    known = ", ".join(spec.prompt for spec in TASKS.values())
    raise DiceptionInputError(f"caption '{caption}' names no known task; it must start with one of: {known}")


# ----------------------------------------------------------------------------------------------- targets
def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise DiceptionInputError(f"target {path}:{err.lineno}: invalid JSON ({err.msg})") from None


def _annotation_list(path: Path) -> list[dict[str, Any]]:
    data = _load_json(path)
    if isinstance(data, dict) and isinstance(data.get("annotations"), list):
        data = data["annotations"]
    if not isinstance(data, list):
        raise DiceptionInputError(f"target {path} must hold a list of annotations")
    return data


def _annotation_name(ann: Mapping[str, Any]) -> str | None:
    name = ann.get("prompt", ann.get("category"))
    return str(name).strip() if name is not None else None


def _instances_sample(base: Sample, anns: list[dict[str, Any]], size: tuple[int, int], category: str | None) -> Sample:
    h, w = size
    imap = paint_instances([decode_segmentation(a["segmentation"], h, w) for a in anns], (h, w))
    present = set(np.unique(imap).tolist()) - {0}
    names = {i + 1: n for i, a in enumerate(anns) if (n := _annotation_name(a)) is not None and i + 1 in present}
    prompt = f"{TASKS['semantic'].prompt} {category}" if base.task == "semantic" else base.prompt
    return Sample(
        image_path=base.image_path, task=base.task, prompt=prompt, sample_id=base.sample_id,
        instances=imap, instance_categories=names, category=category, target_path=base.target_path,
    )  # fmt: skip


def _file_targets(base: Sample, target: Path, category: str | None, depth_scale: float | None) -> list[Sample]:
    if not target.is_file():
        raise DiceptionInputError(f"target file {target} does not exist")
    base.target_path = target
    suffix = target.suffix.lower()
    if base.task == "depth":
        base.depth, base.valid_mask = load_depth(target, depth_scale)
        return [base]
    if base.task == "normal":
        base.normals, base.valid_mask = load_normals(target)
        return [base]
    if base.task == "segmentation":
        if suffix == ".json":
            return [
                Sample(image_path=base.image_path, task=base.task, prompt=base.prompt, sample_id=s.sample_id,
                       mask=s.mask, points=s.points, target_path=target)
                for s in iter_sa1b(target, base.image_path)
            ]  # fmt: skip
        base.mask = np.asarray(Image.open(target).convert("L")) > 127
        return [base]
    if base.task in ("semantic", "entity"):
        if suffix != ".json":
            raise DiceptionInputError(f"task '{base.task}' reads a .json annotation list, not {target.name}")
        anns = _annotation_list(target)
        with Image.open(base.image_path) as img:
            size = (img.height, img.width)
        if base.task == "entity":
            return [_instances_sample(base, anns, size, None)]
        names = [category] if category else sorted({n for a in anns if (n := _annotation_name(a))})
        return [_instances_sample(base, [a for a in anns if _annotation_name(a) == n], size, n) for n in names]
    # pose
    if suffix == ".json":
        people = []
        for ann in _annotation_list(target):
            kp = np.asarray(ann["keypoints"], dtype=np.float32)
            if kp.size != NUM_KEYPOINTS * 3:
                raise DiceptionInputError(f"target {target}: a person has {kp.size} keypoint numbers, not 51")
            people.append(kp.reshape(NUM_KEYPOINTS, 3))
        base.keypoints = people
    return [base]


def _rle_target(base: Sample, rle: Mapping[str, Any], category: str | None, counts_encoding: str) -> list[Sample]:
    if base.task not in _MASK_TASKS:
        raise DiceptionInputError(f"an inline RLE target fits {', '.join(_MASK_TASKS)}, not task '{base.task}'")
    mask = decode_published_rle(rle, counts_encoding)
    if base.task == "segmentation":
        base.mask = mask
    else:
        base.instances = mask.astype(np.int32)
        base.category = category
        base.instance_categories = {1: category} if category and mask.any() else {}
    return [base]


# ---------------------------------------------------------------------------------------------- readers
def _record_samples(
    record: Any, line: int, data_root: Path, load_targets: bool, depth_scale: float | None, counts_encoding: str
) -> list[Sample]:
    if not isinstance(record, dict):
        raise DiceptionInputError(f"record is a {type(record).__name__}; expected an object with input/caption")
    for key in ("input", "caption"):
        if not isinstance(record.get(key), str) or not record[key].strip():
            raise DiceptionInputError(f"record has no '{key}' string")
    task, category = _parse_caption(record["caption"])
    target = record.get("target")
    if task == "semantic" and category is None and not (isinstance(target, dict) and "path" in target):
        raise DiceptionInputError(f"caption '{record['caption']}' needs a category, e.g. '[[image2semantic]] person'")
    image = data_root / record["input"]
    if not image.is_file():
        raise DiceptionInputError(f"input image {image} does not exist")
    prompt = record["caption"].strip()
    base = Sample(image_path=image, task=task, prompt=prompt, sample_id=f"{line}", category=category)
    if target is None or not load_targets:
        if isinstance(target, dict) and "path" in target:
            base.target_path = data_root / target["path"]
        return [base]
    if not isinstance(target, dict):
        raise DiceptionInputError(f"'target' is a {type(target).__name__}; expected {{'path': ...}} or an RLE")
    if "counts" in target:
        return _rle_target(base, target, category, counts_encoding)
    if isinstance(target.get("path"), str):
        return _file_targets(base, data_root / target["path"], category, depth_scale)
    raise DiceptionInputError("'target' must be {'path': ...} or an RLE dict with 'size' and 'counts'")


def iter_manifest(
    path: str | Path,
    data_root: str | Path | None = None,
    skip_bad: bool = False,
    errors: list[str] | None = None,
    load_targets: bool = True,
    depth_scale: float | None = None,
    counts_encoding: str = "auto",
) -> Iterator[Sample]:
    """Yield the samples of a manifest (JSON list, or JSON Lines for ``.jsonl``/``.ndjson`` or ``{`` first).

    Args:
        path: the manifest file.
        data_root: folder that ``input`` and ``target.path`` are relative to; default the manifest's folder.
        skip_bad: skip bad records instead of raising; each one's message is appended to ``errors``.
        errors: a list to collect the skipped records' messages (``"<file>:<line>: <problem>"``).
        load_targets: read ground truth; ``False`` yields image/prompt samples with ``target_path`` only.
        depth_scale: metres per unit for 16-bit PNG depth targets.
        counts_encoding: inline RLE ``counts``: ``"auto"``, ``"coco"`` or ``"base64"``
            (see :func:`.rle.decode_published_rle`).

    One record yields one sample, except an SA-1B target (one per mask) and a semantic target file read
    without a category (one per category). ``sample_id`` is the record's line (``"12"``, or ``"sa_1#45"``).
    """
    path = Path(path)
    if not path.is_file():
        raise DiceptionInputError(f"manifest {path} does not exist")
    root = Path(data_root) if data_root is not None else path.parent
    for line, record, parse_error in _records(path, path.read_text()):
        try:
            if parse_error is not None:
                raise DiceptionInputError(parse_error)
            samples = _record_samples(record, line, root, load_targets, depth_scale, counts_encoding)
        except _READ_ERRORS as err:
            detail = str(err) if isinstance(err, (DiceptionInputError, OSError)) else f"{type(err).__name__}: {err}"
            message = f"{path}:{line}: {detail}"
            if not skip_bad:
                raise DiceptionInputError(message) from None
            if errors is not None:
                errors.append(message)
            continue
        yield from samples


def read_manifest(
    path: str | Path, data_root: str | Path | None = None, **kwargs: Any
) -> tuple[list[Sample], list[str]]:
    """All samples of a manifest, skipping bad records: ``(samples, error messages)``.

    Keyword arguments are those of :func:`iter_manifest` (``skip_bad`` is always on here).
    """
    errors: list[str] = []
    kwargs.pop("skip_bad", None)
    samples = list(iter_manifest(path, data_root, skip_bad=True, errors=errors, **kwargs))
    return samples, errors
