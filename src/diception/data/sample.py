"""The record every reader yields: one image, one task prompt, and its ground truth as plain arrays.

Which ground-truth fields are set depends on the task (all others stay ``None`` or empty):

==============  ==========================================================================================
task            fields
==============  ==========================================================================================
depth           ``depth`` (H, W) float32 metres, ``valid_mask`` (H, W) bool
normal          ``normals`` (H, W, 3) float32 unit vectors, ``valid_mask`` (H, W) bool
segmentation    ``mask`` (H, W) bool, ``points`` pixel ``(x, y)`` prompts when the source gives them
semantic        ``instances`` (H, W) int32 ids (0 = background), ``category``, ``instance_categories``
entity          ``instances``, ``instance_categories`` (id -> category name, when the source names them)
pose            ``keypoints``: one (17, 3) ``(x, y, v)`` float32 array per person (COCO order)
==============  ==========================================================================================

``ignore_mask`` marks crowd regions that metrics should skip. ``target_path`` keeps the ground-truth file
when it is only a picture (e.g. a rendered pose skeleton).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass
class Sample:
    """One evaluation or training sample: image path, task name, exact prompt, ground truth."""

    image_path: Path
    task: str  # a registry name: depth, normal, pose, segmentation, semantic, entity
    prompt: str  # the exact prompt text, e.g. "[[image2semantic]] person"
    sample_id: str = ""  # stable id for result rows, e.g. "000123" or "sa_1#45"
    depth: np.ndarray | None = None  # (H, W) float32 metres
    normals: np.ndarray | None = None  # (H, W, 3) float32 unit vectors
    valid_mask: np.ndarray | None = None  # (H, W) bool, for depth and normals
    mask: np.ndarray | None = None  # (H, W) bool, point-prompted segmentation
    points: tuple[tuple[float, float], ...] = ()  # pixel (x, y) prompts
    instances: np.ndarray | None = None  # (H, W) int32, 0 = background
    instance_categories: dict[int, str] = field(default_factory=dict)  # instance id -> category name
    category: str | None = None  # the semantic prompt's category
    keypoints: list[np.ndarray] | None = None  # per person (17, 3) float32 (x, y, v)
    ignore_mask: np.ndarray | None = None  # (H, W) bool crowd regions to skip
    target_path: Path | None = None  # the ground-truth file, when it is kept as a file

    def image_size(self) -> tuple[int, int]:
        """``(height, width)`` of the image file (read from its header)."""
        with Image.open(self.image_path) as img:
            return img.height, img.width

    def normalised_points(self, width: int, height: int) -> tuple[tuple[float, float], ...]:
        """``points`` divided by the image size: the ``(x, y)`` in [0, 1] that the pipeline takes."""
        return tuple((x / width, y / height) for x, y in self.points)
