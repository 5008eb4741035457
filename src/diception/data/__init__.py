"""Dataset readers: each yields :class:`Sample` records (image path, task, prompt, ground-truth arrays)."""

from .coco import iter_coco_entity, iter_coco_pose, iter_coco_semantic, load_coco, paint_instances
from .dense_folder import iter_dense_folder, load_depth, load_normals, load_valid_mask
from .manifest import iter_manifest, read_manifest
from .rle import decode_published_rle, decode_rle, decode_segmentation, encode_mask, to_rle
from .sa1b import iter_sa1b
from .sample import Sample
from .synthetic import (
    SyntheticScene,
    SyntheticTaskDataset,
    make_sample,
    render_scene,
    split_seeds,
    write_synthetic_dataset,
)

__all__ = [
    "Sample",
    "SyntheticScene",
    "SyntheticTaskDataset",
    "decode_published_rle",
    "decode_rle",
    "decode_segmentation",
    "encode_mask",
    "iter_coco_entity",
    "iter_coco_pose",
    "iter_coco_semantic",
    "iter_dense_folder",
    "iter_manifest",
    "iter_sa1b",
    "load_coco",
    "load_depth",
    "load_normals",
    "load_valid_mask",
    "make_sample",
    "paint_instances",
    "read_manifest",
    "render_scene",
    "split_seeds",
    "to_rle",
    "write_synthetic_dataset",
]
