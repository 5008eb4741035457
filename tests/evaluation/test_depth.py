import math

import numpy as np
import pytest

from diception.errors import DiceptionInputError
from diception.evaluation.depth import (
    DEPTH_METRICS,
    DEPTH_PRESETS,
    align_prediction,
    depth_metrics,
    fit_scale_shift,
    kitti_eigen_crop,
    nyu_eigen_crop,
)


def test_fit_scale_shift_recovers_affine_map():
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])
    s, t = fit_scale_shift(pred, 2.0 * pred + 1.0, np.ones_like(pred, dtype=bool))
    assert s == pytest.approx(2.0) and t == pytest.approx(1.0)


def test_depth_metrics_hand_computed_no_alignment():
    # One pixel of four is off by a factor 2 (pred 4 m, gt 2 m); the rest are exact.
    pred = np.array([[1.0, 2.0], [4.0, 4.0]])
    gt = np.array([[1.0, 2.0], [2.0, 4.0]])
    m = depth_metrics(pred, gt, align="none", pred_is_disparity=False)
    assert m["abs_rel"] == pytest.approx(0.25)  # (2 / 2) / 4
    assert m["sq_rel"] == pytest.approx(0.5)  # (4 / 2) / 4
    assert m["rmse"] == pytest.approx(1.0)  # sqrt(4 / 4)
    assert m["rmse_log"] == pytest.approx(math.log(2) / 2)  # sqrt(ln(2)^2 / 4)
    assert m["log10"] == pytest.approx(math.log10(2) / 4)
    # ratio 2 fails 1.25, 1.5625 and 1.953125
    assert (m["delta1"], m["delta2"], m["delta3"]) == (0.75, 0.75, 0.75)
    assert set(m) == set(DEPTH_METRICS)


def test_depth_metrics_delta3_passes_ratio_1_9():
    pred, gt = np.array([[1.9, 1.0]]), np.array([[1.0, 1.0]])
    m = depth_metrics(pred, gt, align="none", pred_is_disparity=False)
    assert (m["delta1"], m["delta2"], m["delta3"]) == (0.5, 0.5, 1.0)


def test_disparity_alignment_of_affine_disparity_is_exact():
    gt = np.array([[1.0, 2.0, 4.0], [5.0, 8.0, 10.0]])
    pred = 0.3 / gt + 0.1  # relative disparity: unknown scale and shift
    m = depth_metrics(pred, gt, align="disparity", pred_is_disparity=True)
    assert m["abs_rel"] == pytest.approx(0.0, abs=1e-9)
    assert m["delta1"] == 1.0


def test_depth_alignment_of_affine_depth_is_exact():
    gt = np.array([[1.0, 2.0, 4.0], [5.0, 8.0, 10.0]])
    m = depth_metrics(3.0 * gt - 0.5, gt, align="depth", pred_is_disparity=False)
    assert m["rmse"] == pytest.approx(0.0, abs=1e-9)


def test_disparity_alignment_of_depth_prediction_inverts_first():
    gt = np.array([[1.0, 2.0, 4.0], [5.0, 8.0, 10.0]])
    pred_depth = 1.0 / (0.5 / gt + 0.2)
    aligned = align_prediction(pred_depth, gt, np.ones_like(gt, dtype=bool), "disparity", pred_is_disparity=False)
    np.testing.assert_allclose(aligned, gt, rtol=1e-9)


def test_valid_mask_excludes_pixels():
    pred = np.array([[1.0, 2.0], [100.0, 4.0]])
    gt = np.array([[1.0, 2.0], [2.0, 4.0]])
    valid = np.array([[True, True], [False, True]])
    m = depth_metrics(pred, gt, valid=valid, align="none", pred_is_disparity=False)
    assert m["abs_rel"] == 0.0 and m["delta1"] == 1.0


def test_preset_depth_range_and_prediction_clipping():
    gt = np.full((375, 1242), 10.0)
    gt[200, 600] = 100.0  # beyond KITTI's 80 m: not valid
    pred = np.full_like(gt, 10.0)
    pred[201, 600] = 500.0  # clipped to 80 m
    m = depth_metrics(pred, gt, align="none", pred_is_disparity=False, dataset="kitti")
    n_valid = kitti_eigen_crop(375, 1242).sum() - 1
    assert m["abs_rel"] == pytest.approx((70.0 / 10.0) / n_valid)


def test_kitti_eigen_crop_bounds():
    crop = kitti_eigen_crop(375, 1242)
    rows, cols = np.nonzero(crop)
    assert (rows.min(), rows.max() + 1) == (int(0.3324324 * 375), int(0.91351351 * 375))
    assert (cols.min(), cols.max() + 1) == (int(0.0359477 * 1242), int(0.96405229 * 1242))
    assert crop.sum() == (rows.max() + 1 - rows.min()) * (cols.max() + 1 - cols.min())


def test_nyu_eigen_crop_at_480x640():
    crop = nyu_eigen_crop(480, 640)
    expected = np.zeros((480, 640), dtype=bool)
    expected[45:471, 41:601] = True
    np.testing.assert_array_equal(crop, expected)
    assert DEPTH_PRESETS["nyuv2"].max_depth == 10.0 and DEPTH_PRESETS["nyuv2"].min_depth == 1e-3


def test_errors_are_clear():
    gt = np.ones((2, 2))
    with pytest.raises(DiceptionInputError, match="same size"):
        depth_metrics(np.ones((3, 2)), gt)
    with pytest.raises(DiceptionInputError, match="unknown depth dataset preset 'nyu'"):
        depth_metrics(gt, gt, dataset="nyu")
    with pytest.raises(DiceptionInputError, match="align='log'"):
        depth_metrics(gt, gt, align="log")
    with pytest.raises(DiceptionInputError, match="no valid ground-truth pixels"):
        depth_metrics(gt, np.zeros((2, 2)))
    with pytest.raises(DiceptionInputError, match="non-constant prediction"):
        depth_metrics(gt, np.array([[1.0, 2.0], [3.0, 4.0]]), align="depth", pred_is_disparity=False)
