"""Point-prompted segmentation: a boolean mask <-> a white mask on black, and where its points come from.

The points of a request come from one of four protocols, each in one function here:

* training (:meth:`SegmentationTask.training_points`): a random subset of the sample's points, or 1-5 random
  pixels of the target mask;
* the synthetic world (:func:`interior_points`): 1-5 pixels away from the object's edge where it can;
* evaluation (:meth:`SegmentationTask.eval_points`): the sample's own points, else SAM's protocol (the pixel
  farthest from the boundary, or ``num_points`` random pixels);
* the published batch collator (:func:`published_collator_points`): one region of the target file, chosen at
  random, and 5 distinct random pixels of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from ..atomic_files import write_atomically
from ..data.rle import encode_mask
from ..errors import DiceptionInputError
from . import prediction_files as files
from .points import MAX_POINTS, Point, Points, to_pixels
from .task import GroundTruthOptions, Scorer, Task, TaskExample

if TYPE_CHECKING:
    from ..data.sample import Sample

MASK_THRESHOLD = 0.5  # mean brightness above which a pixel belongs to the mask
MIN_SEGMENT_AREA = 9  # drawing an object from an instance map prefers objects with at least this many pixels
COLLATOR_POINTS = 5  # the published batch collator always samples this many points (fewer on tiny masks)


@dataclass
class MaskPrediction:
    """One object's mask.

    Attributes:
        mask: ``(H, W)`` bool.
        score: confidence in [0, 1]: how far, on average, the mask's pixels sit above the threshold (see
            :func:`decode`); 0 for an empty mask.
        rle: the mask as COCO RLE (``{"size": [H, W], "counts": str}``).
    """

    mask: np.ndarray = field(repr=False)
    score: float
    rle: dict = field(repr=False)

    @property
    def area(self) -> int:
        """Number of mask pixels."""
        return int(np.count_nonzero(self.mask))

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(prediction)`` is the mask, so code written for a plain bool mask keeps working."""
        mask = self.mask if dtype is None else self.mask.astype(dtype)
        return mask.copy() if copy else mask


