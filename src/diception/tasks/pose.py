"""Pose codec: COCO-17 keypoints <-> skeletons drawn on black, limbs in colours, keypoints as red discs.

Drawing: every limb of the 19 COCO limbs whose two keypoints are labelled (``v > 0``) is a line of its own
colour, ``limb_width`` pixels wide; then every labelled keypoint is a pure red (255, 0, 0) disc of radius
``disc_radius``, drawn last so that no limb hides it. Both sizes scale with the picture's shorter side
(:func:`limb_width`, :func:`disc_radius`).

Limb colours (:data:`LIMB_COLOURS`) are the 3-level RGB grid {0, 128, 255}^3 without black, red, mid-grey and
the five grid colours next to black or red: exactly 19 colours, any two at least 0.5 apart (RGB in [0, 1]),
each at least 0.7 from red and from black. The blend of red with black, yellow, magenta or cyan is one of the
left-out colours, so a keypoint's blurred rim is not read as a limb. As each limb has its own colour and two
limbs share at most one keypoint, the limbs meeting a disc name its keypoint; a keypoint with one limb (a
wrist, an ankle, or a partly labelled person) is named by the keypoint at the limb's other end.

Decoding (:mod:`.pose_decoding`, in named phases): name each pixel by its nearest known colour; find the red
discs, splitting blobs of touching or overlapping discs by fitting discs of the drawn radius; join two discs by
limb L when both see colour L and L covers the segment between them; spread keypoint ids along the joined limbs,
merge persons that share a blob, and name the discs whose limbs lie hidden under red from their blob-mates.

Limits: a keypoint with no labelled neighbour and no touching disc has no limb and cannot be named, so it is
dropped; a disc within a third of a radius of another, or covered by its neighbours but for a sliver, is not
told apart; a person whose only
limb joins two keypoints is oriented by a guess (left of a left/right pair at the larger x, an eye above the
nose, otherwise the lower COCO index higher up), and its keypoint scores are halved; a person whose labelled
keypoints form groups with no limb or touching disc between them comes back as one person per group; a disc
cut by the picture's border pulls its keypoint inwards.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from ..atomic_files import write_atomically
from ..errors import DiceptionInputError
from . import prediction_files as files
from .task import GroundTruthOptions, Scorer, Task

if TYPE_CHECKING:
    from ..data.sample import Sample

KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee",
    "left_ankle", "right_ankle",
)  # fmt: skip
NUM_KEYPOINTS = len(KEYPOINT_NAMES)

# The 19 COCO limbs (COCO's ``skeleton``, 0-based), and the colour of each (uint8 RGB).
SKELETON: tuple[tuple[int, int], ...] = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8), (7, 9),
    (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)  # fmt: skip
LIMB_COLOURS = np.array([
    (0, 0, 255), (0, 128, 128), (0, 128, 255), (0, 255, 0), (0, 255, 128), (0, 255, 255), (128, 0, 128),
    (128, 0, 255), (128, 128, 0), (128, 128, 255), (128, 255, 0), (128, 255, 128), (128, 255, 255),
    (255, 0, 255), (255, 128, 128), (255, 128, 255), (255, 255, 0), (255, 255, 128), (255, 255, 255),
], dtype=np.uint8)  # fmt: skip
KEYPOINT_COLOUR = (255, 0, 0)
LEFT_RIGHT_LIMBS = {(1, 2), (5, 6), (11, 12)}  # limbs joining a left keypoint to its right twin

LIMB_WIDTH_FRACTION = 1 / 64  # limb width as a share of the shorter image side (4 px at 256, 8 px at 512)
DISC_RADIUS_FRACTION = 1 / 48  # keypoint disc radius as a share of the shorter side (5 px at 256, 11 at 512)


def limb_width(image_size: tuple[int, int]) -> int:
    """Limb width in pixels for an image of ``(height, width)``: ``max(3, round(min side / 64))``."""
    return max(3, round(LIMB_WIDTH_FRACTION * min(image_size)))


def disc_radius(image_size: tuple[int, int]) -> int:
    """Keypoint disc radius in pixels for ``(height, width)``: ``max(4, round(min side / 48))``."""
    return max(4, round(DISC_RADIUS_FRACTION * min(image_size)))


@dataclass(frozen=True)
class PoseDecodeParams:
    """Thresholds of :func:`decode`; colours and distances in RGB units of [0, 1]."""

    calibrate: bool = True  # fit and undo a per-channel gain/offset against the known colours first
    calibration_tolerance: float = 0.3  # pixels this close to a known colour anchor the calibration
    red_tolerance: float = 0.3  # keypoint pixels: nearest known colour is red, at most this far
    limb_tolerance: float = 0.3  # limb pixels: nearest known colour is this limb's, at most this far
    min_disc_fraction: float = 0.25  # discs smaller than this share of a drawn disc are noise
    min_ring_pixels: int = 2  # a disc "sees" a limb colour with at least this many ring pixels of it
    min_follow: float = 0.5  # ... that goes on straight out from its centre beyond the ring for this share
    min_coverage: float = 0.6  # share of the segment between two discs the limb colour must cover
    min_alignment: float = 0.5  # cosine between a limb's way out of a disc and the direction to the other disc
    split_area_factor: float = 1.3  # a blob larger than this many discs' area may hold several discs
    edge_tolerance: float = 1.5  # a disc centre lies at least the radius less this many pixels from its blob's edge
    unexplained_fraction: float = 0.15  # discs are added while this share of a disc's area is unexplained
    min_separation: float = 0.3  # ... each at least this many radii from the others
    min_template_group: int = 4  # a group of this many touching discs that limbs leave mostly unnamed is named by
    # the upright template as a whole
    inferred_score_factor: float = 0.75  # score factor of an id taken from blob-mates (its limb is hidden)
    guessed_score_factor: float = 0.5  # score factor of an id guessed from the upright template or orientation


@dataclass
class PersonPose:
    """One decoded person.

    Attributes:
        keypoints: ``(17, 4)`` float32 rows ``(x, y, visibility, score)`` in COCO-17 order; x is the column
            and y the row in pixels; visibility 2 where found, 0 (and zeros) where not.
        score: confidence in [0, 1]: mean keypoint score times mean limb coverage.
    """

    keypoints: np.ndarray = field(repr=False)
    score: float

    @property
    def num_keypoints(self) -> int:
        """How many keypoints were found."""
        return int(np.count_nonzero(self.keypoints[:, 2] > 0))


def keypoints_array(value: object, where: str) -> np.ndarray:
    """``(17, 3)`` float32 ``(x, y, v)`` of one person's COCO ``keypoints`` (51 finite numbers); an error naming
    ``where`` otherwise."""
    try:
        kp = np.asarray(value, dtype=np.float32) if isinstance(value, (list, tuple, np.ndarray)) else None
    except (TypeError, ValueError, OverflowError):  # not numbers, a ragged nesting, or beyond float range
        kp = None
    if kp is None or not np.isfinite(kp).all():
        raise DiceptionInputError(f"{where}: 'keypoints' must be a list of finite numbers, got {value!r:.40}")
    if kp.size != NUM_KEYPOINTS * 3:
        raise DiceptionInputError(f"{where} has {kp.size} keypoint numbers; COCO has {NUM_KEYPOINTS * 3} (x, y, v "
                                  f"for {NUM_KEYPOINTS} keypoints)")  # fmt: skip
    return kp.reshape(NUM_KEYPOINTS, 3)


def _check_size(image_size: Sequence[int]) -> tuple[int, int]:
    if len(image_size) != 2 or min(image_size) < 1:
        raise DiceptionInputError(f"image_size must be (height, width) in pixels, got {tuple(image_size)}")
    return int(image_size[0]), int(image_size[1])


def _paint_capsule(canvas: np.ndarray, p: np.ndarray, q: np.ndarray, radius: float, colour: np.ndarray) -> None:
    """Paint the pixels within ``radius`` of segment ``p``-``q`` (``(x, y)``, pixel centres at integers)."""
    h, w, _ = canvas.shape
    x0, x1 = int(np.floor(min(p[0], q[0]) - radius)), int(np.ceil(max(p[0], q[0]) + radius))
    y0, y1 = int(np.floor(min(p[1], q[1]) - radius)), int(np.ceil(max(p[1], q[1]) + radius))
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
    if x0 > x1 or y0 > y1:
        return
    ys, xs = np.mgrid[y0 : y1 + 1, x0 : x1 + 1]
    v = q - p
    t = np.clip(((xs - p[0]) * v[0] + (ys - p[1]) * v[1]) / max(float(v @ v), 1e-12), 0.0, 1.0)
    inside = (xs - p[0] - t * v[0]) ** 2 + (ys - p[1] - t * v[1]) ** 2 <= radius**2
    canvas[y0 : y1 + 1, x0 : x1 + 1][inside] = colour


def encode(persons: Sequence[np.ndarray], image_size: tuple[int, int]) -> np.ndarray:
    """Target picture ``(H, W, 3)`` float32: the persons' skeletons on black.

    Args:
        persons: one ``(17, 3)`` array of ``(x, y, visibility)`` per person, COCO-17 order and visibility
            codes (0 not labelled, 1 labelled but hidden, 2 visible); only keypoints with ``v > 0`` are drawn.
        image_size: ``(height, width)`` of the picture.
    """
    h, w = _check_size(image_size)
    kps = [np.asarray(k, dtype=np.float64) for k in persons]
    for i, k in enumerate(kps):
        if k.shape != (NUM_KEYPOINTS, 3):
            raise DiceptionInputError(f"person {i} has keypoints of shape {k.shape}; expected (17, 3)")
    canvas = np.zeros((h, w, 3), dtype=np.float32)
    half_width = limb_width((h, w)) / 2
    for k in kps:
        for limb, (a, b) in enumerate(SKELETON):
            if k[a, 2] > 0 and k[b, 2] > 0:
                _paint_capsule(canvas, k[a, :2], k[b, :2], half_width, LIMB_COLOURS[limb] / 255.0)
    red = np.asarray(KEYPOINT_COLOUR, dtype=np.float32) / 255.0
    r = disc_radius((h, w))
    for k in kps:
        for x, y, v in k:
            if v > 0:
                _paint_capsule(canvas, np.array([x, y]), np.array([x, y]), r, red)
    return canvas


def decode(rgb: np.ndarray, params: PoseDecodeParams | None = None) -> list[PersonPose]:
    """Persons found in a skeleton picture ``(H, W, 3)``, best first (see :mod:`.pose_decoding`)."""
    from .pose_decoding import decode as decode_skeletons

    rgb = np.asarray(rgb, dtype=np.float32)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise DiceptionInputError(f"rgb must be an (H, W, 3) array, got shape {rgb.shape}")
    return decode_skeletons(rgb, params)


# An upright person facing the camera, COCO-17 order, in shares of its height: x toward its left (picture right)
# from its middle, y down from the top of its head. Average proportions; the decoder's fallback for naming
# keypoints that no limb names.
UPRIGHT_TEMPLATE = np.array([
    (0.0, 0.09), (0.033, 0.06), (-0.033, 0.06), (0.07, 0.075), (-0.07, 0.075), (0.115, 0.19), (-0.115, 0.19),
    (0.15, 0.34), (-0.15, 0.34), (0.16, 0.48), (-0.16, 0.48), (0.085, 0.52), (-0.085, 0.52), (0.08, 0.72),
    (-0.08, 0.72), (0.075, 0.93), (-0.075, 0.93),
])  # fmt: skip

# A standing person in picture fractions (x, y), COCO-17 order, facing the camera (its left on picture right).
STANDING_PERSON = np.array([
    (0.50, 0.20), (0.52, 0.18), (0.48, 0.18), (0.54, 0.20), (0.46, 0.20), (0.58, 0.30), (0.42, 0.30),
    (0.62, 0.42), (0.38, 0.42), (0.64, 0.54), (0.36, 0.54), (0.55, 0.55), (0.45, 0.55), (0.55, 0.72),
    (0.45, 0.72), (0.55, 0.90), (0.45, 0.90),
], dtype=np.float32)  # fmt: skip


def write_keypoints_json(prediction: files.Prediction, stream: BinaryIO) -> None:
    """Decoded persons as COCO keypoint results (``[x, y, score] * 17`` per person, category 1)."""
    from ..data.coco_results import keypoint_results

    files.json_bytes(keypoint_results(prediction.image_id, prediction.value), stream)


class PoseTask(Task):
    """Human pose: COCO-17 skeletons; the prediction a list of :class:`PersonPose`.

    Files: ``_output.png`` (the picture) and ``_keypoints.json`` (COCO keypoint results). Ground truth:
    ``Sample.keypoints`` (one ``(17, 3)`` array per person), read from a ``.json`` list of annotations with 51
    ``keypoints`` numbers; any other target file is kept as the target picture. Scored by COCO keypoint AP
    (OKS) and PCK@0.1.
    """

    name = "pose"
    prompt = "[[image2pose]]"
    description = "human pose (skeleton drawing, keypoints in pure red)"
    output = "COCO skeletons on black, keypoints as red discs"
    prediction_kind = "keypoints"
    files = (("picture", "_output.png", files.write_rgb_png), ("json", "_keypoints.json", write_keypoints_json))

    def has_ground_truth(self, sample: Sample) -> bool:
        return sample.keypoints is not None or super().has_ground_truth(sample)

    def target_picture(self, sample: Sample, rng: np.random.Generator | None = None) -> np.ndarray:
        if sample.keypoints is None:
            return super().target_picture(sample, rng)
        return encode(sample.keypoints, sample.image_size())

    def read_ground_truth(self, sample: Sample, path: Path, options: GroundTruthOptions) -> list[Sample]:
        if path.suffix.lower() != ".json":
            return [replace(sample, target_path=path)]
        from ..data.annotation_files import read_annotation_list

        people = []
        for k, ann in enumerate(read_annotation_list(path)):
            people.append(keypoints_array(ann.get("keypoints"), f"target {path}: person {k}"))
        return [replace(sample, keypoints=people, target_path=path)]

    def write_ground_truth(self, sample: Sample, folder: Path, stem: str, rng: np.random.Generator
                           ) -> list[tuple[str, str]]:  # fmt: skip
        """``<stem>_pose.json``: one annotation per person (``id`` is its position)."""
        ids = list(sample.person_ids or range(1, len(sample.keypoints or []) + 1))
        people = [
            {"id": pid, "category": "person", "keypoints": [round(float(v), 3) for v in kp.ravel()],
             "num_keypoints": int((kp[:, 2] > 0).sum())}
            for pid, kp in zip(ids, sample.keypoints or [])
        ]  # fmt: skip
        name = f"{stem}_pose.json"
        document = json.dumps(people)
        write_atomically(folder / name, lambda stream: stream.write(document.encode("utf-8")))
        return [(self.full_prompt(), name)]

    def decode(self, picture: np.ndarray) -> list[PersonPose]:
        return decode(picture)

    def read_prediction(self, base: Path) -> list[PersonPose]:
        persons = []
        for entry in files.read_json(files.existing_file(base, "_keypoints.json")):
            xys = np.asarray(entry["keypoints"], dtype=np.float32).reshape(NUM_KEYPOINTS, 3)
            visibility = np.where(xys[:, 2] > 0, 2.0, 0.0).astype(np.float32)
            keypoints = np.stack([xys[:, 0], xys[:, 1], visibility, xys[:, 2]], axis=1)
            persons.append(PersonPose(keypoints=keypoints, score=float(entry["score"])))
        return persons

    def scorer(self) -> Scorer:
        from ..evaluation.scorers import KeypointScorer

        return KeypointScorer()

    def baseline(self, sample: Sample) -> list[PersonPose]:
        """One standing person of average proportions filling the middle of the picture."""
        height, width = sample.image_size()
        keypoints = np.zeros((NUM_KEYPOINTS, 4), np.float32)
        keypoints[:, 0] = STANDING_PERSON[:, 0] * width
        keypoints[:, 1] = STANDING_PERSON[:, 1] * height
        keypoints[:, 2:] = (2.0, 1.0)
        return [PersonPose(keypoints=keypoints, score=1.0)]
