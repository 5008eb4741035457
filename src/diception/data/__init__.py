"""Dataset readers: each yields :class:`Sample` records (image path, task, prompt, ground-truth arrays).

Names are imported on first use, so ``diception.data.rle`` (say) does not load the synthetic world.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Sample": "sample",
    "SyntheticScene": "synthetic",
    "SyntheticTaskDataset": "synthetic",
    "decode_published_rle": "rle",
    "decode_rle": "rle",
    "decode_segmentation": "rle",
    "encode_mask": "rle",
    "iter_coco_entity": "coco",
    "iter_coco_pose": "coco",
    "iter_coco_semantic": "coco",
    "iter_dense_folder": "dense_folder",
    "iter_manifest": "manifest",
    "iter_sa1b": "sa1b",
    "keypoint_results": "coco_results",
    "load_coco": "coco",
    "load_depth": "dense_folder",
    "load_image": "image_files",
    "load_normals": "dense_folder",
    "load_valid_mask": "dense_folder",
    "make_sample": "synthetic",
    "mask_results": "coco_results",
    "paint_instances": "coco",
    "read_manifest": "manifest",
    "render_scene": "synthetic",
    "split_seeds": "synthetic",
    "to_rle": "rle",
    "write_synthetic_dataset": "synthetic",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'diception.data' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
