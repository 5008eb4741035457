"""The files a prediction is written to, and the writers tasks share.

Each task lists its files as ``(name, suffix, writer)`` (``Task.files``); a prediction of the image ``<base>``
writes ``<base>.png`` (input | output side by side, see :func:`write_side_by_side`; named ``side``) and
``<base><suffix>`` for each entry (or only those a job names), every file through
:func:`diception.atomic_files.write_atomically`. ``Task.read_prediction`` reads
them back into the structure ``Task.decode`` returns, so saved predictions are scored like fresh ones.

Writers shared by several tasks live here; a task's own (depth's 16-bit PNG, pose's keypoint JSON) live in
its module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
from PIL import Image

from ..atomic_files import write_atomically
from ..errors import DiceptionInputError

if TYPE_CHECKING:
    from .task import Task


@dataclass(frozen=True)
class Prediction:
    """One image's result as the writers see it.

    Attributes:
        image: the input, uint8 ``(H, W, 3)``; None for an answer read back from its files.
        picture: the model's RGB output at input size, float32 ``(H, W, 3)`` in [0, 1]; None when read back.
        value: the task's decoded prediction (``DiceptionOutput.prediction[i]``).
        task: the task that produced it.
        image_id: what the COCO results files call the image (default: the input file's stem).
    """

    image: np.ndarray | None
    picture: np.ndarray | None
    value: object
    task: Task
    image_id: str | int | None = None


Writer = Callable[[Prediction, BinaryIO], None]


@dataclass(frozen=True)
class OutputFile:
    """One file to produce: where, and the function that writes its bytes."""

    path: Path
    write: Writer


def with_suffix(base: Path, suffix: str) -> Path:
    """``base`` with ``suffix`` appended to its name (``a/img_depth`` + ``_16bit.png``)."""
    return base.parent / (base.name + suffix)


def write_files(prediction: Prediction, files: list[OutputFile]) -> None:
    """Write every file of ``files`` for ``prediction``, each atomically."""
    for file in files:
        write_atomically(file.path, lambda stream, w=file.write: w(prediction, stream))


def existing_file(base: Path, suffix: str) -> Path:
    """``<base><suffix>``, which must exist (``FileNotFoundError`` naming it otherwise)."""
    path = with_suffix(base, suffix)
    if not path.is_file():
        raise FileNotFoundError(f"no prediction file '{path}'")
    return path


# ---------------------------------------------------------------------------------------------- byte formats
def to_uint8(picture: np.ndarray) -> np.ndarray:
    """``[0, 1]`` floats -> uint8, rounded."""
    return (np.clip(picture, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def png_bytes(array: np.ndarray, stream: BinaryIO) -> None:
    """An 8- or 16-bit PNG of ``array``, at zlib level 1: lossless like every level, about 4x faster to write
    than PIL's default 6 for ~25 % more bytes (writing PNGs, not the model, bounded batch throughput)."""
    Image.fromarray(array).save(stream, format="PNG", compress_level=1)


def json_bytes(entries: Any, stream: BinaryIO) -> None:
    """``entries`` as indented UTF-8 JSON with a final newline."""
    stream.write((json.dumps(entries, indent=1) + "\n").encode("utf-8"))


def read_json(path: Path) -> Any:
    """A prediction JSON file; a clear error when it is not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DiceptionInputError(f"prediction file '{path}' is not valid JSON ({err}); delete it to redo it") from None


# ---------------------------------------------------------------------------------------------- shared writers
def write_side_by_side(prediction: Prediction, stream: BinaryIO) -> None:
    """Input | output (the task's :meth:`~.task.Task.display_picture`), both at the input size, 8-bit RGB."""
    shown = to_uint8(prediction.task.display_picture(prediction))
    png_bytes(np.concatenate([prediction.image, shown], axis=1), stream)


def write_rgb_png(prediction: Prediction, stream: BinaryIO) -> None:
    """The model's RGB picture as an 8-bit PNG."""
    png_bytes(to_uint8(prediction.picture), stream)


def write_float32_npy(prediction: Prediction, stream: BinaryIO) -> None:
    """The decoded prediction as a float32 array (depth ``(H, W)``, normals ``(H, W, 3)``, an RGB map)."""
    np.save(stream, np.asarray(prediction.value, dtype=np.float32))


def write_raw_npy(prediction: Prediction, stream: BinaryIO) -> None:
    """The raw RGB output, float32 ``(H, W, 3)`` in [0, 1]."""
    np.save(stream, prediction.picture.astype(np.float32))


def write_published_npy(prediction: Prediction, stream: BinaryIO) -> None:
    """The published batch script's float16 layout (:meth:`~.task.Task.published_array`, channels first)."""
    value = np.asarray(prediction.task.published_array(prediction), dtype=np.float32)
    if value.ndim == 3:
        value = value.transpose(2, 0, 1)
    np.save(stream, value.astype(np.float16))


def write_masks_json(prediction: Prediction, stream: BinaryIO) -> None:
    """Masks as COCO segmentation results (RLE ``counts`` as text, area, bbox, score, category 1): one entry
    for a mask prediction, one per instance for a list of instances."""
    from ..data.coco_results import mask_results

    items = prediction.value if isinstance(prediction.value, list) else [prediction.value]
    json_bytes(mask_results(prediction.image_id, items), stream)
