"""COCO mask encodings <-> boolean arrays: polygons, uncompressed RLE and compressed RLE, via pycocotools.

One place for the conversions the readers and the COCO metrics share. pycocotools' decoder emits a
numpy-2 ``DeprecationWarning`` on every call; it is silenced here because it is harmless and not ours.
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

# Compressed COCO RLE writes each 5-bit group as chr(48 + value), value < 64: characters '0'..'o'.
_COCO_RLE_CHARS = frozenset(chr(c) for c in range(48, 48 + 64))


def encode_mask(mask: np.ndarray) -> dict[str, Any]:
    """Compressed COCO RLE of an ``(H, W)`` bool mask, with ``counts`` as ``str`` (JSON-ready)."""
    rle = mask_utils.encode(np.asfortranarray(np.asarray(mask, dtype=np.uint8)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


def to_rle(segmentation: Any, height: int, width: int) -> dict[str, Any]:
    """One compressed RLE from a COCO ``segmentation``: polygon list (parts merged), uncompressed RLE
    (``counts`` a list of ints) or compressed RLE (returned as is)."""
    if isinstance(segmentation, list):
        if not segmentation:
            raise DiceptionInputError("empty polygon list in a segmentation; give at least one polygon")
        return mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    if not isinstance(segmentation, Mapping) or "counts" not in segmentation or "size" not in segmentation:
        raise DiceptionInputError("a segmentation must be a polygon list or an RLE dict with 'size' and 'counts'")
    if isinstance(segmentation["counts"], list):
        return mask_utils.frPyObjects(dict(segmentation), height, width)
    return dict(segmentation)


def decode_rle(rle: Mapping[str, Any]) -> np.ndarray:
    """``(H, W)`` bool mask of a compressed RLE (``counts`` as ``str`` or ``bytes``)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*copy keyword.*", category=DeprecationWarning)
        try:
            return mask_utils.decode(dict(rle)).astype(bool)
        except (TypeError, ValueError, KeyError) as err:
            raise DiceptionInputError(f"cannot decode RLE mask ({err}); expected {{'size', 'counts'}}") from None


def decode_segmentation(segmentation: Any, height: int, width: int) -> np.ndarray:
    """``(H, W)`` bool mask of any COCO ``segmentation`` (polygon, uncompressed or compressed RLE)."""
    return decode_rle(to_rle(segmentation, height, width))


def decode_published_rle(rle: Mapping[str, Any], counts_encoding: str = "auto") -> np.ndarray:
    """Mask of an inline RLE from a published DICEPTION manifest, whose ``counts`` may be base64-wrapped.

    The released data loader base64-decodes ``counts`` for every set but SA-1B. ``counts_encoding`` is
    ``"coco"`` (plain compressed RLE), ``"base64"`` or ``"auto"``: plain when every character is a valid
    compressed-RLE character, base64 otherwise.
    """
    counts = rle.get("counts")
    if counts_encoding not in ("auto", "coco", "base64"):
        raise DiceptionInputError(f"counts_encoding='{counts_encoding}' is not one of auto, coco, base64")
    if isinstance(counts, str) and (
        counts_encoding == "base64" or (counts_encoding == "auto" and not set(counts) <= _COCO_RLE_CHARS)
    ):
        try:
            counts = base64.b64decode(counts, validate=True)
        except (binascii.Error, ValueError):
            raise DiceptionInputError("RLE 'counts' is neither compressed COCO RLE nor base64") from None
    return decode_rle({"size": rle.get("size"), "counts": counts})
