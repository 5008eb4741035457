"""Published DICEPTION manifests, the one reader: a JSON list (or JSON Lines) of ``{"input", "caption", ...}``.

The released evaluation files (``DATA/jsons/evaluate/example_batch_*.json``) look like (``<...>`` stands for a
task's prompt, see the README)::

    [{"input": "DATA/REAL_DATA/val/test_sa1b/sa_525837.jpg",
      "caption": "<segmentation prompt>",
      "target": {"path": "DATA/REAL_DATA/val/test_sa1b/sa_525837.json"}},
     {"input": "...jpg", "caption": "<semantic prompt> person"}]

``input`` and ``target.path`` are relative to a data root. ``target`` is optional; when present it is
``{"path": ...}`` or an inline RLE ``{"size": [h, w], "counts": ...}`` (anything else is ignored, as the published
collator ignores it). A record may also carry ``points``:
``[[y, x], ...]`` normalised to [0, 1] (the published order) for point-prompted segmentation. What a target
file holds depends on the task; each task reads its own (``Task.read_ground_truth``):

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
other tasks     an image file: the target picture
==============  ===========================================================================================

JSON Lines is recognised by a ``.jsonl`` / ``.ndjson`` suffix or by a first character other than ``[``. A bad
record raises :class:`~diception.errors.DiceptionInputError` naming the file, the record's line and the
problem; with ``skip_bad=True`` it is skipped and the message collected instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import tasks
from ..errors import DiceptionInputError
from ..tasks.points import points_from_published
from ..tasks.task import GroundTruthOptions
from .rle import decode_published_rle
from .sample import Sample

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
_READ_ERRORS = (DiceptionInputError, OSError, ValueError, KeyError, TypeError, IndexError)


@dataclass(frozen=True)
class ManifestRecord:
    """One record of a manifest: the line it starts on, and its JSON value or why it cannot be parsed."""

    line: int
    value: Any = None
    error: str | None = None


class ManifestSyntaxError(DiceptionInputError):
    """A JSON-list manifest that stops parsing at ``line`` (the records after it cannot be found)."""

    def __init__(self, path: Path, line: int, detail: str):
        super().__init__(f"{path}:{line}: invalid JSON ({detail})")
        self.path, self.line, self.detail = path, line, detail


# ------------------------------------------------------------------------------------------------ parsing
def read_records(path: str | Path) -> Iterator[ManifestRecord]:
    """The records of a JSON list or a JSON Lines file, in order, each with the line it starts on.

    A broken line of JSON Lines is one record with an ``error``; a broken JSON list raises
    :class:`ManifestSyntaxError` where it stops parsing (after yielding the records before it).
    """
    path = Path(path)
    if not path.is_file():
        raise DiceptionInputError(f"manifest '{path}' does not exist; pass a JSON or JSON Lines file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DiceptionInputError(f"manifest '{path}' is not UTF-8 text ({err.reason}); save it as UTF-8") from None
    start = len(text) - len(text.lstrip())
    if path.suffix.lower() in JSON_LINES_SUFFIXES or not text[start:].startswith("["):
        for line_no, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    yield ManifestRecord(line_no, json.loads(line))
                except json.JSONDecodeError as err:
                    yield ManifestRecord(line_no, error=f"invalid JSON ({err.msg} at column {err.colno})")
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
            raise ManifestSyntaxError(path, err.lineno, err.msg) from None
        yield ManifestRecord(text.count("\n", 0, i) + 1, record)
        i = skip_ws(end)
        if i < len(text) and text[i] == "]":
            return
        if i >= len(text) or text[i] != ",":
            raise ManifestSyntaxError(path, text.count("\n", 0, i) + 1, "expected ',' or ']' after a record")
        i = skip_ws(i + 1)


# ---------------------------------------------------------------------------------------------- records
def under_root(data_root: Path, relative: str, what: str, allow_outside_root: bool = False) -> Path:
    """``data_root / relative``, refused unless it resolves (``..``, an absolute path and symlinks followed)
    inside the data root: a manifest from elsewhere must not make a job read, and copy into its outputs, files
    outside the folder it was given."""
    if "\x00" in relative:
        raise DiceptionInputError(f"{what} '{relative!r}' holds a NUL character; fix the manifest")
    path = data_root / relative
    if not allow_outside_root:
        try:
            resolved, root = path.resolve(), data_root.resolve()
        except (OSError, RuntimeError) as err:  # a symlink loop, a name too long
            raise DiceptionInputError(f"{what} '{relative}' cannot be resolved ({err}); fix the manifest") from None
        if not resolved.is_relative_to(root):
            raise DiceptionInputError(f"{what} '{relative}' resolves to {resolved}, outside the data root {root}; "
                                      "move it under the root or pass --allow-outside-root")  # fmt: skip
    return path


def record_samples(
    record: ManifestRecord,
    data_root: Path,
    load_targets: bool = True,
    options: GroundTruthOptions | None = None,
    allow_outside_root: bool = False,
) -> list[Sample]:
    """The samples of one record (usually one; an SA-1B target gives one per mask, a semantic target file
    read without a category one per category). Raises :class:`DiceptionInputError` for a bad record, and for
    an ``input`` or ``target.path`` outside ``data_root`` unless ``allow_outside_root`` (:func:`under_root`).

    With ``load_targets=False`` a target file is only named (``target_path``); an inline RLE target, which
    the record holds already, is always decoded.
    """
    options = options or GroundTruthOptions()
    if record.error is not None:
        raise DiceptionInputError(record.error)
    value = record.value
    if not isinstance(value, dict):
        raise DiceptionInputError(f"record is a {type(value).__name__}; expected an object with input/caption")
    for key in ("input", "caption"):
        if not isinstance(value.get(key), str) or not value[key].strip():
            raise DiceptionInputError(f"record has no '{key}' string")
    caption = value["caption"].strip()
    task, category = tasks.task_from_prompt(caption)
    if category and not task.needs_category:
        raise DiceptionInputError(f"caption '{caption}': task '{task.name}' takes no category")
    target = value.get("target")
    has_file = isinstance(target, dict) and isinstance(target.get("path"), str)
    if task.needs_category and category is None and not has_file:
        raise DiceptionInputError(f"caption '{caption}' needs a category, e.g. '{task.prompt} person'")
    points = points_from_published(value.get("points"), "points")
    if points and not task.accepts_points:
        raise DiceptionInputError(f"task '{task.name}' takes no points; drop 'points' from the record")
    image = under_root(data_root, value["input"], "input", allow_outside_root)
    if not image.is_file():
        raise DiceptionInputError(f"input image {image} does not exist; check 'input' and the data root")
    base = Sample(image_path=image, task=task.name, prompt=caption, sample_id=f"{record.line}", category=category,
                  points=points)  # fmt: skip
    if not isinstance(target, dict):  # absent, or (as the published collator treats it) not an object: no target
        return [base]
    if "counts" in target:
        return task.ground_truth_from_mask(base, decode_published_rle(target, options.counts_encoding))
    if not has_file:
        raise DiceptionInputError("'target' must be {'path': ...} or an RLE dict with 'size' and 'counts'")
    path = under_root(data_root, target["path"], "target path", allow_outside_root)
    if not load_targets:
        return [replace(base, target_path=path)]
    if not path.is_file():
        raise DiceptionInputError(f"target file {path} does not exist")
    return task.read_ground_truth(base, path, options)


def iter_manifest(
    path: str | Path,
    data_root: str | Path | None = None,
    skip_bad: bool = False,
    errors: list[str] | None = None,
    load_targets: bool = True,
    depth_scale: float | None = None,
    counts_encoding: str = "auto",
    allow_outside_root: bool = False,
) -> Iterator[Sample]:
    """Yield the samples of a manifest.

    Args:
        path: the manifest file.
        data_root: folder that ``input`` and ``target.path`` are relative to; default the manifest's folder.
        skip_bad: skip bad records instead of raising; each one's message is appended to ``errors``.
        errors: a list to collect the skipped records' messages (``"<file>:<line>: <problem>"``).
        load_targets: read ground truth files; ``False`` yields samples with ``target_path`` only.
        depth_scale: metres per unit for 16-bit PNG depth targets.
        counts_encoding: inline RLE ``counts``: ``"auto"``, ``"coco"`` or ``"base64"``
            (see :func:`.rle.decode_published_rle`).
        allow_outside_root: accept paths that resolve outside ``data_root`` (refused by default).

    ``sample_id`` is the record's line (``"12"``, or ``"sa_1#45"`` for an SA-1B mask).
    """
    path = Path(path)
    root = Path(data_root) if data_root is not None else path.parent
    options = GroundTruthOptions(depth_scale=depth_scale, counts_encoding=counts_encoding)
    for record in read_records(path):
        try:
            samples = record_samples(record, root, load_targets, options, allow_outside_root)
        except _READ_ERRORS as err:
            message = f"{path}:{record.line}: {describe_error(err)}"
            if not skip_bad:
                raise DiceptionInputError(message) from None
            if errors is not None:
                errors.append(message)
            continue
        yield from samples


def describe_error(err: Exception) -> str:
    """One line for a record's failure: the message of a user error, the type and message of anything else."""
    detail = str(err) if isinstance(err, (DiceptionInputError, OSError)) else f"{type(err).__name__}: {err}"
    return " ".join(detail.split())


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
