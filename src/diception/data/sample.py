"""The record every reader yields: one image, one task prompt, and its ground truth as plain arrays.

Which ground-truth fields are set depends on the task (all others stay ``None`` or empty); each task object
reads the fields it needs (``Task.target_picture``):

==============  ==========================================================================================
task            fields
==============  ==========================================================================================
depth           ``depth`` (H, W) float32 metres, ``valid_mask`` (H, W) bool
normal          ``normals`` (H, W, 3) float32 unit vectors, ``valid_mask`` (H, W) bool
segmentation    ``mask`` (H, W) bool, ``points`` (normalised ``(x, y)``) when the source gives them
semantic        ``instances`` (H, W) int32 ids (0 = background), ``category``, ``instance_categories``
entity          ``instances``, ``instance_categories`` (id -> category name, when the source names them)
pose            ``keypoints``: one (17, 3) ``(x, y, v)`` float32 array per person (COCO order)
other tasks     ``target``: the (H, W, 3) target picture, or ``target_path`` to an image file
==============  ==========================================================================================

A sample may also hold every kind of ground truth of one image at once (a synthetic scene does); a task then
draws its own example from it (``Task.draw_example``). ``ignore_mask`` marks crowd regions that metrics should
skip. ``target_path`` keeps the ground-truth file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DiceptionInputError
from ..tasks.points import Point


@dataclass
class Sample:
    """One evaluation or training sample: image (a file, or pixels in memory), task name, exact prompt, ground
    truth."""

    image_path: Path | None = None
    task: str = ""  # a registry name: depth, normal, pose, segmentation, semantic, entity, or a registered task
    prompt: str = ""  # the exact prompt text: the task's prompt, with the category when it takes one
    sample_id: str = ""  # stable id for result rows, e.g. "000123" or "sa_1#45"
    depth: np.ndarray | None = None  # (H, W) float32 metres
    normals: np.ndarray | None = None  # (H, W, 3) float32 unit vectors
    valid_mask: np.ndarray | None = None  # (H, W) bool, for depth and normals
    mask: np.ndarray | None = None  # (H, W) bool, point-prompted segmentation
    points: tuple[Point, ...] = ()  # point prompts, normalised (x, y)
    instances: np.ndarray | None = None  # (H, W) int32, 0 = background
    instance_categories: dict[int, str] = field(default_factory=dict)  # instance id -> category name
    category: str | None = None  # the semantic prompt's category
    keypoints: list[np.ndarray] | None = None  # per person (17, 3) float32 (x, y, v)
    person_ids: tuple[int, ...] = ()  # the instance id of each person in ``keypoints``, when known
    ignore_mask: np.ndarray | None = None  # (H, W) bool crowd regions to skip
    target_path: Path | None = None  # the ground-truth file, when there is one
    region: int | None = None  # which region of the target file a request was made for (its index there)
    image: np.ndarray | None = field(default=None, repr=False)  # (H, W, 3) uint8 pixels, when not a file
    target: np.ndarray | None = field(default=None, repr=False)  # (H, W, 3) float32 target picture, given directly

    def image_size(self) -> tuple[int, int]:
        """``(height, width)`` of the image (from the file's header, without decoding it)."""
        if self.image is not None:
            return int(self.image.shape[0]), int(self.image.shape[1])
        if self.image_path is None:
            raise DiceptionInputError(f"sample '{self.sample_id}' has no image")
        from .image_files import image_file_size

        return image_file_size(self.image_path)

    def load_image(self) -> np.ndarray:
        """The image as ``(H, W, 3)`` uint8."""
        if self.image is not None:
            return np.asarray(self.image)
        from .image_files import load_image

        if self.image_path is None:
            raise DiceptionInputError(f"sample '{self.sample_id}' has no image")
        return np.asarray(load_image(self.image_path))
