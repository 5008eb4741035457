"""Files written for one prediction: the side-by-side picture and, per ``prediction_kind``, the structured data.

Each task's ``prediction_kind`` (from :mod:`diception.tasks.registry`) picks its writers from :data:`KIND_FILES`;
a new kind (instance masks, keypoints, ...) is one more entry there. File names are ``<base><suffix>``:

======== ======================== =====================================================================
kind     suffix                   content
======== ======================== =====================================================================
(all)    ``.png``                 input | output side by side at the input size (depth colour-mapped)
depth    ``.npy``                 float32 ``(H, W)`` disparity in [0, 1] (near = 1)
depth    ``_16bit.png``           uint16 PNG, disparity * 65535
depth    ``_color.png``           the disparity through matplotlib's Spectral colour map
normal   ``.npy``                 float32 ``(H, W, 3)`` unit normals
mask     ``_mask.png``            8-bit PNG, 0 or 255
mask     ``_masks.json``          the mask as a one-entry list in COCO results format (RLE, area, bbox, score)
instances ``_output.png``         the model's RGB picture
instances ``_masks.json``         every decoded instance in COCO results format (RLE, area, bbox, score)
keypoints ``_output.png``         the model's RGB picture
keypoints ``_keypoints.json``     every decoded person in COCO keypoint-results format
rgb      ``_output.png``          the model's RGB picture (also every kind without its own entry)
======== ======================== =====================================================================

Optional extras: :func:`write_raw_npy` (float32 ``(H, W, 3)`` RGB output in [0, 1]) and
:func:`write_published_npy` (the published batch script's float16 layout). Every file is written to a hidden
temporary name in its directory and renamed into place, so a file either exists complete or not at all.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pycocotools.mask as mask_utils
from PIL import Image

from .tasks import pose
from .tasks.point_seg import mask_to_rle
from .tasks.registry import TaskSpec

DEPTH_COLORMAP = "Spectral"  # the published script's colour map for depth
_UMASK = os.umask(0)
os.umask(_UMASK)


@dataclass(frozen=True)
class Prediction:
    """One image's result as the writers see it.

    Attributes:
        image: the input, uint8 ``(H, W, 3)``.
        picture: the model's RGB output at input size, float32 ``(H, W, 3)`` in [0, 1].
        value: the task's decoded prediction (``DiceptionOutput.prediction[i]``).
        task: the task that produced it.
        image_id: what the COCO results files call the image (default: the input file's stem).
    """

    image: np.ndarray
    picture: np.ndarray
    value: object
    task: TaskSpec
    image_id: str | int | None = None


Writer = Callable[[Prediction, BinaryIO], None]


@dataclass(frozen=True)
class OutputFile:
    """One file to produce: where, and the function that writes its bytes."""

    path: Path
    write: Writer


def _png(array: np.ndarray, stream: BinaryIO) -> None:
    Image.fromarray(array).save(stream, format="PNG")


def _to_uint8(picture: np.ndarray) -> np.ndarray:
    return (np.clip(picture, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def depth_colormap(disparity: np.ndarray) -> np.ndarray:
    """``(H, W)`` disparity in [0, 1] -> float ``(H, W, 3)`` Spectral colours in [0, 1]."""
    import matplotlib

    return matplotlib.colormaps[DEPTH_COLORMAP](np.clip(disparity, 0.0, 1.0))[..., :3].astype(np.float32)


def display_picture(prediction: Prediction) -> np.ndarray:
    """The output half of the side-by-side picture: colour-mapped disparity for depth, else the RGB output."""
    if prediction.task.prediction_kind == "depth":
        return depth_colormap(np.asarray(prediction.value))
    return prediction.picture


def write_side_by_side(prediction: Prediction, stream: BinaryIO) -> None:
    """Input | output, both at the input size, as an 8-bit RGB PNG."""
    _png(np.concatenate([prediction.image, _to_uint8(display_picture(prediction))], axis=1), stream)


def write_float32_npy(prediction: Prediction, stream: BinaryIO) -> None:
    """The decoded prediction as float32 (depth ``(H, W)``, normals ``(H, W, 3)``)."""
    np.save(stream, np.asarray(prediction.value, dtype=np.float32))


def write_depth_16bit(prediction: Prediction, stream: BinaryIO) -> None:
    """Disparity * 65535 as a uint16 PNG."""
    disparity = np.clip(np.asarray(prediction.value, dtype=np.float64), 0.0, 1.0)
    _png((disparity * 65535.0).round().astype(np.uint16), stream)


def write_depth_color(prediction: Prediction, stream: BinaryIO) -> None:
    """The colour-mapped disparity alone."""
    _png(_to_uint8(depth_colormap(np.asarray(prediction.value))), stream)


def write_mask_png(prediction: Prediction, stream: BinaryIO) -> None:
    """The mask (a bool array, or anything ``np.asarray`` turns into one) as an 8-bit PNG of 0 and 255."""
    _png(np.where(np.asarray(prediction.value, dtype=bool), 255, 0).astype(np.uint8), stream)


def _json(entries: list[dict], stream: BinaryIO) -> None:
    stream.write((json.dumps(entries, indent=1) + "\n").encode("utf-8"))


def coco_mask_entries(prediction: Prediction) -> list[dict]:
    """COCO segmentation-results entries of a ``mask`` or ``instances`` prediction (category 1)."""
    items = prediction.value if isinstance(prediction.value, list) else [prediction.value]
    entries = []
    for item in items:
        rle = item.rle if hasattr(item, "rle") else mask_to_rle(np.asarray(item, dtype=bool))
        coco_rle = {"size": rle["size"], "counts": rle["counts"].encode("ascii")}
        entries.append(
            {
                "image_id": prediction.image_id,
                "category_id": 1,
                "segmentation": rle,
                "area": float(mask_utils.area(coco_rle)),
                "bbox": [float(v) for v in mask_utils.toBbox(coco_rle)],
                "score": float(getattr(item, "score", 1.0)),
            }
        )
    return entries


def write_masks_json(prediction: Prediction, stream: BinaryIO) -> None:
    """Masks as COCO segmentation results (RLE ``counts`` as text), one entry per mask or instance."""
    _json(coco_mask_entries(prediction), stream)


def write_keypoints_json(prediction: Prediction, stream: BinaryIO) -> None:
    """Decoded persons as COCO keypoint results (``[x, y, score] * 17`` per person, category 1)."""
    entries = pose.to_coco_results(prediction.value, image_id=0)
    _json([{**entry, "image_id": prediction.image_id} for entry in entries], stream)


def write_rgb_png(prediction: Prediction, stream: BinaryIO) -> None:
    """The model's RGB picture as an 8-bit PNG."""
    _png(_to_uint8(prediction.picture), stream)


def write_raw_npy(prediction: Prediction, stream: BinaryIO) -> None:
    """The raw RGB output, float32 ``(H, W, 3)`` in [0, 1]."""
    np.save(stream, prediction.picture.astype(np.float32))


def write_published_npy(prediction: Prediction, stream: BinaryIO) -> None:
    """The published batch script's float16 layout: depth ``(H, W)``, normals ``(3, H, W)``; other kinds the RGB
    output as ``(3, H, W)``."""
    kind = prediction.task.prediction_kind
    value = np.asarray(prediction.value if kind in ("depth", "normal") else prediction.picture, dtype=np.float32)
    if value.ndim == 3:
        value = value.transpose(2, 0, 1)
    np.save(stream, value.astype(np.float16))


# prediction_kind -> (suffix, writer) of the files beside the side-by-side picture
KIND_FILES: dict[str, tuple[tuple[str, Writer], ...]] = {
    "depth": ((".npy", write_float32_npy), ("_16bit.png", write_depth_16bit), ("_color.png", write_depth_color)),
    "normal": ((".npy", write_float32_npy),),
    "mask": (("_mask.png", write_mask_png), ("_masks.json", write_masks_json)),
    "instances": (("_output.png", write_rgb_png), ("_masks.json", write_masks_json)),
    "keypoints": (("_output.png", write_rgb_png), ("_keypoints.json", write_keypoints_json)),
    "rgb": (("_output.png", write_rgb_png),),
}
FALLBACK_KIND = "rgb"  # a kind with no entry above writes the picture


def with_suffix(base: Path, suffix: str) -> Path:
    """``base`` with ``suffix`` appended to its name (``a/img_depth`` + ``_16bit.png``)."""
    return base.parent / (base.name + suffix)


def kind_files(kind: str) -> tuple[tuple[str, Writer], ...]:
    """The ``(suffix, writer)`` pairs of ``kind``; a kind without writers of its own gets the RGB picture."""
    return KIND_FILES.get(kind, KIND_FILES[FALLBACK_KIND])


def prediction_files(kind: str, base: Path, side_by_side: Path | None = None) -> list[OutputFile]:
    """The side-by-side picture (default ``<base>.png``) plus the files of ``kind``, named ``<base><suffix>``."""
    files = [OutputFile(side_by_side or with_suffix(base, ".png"), write_side_by_side)]
    files += [OutputFile(with_suffix(base, suffix), writer) for suffix, writer in kind_files(kind)]
    return files


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` through a temporary file in the same directory, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            write(stream)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_files(prediction: Prediction, files: list[OutputFile]) -> None:
    """Write every file of ``files`` for ``prediction``, each atomically."""
    for file in files:
        write_atomically(file.path, lambda stream, w=file.write: w(prediction, stream))


def read_prediction(kind: str, base: Path):
    """Read back what :data:`KIND_FILES` wrote for ``kind`` at ``base`` (for scoring saved predictions).

    Returns the structure the task's decoder returns: depth ``(H, W)``, normals ``(H, W, 3)``, a
    :class:`~diception.tasks.point_seg.MaskPrediction`, a list of :class:`~diception.tasks.instances.Instance`
    or a list of :class:`~diception.tasks.pose.PersonPose`.
    """
    from .tasks.instances import Instance
    from .tasks.point_seg import MaskPrediction

    def need(suffix: str) -> Path:
        path = with_suffix(base, suffix)
        if not path.is_file():
            raise FileNotFoundError(f"no prediction file '{path}'")
        return path

    if kind in ("depth", "normal"):
        return np.load(need(".npy")).astype(np.float32)
    if kind in ("mask", "instances"):
        entries = json.loads(need("_masks.json").read_text())
        items = []
        for entry in entries:
            rle = entry["segmentation"]
            mask = mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode("ascii")}).astype(bool)
            if kind == "mask":
                return MaskPrediction(mask=mask, score=float(entry["score"]), rle=rle)
            items.append(Instance(mask=mask, rle=rle, area=int(entry["area"]), bbox=tuple(entry["bbox"]),
                                  score=float(entry["score"]), colour=(0.0, 0.0, 0.0)))  # fmt: skip
        return items
    if kind == "keypoints":
        persons = []
        for entry in json.loads(need("_keypoints.json").read_text()):
            xys = np.asarray(entry["keypoints"], dtype=np.float32).reshape(17, 3)
            visibility = np.where(xys[:, 2] > 0, 2.0, 0.0).astype(np.float32)
            keypoints = np.stack([xys[:, 0], xys[:, 1], visibility, xys[:, 2]], axis=1)
            persons.append(pose.PersonPose(keypoints=keypoints, score=float(entry["score"])))
        return persons
    raise ValueError(f"no reader for prediction kind '{kind}'")
