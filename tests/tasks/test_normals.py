"""Normals codec: camera-space unit normals (OpenGL axes) round trip within a degree."""

from __future__ import annotations

import numpy as np
import pytest

from diception.errors import DiceptionInputError
from diception.tasks import normals


def _angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip((a * b).sum(-1), -1.0, 1.0)))


def _scene(size: int = 128) -> np.ndarray:
    """A tilted wall with a sphere in front: x right, y up, z toward the camera."""
    n = np.zeros((size, size, 3), dtype=np.float32)
    n[...] = np.array([0.3, 0.2, 1.0]) / np.linalg.norm([0.3, 0.2, 1.0])
    rows, cols = np.mgrid[:size, :size]
    c, r = size / 2, size / 3
    x, y = (cols - c) / r, -(rows - c) / r  # image rows grow downwards, y grows upwards
    inside = x**2 + y**2 < 1
    n[inside] = np.stack([x, y, np.sqrt(np.clip(1 - x**2 - y**2, 0, 1))], -1)[inside]
    return n


def test_a_wall_facing_the_camera_is_lilac():
    wall = np.zeros((2, 2, 3), dtype=np.float32)
    wall[..., 2] = 1.0
    np.testing.assert_allclose(normals.encode(wall), np.broadcast_to([0.5, 0.5, 1.0], (2, 2, 3)))
    assert "y up" in normals.AXES and "toward the camera" in normals.AXES


def test_round_trip_within_a_degree():
    n = _scene()
    rgb = normals.encode(n)
    assert rgb.dtype == np.float32 and rgb.min() >= 0.0 and rgb.max() <= 1.0
    assert _angles(normals.decode(rgb), n).max() < 0.05  # float32 rounding only
    quantised = np.round(rgb * 255) / 255
    assert _angles(normals.decode(quantised), n).max() < 1.0


def test_decoded_normals_are_unit_length():
    rgb = np.random.default_rng(0).uniform(0.05, 1, (16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(np.linalg.norm(normals.decode(rgb), axis=-1), 1.0, atol=1e-5)


def test_encode_renormalises_and_blackens_invalid_pixels():
    n = _scene() * 3.0
    n[:4] = 0.0
    rgb = normals.encode(n)
    assert np.all(rgb[:4] == 0.0)
    assert _angles(normals.decode(rgb[4:]), _scene()[4:]).max() < 0.05
    assert np.all(normals.encode(_scene(), valid=np.zeros((128, 128), bool)) == 0.0)


def test_opencv_convention_flips_y_and_z():
    n = _scene()
    opencv = normals.decode(normals.encode(n), convention="opencv")
    np.testing.assert_allclose(opencv, n * np.array([1, -1, -1]), atol=1e-5)
    np.testing.assert_allclose(normals.encode(opencv, convention="opencv"), normals.encode(n), atol=1e-5)


# Colour jitter moves normals directly (there is no reference colour to calibrate against): looser limits.
MEAN_ERROR_LIMITS = {"jpeg75": 3.0, "blur1": 3.0, "jitter": 5.0, "all": 12.0}  # degrees


def test_round_trip_survives_degradation(degrade, request):
    n = _scene()
    limit = MEAN_ERROR_LIMITS[request.node.callspec.params["degrade"]]
    assert _angles(normals.decode(degrade(normals.encode(n))), n).mean() < limit


def test_unknown_convention_and_bad_shape_raise():
    with pytest.raises(DiceptionInputError, match="unknown normal convention 'dx'"):
        normals.decode(np.zeros((2, 2, 3)), convention="dx")
    with pytest.raises(DiceptionInputError, match=r"normals must be an \(H, W, 3\) array"):
        normals.encode(np.zeros((2, 2)))
