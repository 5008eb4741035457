"""Pose codec: COCO-17 stick figures -> coloured skeleton picture -> the same keypoints, ids and persons."""

from __future__ import annotations

import numpy as np
import pytest

from diception.errors import DiceptionInputError
from diception.tasks import pose

# A standing person facing the camera, in head units (x to the person's left = image right, y down).
_BODY = np.array([
    (0, 0), (0.8, -0.6), (-0.8, -0.6), (1.6, -0.2), (-1.6, -0.2), (1.6, 1.6), (-1.6, 1.6), (2.1, 3.4),
    (-2.1, 3.4), (2.4, 5.1), (-2.4, 5.1), (1.0, 5.0), (-1.0, 5.0), (1.1, 7.2), (-1.1, 7.2), (1.2, 9.4),
    (-1.2, 9.4),
])  # fmt: skip


def _scene(seed: int, n: int, size: int = 256, unit: float = 15.0, margin: float = 10.0) -> list[np.ndarray]:
    """``n`` random stick figures side by side; keypoints at least 13 px apart and off the border."""
    rng = np.random.default_rng(seed)
    persons: list[np.ndarray] = []
    for cx in np.linspace(size / (2 * n), size - size / (2 * n), n):
        while True:
            kp = _BODY * unit + rng.normal(0, 0.1 * unit, _BODY.shape)
            kp[:, 0] += cx + rng.uniform(-4, 4)
            kp[:, 1] += rng.uniform(margin - kp[:, 1].min(), size - margin - kp[:, 1].max())
            gaps = [np.linalg.norm(kp[:, None] - q[None, :, :2], axis=-1) for q in [*persons, kp[:, :2]]]
            gaps[-1] += 1e9 * np.eye(17)
            if min(g.min() for g in gaps) >= 13 and kp.min() >= margin and kp.max() <= size - margin:
                break
        persons.append(np.concatenate([kp, np.full((17, 1), 2.0)], axis=1))
    return persons


def _match(gt: np.ndarray, found: list[pose.PersonPose]) -> pose.PersonPose:
    """The decoded person whose keypoints lie closest to ``gt``'s labelled ones."""
    labelled = gt[:, 2] > 0
    return min(found, key=lambda p: np.abs(p.keypoints[labelled, :2] - gt[labelled, :2]).sum())


def _assert_same_persons(gts: list[np.ndarray], found: list[pose.PersonPose], tolerance: float) -> None:
    assert len(found) == len(gts)
    matched = [_match(gt, found) for gt in gts]
    assert len({id(p) for p in matched}) == len(gts)  # one decoded person per person
    for gt, person in zip(gts, matched):
        labelled = gt[:, 2] > 0
        assert np.array_equal(person.keypoints[:, 2] > 0, labelled)  # right ids: no keypoint missing or extra
        err = np.linalg.norm(person.keypoints[labelled, :2] - gt[labelled, :2], axis=1)
        assert err.max() <= tolerance


def test_limb_colours_are_unique_and_far_from_red_black_and_each_other():
    colours = pose.LIMB_COLOURS.astype(np.float64) / 255
    assert colours.shape == (len(pose.SKELETON), 3) == (19, 3)
    d = np.linalg.norm(colours[:, None] - colours[None], axis=-1) + 9 * np.eye(19)
    assert d.min() >= 0.49  # 127 / 255 between neighbouring grid levels
    assert np.linalg.norm(colours - [1, 0, 0], axis=1).min() >= 0.7
    assert np.linalg.norm(colours, axis=1).min() >= 0.7


def test_the_limbs_meeting_a_keypoint_name_it():
    limb_sets = [frozenset(i for i, limb in enumerate(pose.SKELETON) if k in limb) for k in range(17)]
    assert all(limb_sets) and len(set(limb_sets)) == 17


def test_encode_draws_red_discs_last_and_only_labelled_parts():
    person = _scene(0, 1)[0]
    person[9, 2] = 0  # left wrist not labelled: neither its disc nor its forearm is drawn
    person[10, 2] = 1  # right wrist labelled but hidden: drawn
    rgb = pose.encode([person], (256, 256))
    assert rgb.dtype == np.float32 and rgb.shape == (256, 256, 3)
    for k in range(17):
        x, y = np.rint(person[k, :2]).astype(int)
        assert np.array_equal(rgb[y, x], [1, 0, 0]) == (k != 9)
    forearm = pose.LIMB_COLOURS[pose.SKELETON.index((7, 9))] / 255
    assert not np.all(rgb == forearm, axis=-1).any()
    assert np.all(rgb[0, 0] == 0)


@pytest.mark.parametrize("n", [2, 3])
def test_round_trip_is_exact(n):
    gts = _scene(n, n)
    found = pose.decode(pose.encode(gts, (256, 256)))
    _assert_same_persons(gts, found, tolerance=1.0)
    assert all(p.score > 0.9 and p.num_keypoints == 17 for p in found)


@pytest.mark.parametrize("n", [2, 3])
def test_round_trip_survives_degradation(degrade, n):
    gts = _scene(10 + n, n)
    _assert_same_persons(gts, pose.decode(degrade(pose.encode(gts, (256, 256)))), tolerance=2.0)


def test_partly_labelled_persons_split_where_the_skeleton_does():
    gts = _scene(7, 2)
    gts[0][[5, 6], 2] = 0  # no shoulders: head, left arm, right arm and legs come apart
    gts[1][[3, 4, 13, 14], 2] = 0  # no ears, no knees: the ankles lose every limb
    found = pose.decode(pose.encode(gts, (256, 256)))
    head, arm_l, arm_r, legs = gts[0].copy(), gts[0].copy(), gts[0].copy(), gts[0].copy()
    head[5:, 2] = 0
    arm_l[[k for k in range(17) if k not in (7, 9)], 2] = 0
    arm_r[[k for k in range(17) if k not in (8, 10)], 2] = 0
    legs[:11, 2] = 0
    face, body = gts[1].copy(), gts[1].copy()  # the ankles, now isolated, cannot be named and are dropped
    face[3:, 2] = 0
    body[[0, 1, 2, 3, 4, 13, 14, 15, 16], 2] = 0
    _assert_same_persons([head, arm_l, arm_r, legs, face, body], found, tolerance=1.0)
    arms = [_match(g, found) for g in (arm_l, arm_r)]
    assert all(p.keypoints[p.keypoints[:, 2] > 0, 3].max() <= 0.5 for p in arms)  # orientation was guessed


def test_sizes_scale_with_the_picture():
    assert (pose.limb_width((256, 256)), pose.disc_radius((256, 256))) == (4, 5)
    assert (pose.limb_width((512, 768)), pose.disc_radius((512, 768))) == (8, 11)
    assert (pose.limb_width((64, 64)), pose.disc_radius((64, 64))) == (3, 4)


def test_empty_picture_and_bad_arguments():
    assert pose.decode(np.zeros((64, 64, 3), dtype=np.float32)) == []
    assert np.all(pose.encode([], (32, 48)) == 0) and pose.encode([], (32, 48)).shape == (32, 48, 3)
    with pytest.raises(DiceptionInputError, match=r"expected \(17, 3\)"):
        pose.encode([np.zeros((17, 2))], (64, 64))
    with pytest.raises(DiceptionInputError, match="image_size must be"):
        pose.encode([], (64,))