def encode(mask: np.ndarray) -> np.ndarray:
    """Target picture ``(H, W, 3)`` float32: white where ``mask`` is true, black elsewhere."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise DiceptionInputError(f"mask must be an (H, W) array, got shape {mask.shape}")
    return np.repeat(mask.astype(bool)[..., None], 3, axis=-1).astype(np.float32)


def decode(rgb: np.ndarray, threshold: float = MASK_THRESHOLD) -> MaskPrediction:
    """The mask of pixels whose mean brightness exceeds ``threshold`` (in (0, 1), default 0.5).

    The score is the mean over mask pixels of ``(brightness - threshold) / (1 - threshold)``: 1 for a clean
    white mask, near 0 when the mask is barely above the threshold.
    """
    if not 0.0 < threshold < 1.0:
        raise DiceptionInputError(f"threshold must lie in (0, 1), got {threshold}")
    brightness = np.asarray(rgb, dtype=np.float32).mean(axis=-1)
    mask = brightness > threshold
    margin = np.clip((brightness[mask] - threshold) / (1.0 - threshold), 0.0, 1.0)
    score = float(margin.mean()) if margin.size else 0.0
    return MaskPrediction(mask=mask, score=score, rle=encode_mask(mask))


def interior_points(mask: np.ndarray, count: int, rng: np.random.Generator) -> Points:
    """``count`` distinct points on ``mask`` pixels, away from its edge where it can (pixel ``c`` is
    ``(c + 0.5) / W``)."""
    from scipy import ndimage

    inner = ndimage.binary_erosion(mask)
    rows, cols = np.nonzero(inner if inner.sum() >= count else mask)
    if rows.size == 0:
        raise DiceptionInputError("cannot put points on an empty mask")
    pick = rng.choice(rows.size, size=min(count, rows.size), replace=False)
    h, w = mask.shape
    return tuple(Point(float((cols[i] + 0.5) / w), float((rows[i] + 0.5) / h)) for i in pick)


def published_collator_points(mask: np.ndarray, rng: np.random.Generator, count: int = COLLATOR_POINTS) -> Points:
    """Points as the published batch collator picks them: ``min(count, area)`` distinct mask pixels, uniformly
    at random, each normalised as ``(column / W, row / H)``.

    The collator draws them from the mask resized to the processing resolution; here they are drawn from the
    mask at its own size, which gives the same distribution up to the resize.
    """
    rows, cols = np.nonzero(np.asarray(mask, dtype=bool))
    if rows.size == 0:
        raise DiceptionInputError("the target region is empty; no point can be placed on it")
    pick = rng.choice(rows.size, size=min(count, rows.size), replace=False)
    h, w = mask.shape
    return tuple(Point(float(cols[i] / w), float(rows[i] / h)) for i in pick)


def write_mask_png(prediction: files.Prediction, stream: BinaryIO) -> None:
    """The mask (a bool array, or anything ``np.asarray`` turns into one) as an 8-bit PNG of 0 and 255."""
    files.png_bytes(np.where(np.asarray(prediction.value, dtype=bool), 255, 0).astype(np.uint8), stream)


def read_mask_prediction(base: Path) -> MaskPrediction:
    """The mask a ``<base>_masks.json`` prediction file holds (its first entry)."""
    from ..data.rle import decode_rle

    entries = files.read_json(files.existing_file(base, "_masks.json"))
    if not entries:
        raise DiceptionInputError(f"prediction file '{files.with_suffix(base, '_masks.json')}' holds no mask")
    entry = entries[0]
    return MaskPrediction(mask=decode_rle(entry["segmentation"]), score=float(entry["score"]),
                          rle=entry["segmentation"])  # fmt: skip


class SegmentationTask(Task):
    """Point-prompted segmentation: 1-5 points on one object; the prediction a :class:`MaskPrediction`.

    Files: ``_mask.png`` (0/255) and ``_masks.json`` (one COCO results entry). Ground truth: ``Sample.mask``,
    read from an SA-1B ``.json`` (one sample per mask, with its ``point_coords``) or a mask image. Scored by
    mask IoU (mIoU over objects).
    """

    name = "segmentation"
    prompt = "[[image2segmentation]]"
    description = "point-prompted segmentation (1-5 points on one object)"
    output = "white mask on black"
    prediction_kind = "mask"
    accepts_points = True
    files = (("mask", "_mask.png", write_mask_png), ("json", "_masks.json", files.write_masks_json))

    # ----------------------------------------------------------------------------- ground truth -> picture
    def has_ground_truth(self, sample: Sample) -> bool:
        return sample.mask is not None or super().has_ground_truth(sample)

    def target_picture(self, sample: Sample, rng: np.random.Generator | None = None) -> np.ndarray:
        if sample.mask is None:
            return super().target_picture(sample, rng)
        return encode(sample.mask)

    def draw_example(self, sample: Sample, rng: np.random.Generator) -> TaskExample:
        """The sample's mask, or one object of its instance map (preferring objects of at least
        :data:`MIN_SEGMENT_AREA` pixels); its points, or 1-5 :func:`interior_points`."""
        mask = sample.mask if sample.mask is not None else self._draw_object(sample, rng)
        points = tuple(sample.points) or interior_points(mask, int(rng.integers(1, MAX_POINTS + 1)), rng)
        return TaskExample(encode(mask), self.full_prompt(), points)

    def _draw_object(self, sample: Sample, rng: np.random.Generator) -> np.ndarray:
        instances = sample.instances if sample.instances is not None else np.zeros((1, 1), np.int32)
        ids, areas = np.unique(instances[instances > 0], return_counts=True)
        if not len(ids):
            raise DiceptionInputError(f"task '{self.name}' needs an object in the scene; this scene shows none")
        big = areas >= MIN_SEGMENT_AREA
        choices = ids[big] if big.any() else ids
        return instances == choices[int(rng.integers(len(choices)))]

    def training_points(self, given: Points, target: np.ndarray, rng: np.random.Generator, min_points: int,
                        max_points: int) -> Points:  # fmt: skip
        """A random subset (``min_points``-``max_points``) of ``given``; without any, that many random pixels
        of the target picture's mask (none for an empty mask)."""
        from ..evaluation.segmentation import random_points_in_mask

        if not given:
            mask = decode(target).mask
            if not mask.any():
                return ()
            h, w = mask.shape
            n = int(rng.integers(min_points, max_points + 1))
            return tuple(Point((x + 0.5) / w, (y + 0.5) / h) for x, y in random_points_in_mask(mask, n, rng))
        high = min(max_points, len(given))
        n = int(rng.integers(min(min_points, high), high + 1))
        return tuple(Point(*given[i]) for i in rng.permutation(len(given))[:n])

    # ------------------------------------------------------------------------------------ ground-truth files
    def read_ground_truth(self, sample: Sample, path: Path, options: GroundTruthOptions) -> list[Sample]:
        """An SA-1B ``.json`` gives one sample per mask (with its ``point_coords``); an image, one mask
        (pixels brighter than 127)."""
        from PIL import Image

        from ..data.sa1b import iter_sa1b

        if path.suffix.lower() == ".json":
            return [replace(sample, sample_id=s.sample_id, mask=s.mask, points=s.points, target_path=path)
                    for s in iter_sa1b(path, sample.image_path)]  # fmt: skip
        with Image.open(path) as image:
            return [replace(sample, mask=np.asarray(image.convert("L")) > 127, target_path=path)]

    def ground_truth_from_mask(self, sample: Sample, mask: np.ndarray) -> list[Sample]:
        return [replace(sample, mask=mask)]

    def write_ground_truth(self, sample: Sample, folder: Path, stem: str, rng: np.random.Generator
                           ) -> list[tuple[str, str]]:  # fmt: skip
        """SA-1B style ``<stem>_masks.json``: one annotation per instance, each with 1-5 ``point_coords``."""
        from .instances import instance_annotations

        h, w = sample.instances.shape
        masks = []
        for ann in instance_annotations(sample.instances, sample.instance_categories):
            points = interior_points(sample.instances == ann["id"], int(rng.integers(1, MAX_POINTS + 1)), rng)
            masks.append({**ann, "point_coords": [[round(x, 3), round(y, 3)] for x, y in to_pixels(points, (h, w))]})
        info = {"image_id": stem, "file_name": f"{stem}.png", "height": h, "width": w}
        name = f"{stem}_masks.json"
        document = json.dumps({"image": info, "annotations": masks})
        write_atomically(folder / name, lambda stream: stream.write(document.encode("utf-8")))
        return [(self.full_prompt(), name)]

    def complete_request(self, sample: Sample, rng: np.random.Generator, every_region: bool = False
                         ) -> list[Sample]:  # fmt: skip
        """A record's own points, else points on its target's regions as the published batch collator places
        them: one region chosen at random (every region with ``every_region``), 5 random pixels on it."""
        if sample.points:
            return [sample]
        if sample.mask is not None:
            regions = [sample]
        elif sample.target_path is not None:
            regions = self.read_ground_truth(sample, Path(sample.target_path), GroundTruthOptions())
        else:
            regions = []
        regions = [replace(r, region=k) for k, r in enumerate(regions) if r.mask is not None and r.mask.any()]
        if not regions:
            raise DiceptionInputError(
                "a segmentation record needs 'points' ([[y, x], ...] in [0, 1]) or a 'target' with a non-empty mask "
                "(an SA-1B .json, a mask image or an inline RLE); this one has neither"
            )
        if not every_region:
            regions = [regions[int(rng.integers(len(regions)))]]
        return [replace(r, points=published_collator_points(r.mask, rng)) for r in regions]

    # -------------------------------------------------------------------------------- prediction, scoring
    def decode(self, picture: np.ndarray) -> MaskPrediction:
        return decode(picture)

    def read_prediction(self, base: Path) -> MaskPrediction:
        return read_mask_prediction(base)

    def scorer(self) -> Scorer:
        from ..evaluation.scorers import MaskScorer

        return MaskScorer()

    def baseline(self, sample: Sample) -> MaskPrediction:
        """The whole picture."""
        mask = np.ones(sample.image_size(), dtype=bool)
        return MaskPrediction(mask=mask, score=1.0, rle=encode_mask(mask))

    def picture_metrics(self, predicted: np.ndarray, target: np.ndarray) -> dict[str, float]:
        """Mask IoU of the decoded pictures."""
        from ..evaluation.segmentation import mask_iou

        return {"mask_iou": mask_iou(decode(predicted).mask, decode(target).mask)}

    def eval_points(self, sample: Sample, num_points: int, rng: np.random.Generator) -> Points:
        """The sample's points; else SAM's protocol on its mask: the pixel farthest from the boundary
        (``num_points <= 1``) or ``num_points`` random mask pixels."""
        from ..evaluation.segmentation import farthest_point_from_boundary, random_points_in_mask

        if sample.points:
            return tuple(sample.points)
        if sample.mask is None or not sample.mask.any():
            raise DiceptionInputError(f"sample '{sample.sample_id}' has neither points nor a non-empty mask")
        h, w = sample.mask.shape
        pixels = ([farthest_point_from_boundary(sample.mask)] if num_points <= 1
                  else random_points_in_mask(sample.mask, num_points, rng))  # fmt: skip
        return tuple(Point(x / w, y / h) for x, y in pixels)
