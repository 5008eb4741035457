"""Pose decoding where discs touch or overlap: realistic faces, small people, people who touch.

The people here have COCO-like proportions (their own table, not the decoder's template) and stand in a 768 px
picture, where a keypoint disc has a 16 px radius: nose, eyes and ears overlap at every realistic size.
"""

from __future__ import annotations

import numpy as np
import pytest

from diception.tasks import pose, pose_decoding

from .conftest import DEGRADATIONS

SIZE = 768
# An upright person facing the camera, in shares of its height: x toward its left (picture right), y down.
COCO_LIKE = np.array([
    (0.0, 0.095), (0.03, 0.065), (-0.03, 0.065), (0.065, 0.08), (-0.065, 0.08), (0.11, 0.2), (-0.11, 0.2),
    (0.14, 0.35), (-0.14, 0.35), (0.15, 0.49), (-0.15, 0.49), (0.08, 0.52), (-0.08, 0.52), (0.075, 0.71),
    (-0.075, 0.71), (0.07, 0.92), (-0.07, 0.92),
])  # fmt: skip
BODY = list(range(5, 17))


def person(height: float, cx: float = SIZE / 2, seed: int | None = None) -> np.ndarray:
    """``(17, 3)`` keypoints of a person ``height`` px tall centred at ``cx``, jittered when ``seed`` is given."""
    shape = COCO_LIKE if seed is None else COCO_LIKE + np.random.default_rng(seed).normal(0, 0.012, COCO_LIKE.shape)
    kp = shape * height + (cx, (SIZE - height) / 2)
    return np.concatenate([kp, np.full((17, 1), 2.0)], axis=1)


def found_right(truth: np.ndarray, persons: list[pose.PersonPose], ids: list[int], tolerance: float = 3.0) -> int:
    """Most keypoints of ``ids`` one decoded person has at the right place with the right id."""
    best = 0
    for p in persons:
        ok = (p.keypoints[ids, 2] > 0) & (np.linalg.norm(p.keypoints[ids, :2] - truth[ids, :2], axis=1) <= tolerance)
        best = max(best, int(ok.sum()))
    return best


@pytest.mark.parametrize("height", [560, 420])
def test_face_keypoints_at_realistic_proportions_come_back(height):
    truth = person(height)
    assert np.linalg.norm(truth[0, :2] - truth[1, :2]) < 2 * pose.disc_radius((SIZE, SIZE))  # nose and eye overlap
    persons = pose.decode(pose.encode([truth], (SIZE, SIZE)))
    assert len(persons) == 1 and found_right(truth, persons, list(range(17))) == 17


@pytest.mark.parametrize("seed", [1, 2])
def test_a_degraded_picture_keeps_the_body_and_most_of_the_face(seed):
    truth = person(560, seed=seed)
    persons = pose.decode(DEGRADATIONS["all"](pose.encode([truth], (SIZE, SIZE))))
    assert found_right(truth, persons, BODY) == 12
    assert found_right(truth, persons, list(range(17))) >= 14


def test_a_small_person_whose_discs_all_touch_keeps_most_of_its_body():
    truth = person(140)
    persons = pose.decode(pose.encode([truth], (SIZE, SIZE)))
    assert found_right(truth, persons, BODY) >= 10  # every limb is hidden: named by the upright template


@pytest.mark.parametrize(
    "centres",
    [
        [(300.0, 300.0), (310.0, 303.0)],  # 0.65 radii apart
        [(300.0, 300.0), (316.0, 302.0), (307.0, 315.0)],  # a triangle of three, each a radius from the others
    ],
)
def test_overlapping_discs_are_split_back_into_their_centres(centres):
    keypoints = np.zeros((17, 3))
    ids = [0, 1, 3][: len(centres)]  # nose, left eye, left ear
    keypoints[ids, :2], keypoints[ids, 2] = centres, 2
    picture = pose.encode([keypoints], (SIZE, SIZE))
    params = pose.PoseDecodeParams()
    discs = pose_decoding.find_discs(pose_decoding.classify_pixels(picture, params), (SIZE, SIZE), params)
    assert len(discs) == len(centres) and len(set(discs.blobs.tolist())) == 1  # one red blob, split
    for c in centres:
        assert np.linalg.norm(discs.centres - c, axis=1).min() <= 1.5


def test_two_people_whose_hands_touch_stay_two():
    left = person(500, cx=250)
    right = person(500, cx=left[9, 0] + 12 + 0.15 * 500)  # its right wrist 12 px from the left one's left wrist
    assert np.linalg.norm(right[10, :2] - left[9, :2]) < pose.disc_radius((SIZE, SIZE))
    picture = pose.encode([left, right], (SIZE, SIZE))
    persons = pose.decode(picture)
    assert len(persons) == 2
    assert found_right(left, persons, list(range(17))) >= 16 and found_right(right, persons, list(range(17))) >= 16
