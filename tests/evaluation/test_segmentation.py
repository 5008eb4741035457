import numpy as np
import pytest
from pycocotools import mask as mask_utils

from diception.errors import DiceptionInputError
from diception.evaluation.segmentation import (
    farthest_point_from_boundary,
    mask_iou,
    mean_iou,
    per_object_iou,
    random_points_in_mask,
)


def _rle(m):
    return mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))


def test_mask_iou_hand_computed():
    pred = np.array([[1, 1, 0], [1, 1, 0]], dtype=bool)
    gt = np.array([[0, 1, 1], [0, 1, 1]], dtype=bool)
    assert mask_iou(pred, gt) == pytest.approx(2 / 6)
    assert mask_iou(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0


def test_mask_iou_matches_pycocotools():
    rng = np.random.default_rng(0)
    for _ in range(5):
        a, b = rng.random((2, 17, 23)) > 0.5
        ref = mask_utils.iou([_rle(a)], [_rle(b)], [0])[0, 0]
        assert mask_iou(a, b) == pytest.approx(ref)


def test_per_object_and_mean_iou():
    gt = np.zeros((4, 4), dtype=bool)
    gt[:2, :2] = True
    half = gt.copy()
    half[1] = False
    pairs = [(gt, gt), (half, gt)]
    np.testing.assert_allclose(per_object_iou(*zip(*pairs)), [1.0, 0.5])
    assert mean_iou(pairs) == pytest.approx(0.75)
    with pytest.raises(DiceptionInputError, match="no \\(pred, gt\\) pairs"):
        mean_iou([])
    with pytest.raises(DiceptionInputError, match="differ in size"):
        mask_iou(gt, gt[:2])


def test_farthest_point_from_boundary_centre_and_tie_break():
    m = np.zeros((7, 9), dtype=bool)
    m[1:6, 2:7] = True  # 5x5 square: centre at row 3, col 4
    assert farthest_point_from_boundary(m) == (4, 3)
    # A full 4x4 image: the border counts as boundary, so the inner 2x2 ties; row-major order wins.
    assert farthest_point_from_boundary(np.ones((4, 4), dtype=bool)) == (1, 1)
    with pytest.raises(DiceptionInputError, match="non-empty mask"):
        farthest_point_from_boundary(np.zeros((3, 3)))


def test_farthest_point_prefers_the_thick_part():
    m = np.zeros((10, 20), dtype=bool)
    m[4, 0:12] = True  # thin bar
    m[1:8, 12:19] = True  # 7x7 block: centre (row 4, col 15)
    assert farthest_point_from_boundary(m) == (15, 4)


def test_random_points_in_mask():
    m = np.zeros((6, 6), dtype=bool)
    m[2:4, 1:5] = True
    pts = random_points_in_mask(m, 5, rng=3)
    assert len(pts) == 5 and len(set(pts)) == 5
    assert all(m[y, x] for x, y in pts)
    assert pts == random_points_in_mask(m, 5, rng=np.random.default_rng(3))
    assert len(random_points_in_mask(m, 20, rng=0)) == 8  # capped at the mask's pixel count
    with pytest.raises(DiceptionInputError, match="non-empty mask"):
        random_points_in_mask(np.zeros((2, 2)), 1)
