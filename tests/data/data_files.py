"""Tiny files for the reader tests, written into ``tmp_path`` (helpers, imported by the tests)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils


def write_image(path: Path, height: int = 6, width: int = 8, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(path)
    return path


def compressed_rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


def uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO's uncompressed RLE: run lengths over the column-major pixels, starting with a run of zeros."""
    flat = mask.astype(np.uint8).flatten(order="F")
    counts, value, run = [], 0, 0
    for v in flat:
        if v == value:
            run += 1
        else:
            counts.append(run)
            value, run = v, 1
    counts.append(run)
    return {"size": list(mask.shape), "counts": counts}


def box(h: int, w: int, y0: int, x0: int, y1: int, x1: int) -> np.ndarray:
    m = np.zeros((h, w), dtype=bool)
    m[y0:y1, x0:x1] = True
    return m


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))
    return path


def write_sa1b(folder: Path, stem: str = "sa_1", height: int = 6, width: int = 8) -> tuple[Path, list]:
    """An SA-1B image + JSON with two masks; returns the JSON path and the masks."""
    write_image(folder / f"{stem}.jpg", height, width)
    masks = [box(height, width, 0, 0, 3, 4), box(height, width, 2, 3, 6, 8)]
    anns = [
        {"id": 45 + k, "segmentation": compressed_rle(m), "bbox": [0, 0, 1, 1], "area": int(m.sum()),
         "point_coords": [[float(np.nonzero(m)[1][0]), float(np.nonzero(m)[0][0])]], "predicted_iou": 0.9}
        for k, m in enumerate(masks)
    ]  # fmt: skip
    info = {"image_id": 1, "width": width, "height": height, "file_name": f"{stem}.jpg"}
    return write_json(folder / f"{stem}.json", {"image": info, "annotations": anns}), masks
