"""COCO mask encodings <-> boolean arrays: polygons, uncompressed RLE and compressed RLE, via pycocotools.

One place for the conversions the readers and the COCO metrics share. Every encoding is checked here before
pycocotools sees it, because pycocotools trusts its input: run lengths that do not add up to height x width
decode to a silently wrong mask, and a polygon coordinate of 1e300 (or NaN) makes it allocate until the
process is killed. pycocotools' decoder emits a numpy-2 ``DeprecationWarning`` on every call; it is silenced
here because it is harmless and not ours.
"""

from __future__ import annotations

import base64
import binascii
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from ..errors import DiceptionInputError
from .image_files import max_pixels

# Compressed COCO RLE writes each 5-bit group as chr(48 + value), value < 64: characters '0'..'o'.
_COCO_RLE_CHARS = frozenset(chr(c) for c in range(48, 48 + 64))
_MAX_GROUPS = 6  # 5-bit groups per run length: 30 bits, more than any mask within the pixel limit needs


def encode_mask(mask: np.ndarray) -> dict[str, Any]:
    """Compressed COCO RLE of an ``(H, W)`` bool mask, with ``counts`` as ``str`` (JSON-ready)."""
    rle = mask_utils.encode(np.asfortranarray(np.asarray(mask, dtype=np.uint8)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


def to_rle(segmentation: Any, height: int, width: int) -> dict[str, Any]:
    """One compressed RLE from a COCO ``segmentation`` of an image of ``height`` x ``width``: polygon list
    (parts merged; parts of fewer than 3 points cover no pixel and are left out), uncompressed RLE (``counts`` a
    list of ints) or compressed RLE (returned as is); sizes, run lengths and coordinates are checked first."""
    shape = mask_shape([height, width], "image size")
    if isinstance(segmentation, list):
        if not segmentation:
            raise DiceptionInputError("empty polygon list in a segmentation; give at least one polygon")
        polygons = _checked_polygons(segmentation, shape)
        if not polygons:
            return mask_utils.encode(np.zeros(shape, dtype=np.uint8, order="F"))
        return mask_utils.merge(mask_utils.frPyObjects(polygons, *shape))
    return _checked_rle(segmentation, shape)


def decode_rle(rle: Mapping[str, Any]) -> np.ndarray:
    """``(H, W)`` bool mask of an RLE (``counts`` as ``str`` or ``bytes``, or an uncompressed list)."""
    rle = _checked_rle(rle)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*copy keyword.*", category=DeprecationWarning)
        return mask_utils.decode(rle).astype(bool)


def decode_segmentation(segmentation: Any, height: int, width: int) -> np.ndarray:
    """``(H, W)`` bool mask of any COCO ``segmentation`` (polygon, uncompressed or compressed RLE)."""
    return decode_rle(to_rle(segmentation, height, width))


def decode_published_rle(rle: Mapping[str, Any], counts_encoding: str = "auto") -> np.ndarray:
    """Mask of an inline RLE from a published DICEPTION manifest, whose ``counts`` may be base64-wrapped.

    The released data loader base64-decodes ``counts`` for every set but SA-1B. ``counts_encoding`` is
    ``"coco"`` (plain compressed RLE), ``"base64"`` or ``"auto"``: plain when every character is a valid
    compressed-RLE character, base64 otherwise.
    """
    if counts_encoding not in ("auto", "coco", "base64"):
        raise DiceptionInputError(f"counts_encoding='{counts_encoding}' is not one of auto, coco, base64")
    if not isinstance(rle, Mapping):
        raise DiceptionInputError(f"an RLE must be a dict with 'size' and 'counts', got {rle!r:.60}")
    counts = rle.get("counts")
    if isinstance(counts, str) and (
        counts_encoding == "base64" or (counts_encoding == "auto" and not set(counts) <= _COCO_RLE_CHARS)
    ):
        try:
            counts = base64.b64decode(counts, validate=True)
        except (binascii.Error, ValueError):
            raise DiceptionInputError("RLE 'counts' is neither compressed COCO RLE nor base64") from None
    return decode_rle({"size": rle.get("size"), "counts": counts})


def mask_shape(size: Any, what: str = "RLE 'size'") -> tuple[int, int]:
    """``(height, width)`` from ``size = [height, width]``: two whole numbers >= 1 within the image pixel limit
    (``DICEPTION_MAX_PIXELS``), so that no mask is larger than an image may be."""
    if (
        not isinstance(size, (list, tuple))
        or len(size) != 2
        or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1 for s in size)
    ):
        raise DiceptionInputError(f"{what} {size!r:.60} must be [height, width], two whole numbers >= 1")
    height, width = int(size[0]), int(size[1])
    if height * width > max_pixels():
        raise DiceptionInputError(f"{what} {height} x {width} is over the limit of {max_pixels()} pixels; raise "
                                  "DICEPTION_MAX_PIXELS if the mask is genuine")  # fmt: skip
    return height, width


def _checked_rle(rle: Any, shape: tuple[int, int] | None = None) -> dict[str, Any]:
    """A compressed RLE that pycocotools decodes safely, from a compressed or uncompressed one: ``size`` as
    :func:`mask_shape` wants it (equal to ``shape`` when given), ``counts`` run lengths >= 0 that add up to
    height x width."""
    if not isinstance(rle, Mapping) or "counts" not in rle or "size" not in rle:
        raise DiceptionInputError("a segmentation must be a polygon list or an RLE dict with 'size' and 'counts'")
    height, width = mask_shape(rle["size"])
    if shape is not None and (height, width) != shape:
        raise DiceptionInputError(f"RLE size {height} x {width} differs from the image's {shape[0]} x {shape[1]}; "
                                  "a mask must have its image's size")  # fmt: skip
    counts = rle["counts"]
    runs = _compressed_runs(counts) if isinstance(counts, (str, bytes)) else _uncompressed_runs(counts)
    if int(runs.sum()) != height * width:
        raise DiceptionInputError(f"RLE counts add up to {int(runs.sum())} pixels, not {height} x {width} = "
                                  f"{height * width}; the mask is damaged or has another size")  # fmt: skip
    if isinstance(counts, (str, bytes)):
        return {"size": [height, width], "counts": counts}
    return mask_utils.frPyObjects({"size": [height, width], "counts": runs.tolist()}, height, width)


def _compressed_runs(counts: str | bytes) -> np.ndarray:
    """The run lengths of compressed COCO RLE ``counts``, as pycocotools' ``rleFrString`` reads them: each
    number is 5-bit groups written as chr(48 + group), 0x20 meaning "more groups follow" and 0x10 in the last
    group the sign; from the fourth on, each number is the difference to the run two before."""
    raw = counts.encode("utf-8") if isinstance(counts, str) else bytes(counts)  # non-ASCII bytes fail below
    groups = np.frombuffer(raw, dtype=np.uint8).astype(np.int64) - 48
    if groups.size == 0:
        return groups
    if ((groups < 0) | (groups > 63)).any():
        raise DiceptionInputError("RLE 'counts' holds characters outside '0'..'o'; it is not compressed COCO RLE")
    more = (groups & 0x20) != 0
    ends = np.flatnonzero(~more)  # the last group of each number
    if more[-1] or np.diff(ends, prepend=-1).max() > _MAX_GROUPS:
        raise DiceptionInputError("RLE 'counts' ends inside a number or holds a number too long for any mask")
    starts = np.concatenate([[0], ends[:-1] + 1])
    lengths = ends - starts + 1
    shift = 5 * (np.arange(groups.size) - np.repeat(starts, lengths))
    values = np.add.reduceat((groups & 0x1F) << shift, starts)
    values = np.where(groups[ends] & 0x10, values - (1 << (5 * lengths)), values)
    runs = values.copy()
    runs[1::2] = np.cumsum(values[1::2])  # run 3 = value 3 + run 1, run 5 = value 5 + run 3, ...
    runs[2::2] = np.cumsum(values[2::2])  # run 4 = value 4 + run 2, ...; runs 0 to 2 are as written
    if (runs < 0).any():
        raise DiceptionInputError("RLE 'counts' decodes to a negative run length; the mask is damaged")
    return runs


def _uncompressed_runs(counts: Any) -> np.ndarray:
    """Uncompressed RLE ``counts``: a list of whole numbers >= 0."""
    try:
        runs = np.asarray(counts) if isinstance(counts, (list, tuple, np.ndarray)) else None
    except ValueError:  # a ragged nesting
        runs = None
    if runs is None or runs.ndim != 1 or (runs.size and runs.dtype.kind not in "iu") or (runs < 0).any():
        raise DiceptionInputError(f"RLE 'counts' {counts!r:.60} must be a compressed string or a list of whole "
                                  "numbers >= 0 (run lengths)")  # fmt: skip
    return runs.astype(np.int64)


def _checked_polygons(polygons: list, shape: tuple[int, int]) -> list[list[float]]:
    """The polygons of at least 3 points, each checked: an even count of finite numbers, none farther than one
    image size outside the image."""
    height, width = shape
    kept = []
    for k, polygon in enumerate(polygons):
        try:
            xy = np.asarray(polygon) if isinstance(polygon, (list, tuple, np.ndarray)) else None
        except ValueError:  # a ragged nesting
            xy = None
        if xy is None or xy.ndim != 1 or (xy.size and xy.dtype.kind not in "iuf"):
            raise DiceptionInputError(f"polygon {k} {polygon!r:.60} must be a list of numbers x1, y1, x2, y2, ...")
        if xy.size % 2:
            raise DiceptionInputError(f"polygon {k} has {xy.size} coordinates, an odd count; give (x, y) pairs")
        xy = xy.astype(np.float64).reshape(-1, 2)
        if not np.isfinite(xy).all():
            raise DiceptionInputError(f"polygon {k} holds NaN or infinite coordinates")
        if (xy < -np.array([width, height])).any() or (xy > 2 * np.array([width, height])).any():
            raise DiceptionInputError(f"polygon {k} has a point far outside the {width} x {height} image; polygons "
                                      "are pixel (x, y) coordinates")  # fmt: skip
        if len(xy) >= 3:
            kept.append(xy.ravel().tolist())
    return kept
