"""The synthetic world's renderer: determinism, splits, and ground truth that agrees with itself and with
geometry (depth vs. normals, floor depth vs. the ray-plane intersection, keypoints vs. masks)."""

import numpy as np
import pytest

from diception.data.synthetic import CATEGORIES, SPLIT_BASES, SPLIT_SPAN, SURFACES, render_scene, split_seeds
from diception.errors import DiceptionInputError

SIZE = 64
SEEDS = (0, 1, 4, 9)  # together: every category, people near and far, occluded keypoints


@pytest.fixture(scope="module")
def scenes():
    return [render_scene(seed, SIZE) for seed in SEEDS]


def _camera_rays(scene):
    """Per pixel, the OpenGL camera-space ray through the pixel centre with z = -1, ``(H, W, 3)``."""
    h, w = scene.size
    cols = (np.arange(w) + 0.5 - w / 2) / scene.focal
    rows = -(np.arange(h) + 0.5 - h / 2) / scene.focal
    x, y = np.meshgrid(cols, rows)
    return np.stack([x, y, -np.ones_like(x)], axis=-1)


def test_render_same_seed_is_bit_identical_other_seed_differs():
    a, b, c = render_scene(7, 48), render_scene(7, 48), render_scene(8, 48)
    for name in ("image", "depth", "normals", "valid", "instance_ids", "surfaces", "camera_to_world"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.instance_categories == b.instance_categories and a.keypoints.keys() == b.keypoints.keys()
    for pid in a.keypoints:
        np.testing.assert_array_equal(a.keypoints[pid], b.keypoints[pid])
    assert not np.array_equal(a.image, c.image)


def test_split_seeds_are_disjoint_ranges():
    ranges = sorted((split_seeds(name, SPLIT_SPAN) for name in SPLIT_BASES), key=lambda r: r.start)
    assert ranges[0].start == 0 and all(a.stop <= b.start for a, b in zip(ranges, ranges[1:]))
    assert list(split_seeds("validation", 3, start=2)) == [10_000_002, 10_000_003, 10_000_004]
    with pytest.raises(DiceptionInputError, match="unknown split 'val'"):
        split_seeds("val", 3)
    with pytest.raises(DiceptionInputError, match="start \\+ count <= 10000000"):
        split_seeds("train", 5, start=SPLIT_SPAN - 2)


def test_render_rejects_bad_size_and_seed():
    with pytest.raises(DiceptionInputError, match="size must be at least 8"):
        render_scene(0, size=4)
    with pytest.raises(DiceptionInputError, match="non-negative"):
        render_scene(-1)


def test_ground_truth_shapes_ids_and_categories_agree(scenes):
    for s in scenes:
        assert s.image.shape == (SIZE, SIZE, 3) and s.image.dtype == np.uint8
        assert s.depth.dtype == np.float32 and s.normals.shape == (SIZE, SIZE, 3) and s.valid.all()
        assert set(np.unique(s.instance_ids)) - {0} == set(s.instance_categories)
        assert set(s.instance_categories.values()) <= set(CATEGORIES)
        np.testing.assert_array_equal(s.surfaces == SURFACES.index("object"), s.instance_ids > 0)
        np.testing.assert_allclose(np.linalg.norm(s.normals, axis=-1), 1.0, atol=1e-5)
        rays = _camera_rays(s)
        assert (np.einsum("hwc,hwc->hw", s.normals, rays) < 0).all()  # every visible surface faces the camera
        for pid in s.keypoints:
            assert s.instance_categories.get(pid, "person") == "person"
    assert {c for s in scenes for c in s.instance_categories.values()} == set(CATEGORIES)


def test_floor_depth_is_the_ray_plane_intersection_and_its_normal_is_up(scenes):
    for s in scenes:
        floor = s.surfaces == SURFACES.index("floor")
        assert floor.sum() > 100
        rotation, position = s.camera_to_world[:3, :3], s.camera_to_world[:3, 3]
        rays = _camera_rays(s) @ rotation.T  # world directions with unit length along the optical axis
        expected = -position[1] / rays[..., 1]  # camera height over the rays' descent = depth (z = -1 rays)
        np.testing.assert_allclose(s.depth[floor], expected[floor], rtol=1e-5)
        up_in_camera = rotation.T @ np.array([0.0, 1.0, 0.0])
        np.testing.assert_allclose(s.normals[floor], np.broadcast_to(up_in_camera, (floor.sum(), 3)), atol=1e-5)


def test_normals_agree_with_back_projected_depth_on_flat_surfaces(scenes):
    checked = 0
    for s in scenes:
        points = _camera_rays(s) * s.depth[..., None]  # (H, W, 3) camera-space points
        down = points[1:, :-1] - points[:-1, :-1]
        right = points[:-1, 1:] - points[:-1, :-1]
        estimate = np.cross(down, right)  # (down x right) points toward the camera
        estimate /= np.linalg.norm(estimate, axis=-1, keepdims=True)
        n = s.normals
        same = (s.instance_ids[1:, :-1] == s.instance_ids[:-1, :-1]) & (
            s.instance_ids[:-1, 1:] == s.instance_ids[:-1, :-1]
        )
        flat = (
            same & (np.abs(n[1:, :-1] - n[:-1, :-1]).max(-1) < 1e-6) & (np.abs(n[:-1, 1:] - n[:-1, :-1]).max(-1) < 1e-6)
        )
        flat &= s.surfaces[:-1, :-1] == s.surfaces[1:, :-1]
        cos = np.einsum("ic,ic->i", estimate[flat], n[:-1, :-1][flat])
        angle = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
        assert angle.max() < 2.0, f"seed {s.seed}: {angle.max():.2f} degrees"
        checked += flat.sum()
    assert checked > 5000  # floors, walls and box faces


def test_visible_keypoints_lie_on_their_person(scenes):
    counts = np.zeros(3, dtype=int)
    for s in scenes:
        h, w = s.size
        for pid, kp in s.keypoints.items():
            assert kp.shape == (17, 3) and kp.dtype == np.float32
            for x, y, v in kp:
                counts[int(v)] += 1
                if v == 0:
                    assert x == 0 and y == 0
                    continue
                col, row = round(float(x)), round(float(y))  # pixel centres at integers
                assert -0.5 <= x < w - 0.5 and -0.5 <= y < h - 0.5
                if v == 2:
                    window = s.instance_ids[max(row - 1, 0) : row + 2, max(col - 1, 0) : col + 2]
                    assert (window == pid).any(), f"seed {s.seed} person {pid} at ({x:.1f}, {y:.1f})"
    assert counts[2] > 30 and counts[1] > 3  # visible and occluded keypoints both occur
