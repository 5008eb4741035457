"""Metrics for DICEPTION's six tasks: plain arrays in, ``dict[str, float]`` out (pycocotools for COCO)."""

from .coco import (
    encode_mask,
    entity_ap,
    ground_truth_from_instance_maps,
    ground_truth_from_keypoints,
    keypoint_ap,
    match_people,
    object_keypoint_similarity,
    pck,
    per_category_ap,
    results_from_masks,
    segmentation_ap,
    semantic_miou,
)
from .depth import (
    DEPTH_METRICS,
    DEPTH_PRESETS,
    DepthEvalPreset,
    align_prediction,
    depth_metrics,
    fit_scale_shift,
    kitti_eigen_crop,
    nyu_eigen_crop,
)
from .normals import angular_error, normal_metrics
from .segmentation import (
    farthest_point_from_boundary,
    mask_iou,
    mean_iou,
    per_object_iou,
    random_points_in_mask,
)

__all__ = [
    "DEPTH_METRICS",
    "DEPTH_PRESETS",
    "DepthEvalPreset",
    "align_prediction",
    "angular_error",
    "depth_metrics",
    "encode_mask",
    "entity_ap",
    "farthest_point_from_boundary",
    "fit_scale_shift",
    "ground_truth_from_instance_maps",
    "ground_truth_from_keypoints",
    "keypoint_ap",
    "kitti_eigen_crop",
    "mask_iou",
    "match_people",
    "mean_iou",
    "normal_metrics",
    "nyu_eigen_crop",
    "object_keypoint_similarity",
    "pck",
    "per_category_ap",
    "per_object_iou",
    "random_points_in_mask",
    "results_from_masks",
    "segmentation_ap",
    "semantic_miou",
]
