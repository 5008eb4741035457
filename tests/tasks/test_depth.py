"""Depth codec: normalised disparity in, the same disparity back out; robust to picture degradations."""

from __future__ import annotations

import numpy as np
import pytest

from diception.errors import DiceptionInputError
from diception.tasks import depth


def _scene(size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """A slanted floor (2-8 m) with a box in front (1.5 m) and a hole of missing depth."""
    ys, xs = np.mgrid[:size, :size] / size
    d = 2.0 + 6.0 * (1.0 - ys) + 0.5 * xs
    d[40:80, 30:70] = 1.5
    d[:10, :20] = 0.0  # no measurement
    return d.astype(np.float32), d > 0


def _affine_residual(pred: np.ndarray, target: np.ndarray, valid: np.ndarray) -> float:
    """Mean absolute error after the best scale and shift (disparity is only known up to an affine map)."""
    a = np.stack([pred[valid], np.ones(valid.sum())], axis=1)
    coef, *_ = np.linalg.lstsq(a, target[valid], rcond=None)
    return float(np.abs(a @ coef - target[valid]).mean())


def test_encode_is_grey_in_unit_range_with_near_bright_and_invalid_black():
    d, valid = _scene()
    rgb = depth.encode(d)
    assert rgb.shape == (*d.shape, 3) and rgb.dtype == np.float32
    assert np.all(rgb[..., 0] == rgb[..., 1]) and np.all(rgb[..., 1] == rgb[..., 2])
    assert rgb.min() == 0.0 and rgb.max() == 1.0
    assert rgb[60, 50, 0] == 1.0  # the box, nearest
    assert np.all(rgb[~valid] == 0.0)


def test_round_trip_gives_normalised_disparity():
    d, valid = _scene()
    target = depth.normalised_disparity(d)
    decoded = depth.decode(depth.encode(d))
    assert decoded.shape == d.shape and decoded.dtype == np.float32
    np.testing.assert_allclose(decoded, target, atol=1e-3)
    quantised = np.round(depth.encode(d) * 255) / 255  # an 8-bit picture
    np.testing.assert_allclose(depth.decode(quantised), target, atol=1 / 255)


def test_normalised_disparity_is_affine_in_inverse_depth():
    d, valid = _scene()
    disp = np.zeros_like(d)
    disp[valid] = 1.0 / d[valid]
    assert _affine_residual(depth.normalised_disparity(d), disp, valid) < 1e-6


def test_explicit_valid_mask_blackens_more_pixels():
    d, valid = _scene()
    mask = valid.copy()
    mask[:, :5] = False
    rgb = depth.encode(d, valid=mask)
    assert np.all(rgb[:, :5] == 0.0)
    assert rgb[mask].max() == 1.0


def test_constant_depth_encodes_black():
    assert np.all(depth.encode(np.full((8, 8), 3.0)) == 0.0)


def test_round_trip_survives_degradation(degrade):
    d, valid = _scene()
    decoded = depth.decode(degrade(depth.encode(d)))
    assert _affine_residual(decoded, depth.normalised_disparity(d), valid) < 0.02


def test_disparity_to_depth_inverts_scale_and_shift():
    disp = np.linspace(0.1, 1.0, 10, dtype=np.float32)
    np.testing.assert_allclose(depth.disparity_to_depth(disp), 1.0 / disp, rtol=1e-6)
    np.testing.assert_allclose(depth.disparity_to_depth(disp, scale=2.0, shift=0.5), 1.0 / (2 * disp + 0.5),
                               rtol=1e-6)  # fmt: skip
    assert depth.disparity_to_depth(np.zeros(3), eps=0.01).max() == pytest.approx(100.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"depth": np.ones((2, 2, 3))}, "depth must be an"), ({"depth": np.ones((2, 2)), "q_low": 0.5, "q_high": 0.4},
                                                           "q_low < q_high")],
)  # fmt: skip
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(DiceptionInputError, match=match):
        depth.encode(**kwargs)
