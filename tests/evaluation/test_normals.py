import math

import numpy as np
import pytest

from diception.errors import DiceptionInputError
from diception.evaluation.normals import angular_error, normal_metrics


def test_angular_error_hand_computed():
    gt = np.array([[[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]])
    pred = np.array([[[0.0, 0.0, 2.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]])  # 0, 45, 90 degrees
    np.testing.assert_allclose(angular_error(pred, gt), [[0.0, 45.0, 90.0]], atol=1e-6)


def test_normal_metrics_hand_computed_skips_zero_ground_truth():
    gt = np.array([[[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]])
    pred = np.array([[[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [1.0, 0.0, 0.0]]])
    m = normal_metrics(pred, gt)
    assert m["mean"] == pytest.approx(22.5)
    assert m["median"] == pytest.approx(22.5)
    assert m["rmse"] == pytest.approx(math.sqrt(45.0**2 / 2))
    for t in ("5", "7.5", "11.25", "22.5", "30"):
        assert m[f"within_{t}"] == 0.5


def test_normal_metrics_valid_mask_and_perfect_prediction():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(4, 5, 3))
    m = normal_metrics(gt * 3.0, gt, valid=np.ones((4, 5), dtype=bool))
    assert m["mean"] == pytest.approx(0.0, abs=1e-4) and m["within_5"] == 1.0


def test_normal_metrics_errors():
    with pytest.raises(DiceptionInputError, match=r"\(H, W, 3\)"):
        normal_metrics(np.zeros((2, 2, 3)), np.zeros((2, 2)))
    with pytest.raises(DiceptionInputError, match="no valid ground-truth normals"):
        normal_metrics(np.ones((2, 2, 3)), np.zeros((2, 2, 3)))
