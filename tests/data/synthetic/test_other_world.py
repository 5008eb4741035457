"""The out-of-distribution synthetic world: deterministic per seed, unlike the training world, with ground truth
that agrees with itself, and written through the same manifest writer and reader."""

import json

import numpy as np
import pytest

from diception.data.layouts import iter_dataset
from diception.data.synthetic import (
    CATEGORIES,
    SURFACES,
    other_world,
    render_other_scene,
    render_scene,
    write_synthetic_dataset,
)
from diception.errors import DiceptionInputError

SIZE = 32
SEEDS = (0, 1, 2, 3, 4, 5)
FIELDS = ("image", "depth", "normals", "valid", "instance_ids", "surfaces", "camera_to_world")


@pytest.fixture(scope="module")
def scenes():
    return [render_other_scene(seed, SIZE) for seed in SEEDS]


def _camera_rays(scene):
    """Per pixel, the OpenGL camera-space ray through the pixel centre with z = -1, ``(H, W, 3)``."""
    h, w = scene.size
    cols = (np.arange(w) + 0.5 - w / 2) / scene.focal
    rows = -(np.arange(h) + 0.5 - h / 2) / scene.focal
    x, y = np.meshgrid(cols, rows)
    return np.stack([x, y, -np.ones_like(x)], axis=-1)


def test_same_seed_is_bit_identical_other_seed_differs():
    a, b, c = render_other_scene(7, SIZE), render_other_scene(7, SIZE), render_other_scene(8, SIZE)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.instance_categories == b.instance_categories and a.seed == 7
    assert not np.array_equal(a.image, c.image)


def test_differs_from_the_training_world_scene_of_the_same_seed(scenes):
    for seed, scene in zip(SEEDS, scenes):
        train = render_scene(seed, SIZE)
        assert not np.array_equal(scene.image, train.image)
        assert not np.array_equal(scene.depth, train.depth)


def test_ground_truth_is_consistent(scenes):
    for s in scenes:
        assert s.image.shape == (SIZE, SIZE, 3) and s.image.dtype == np.uint8
        assert s.depth.dtype == np.float32 and s.valid.all() and (s.depth[s.valid] > 0).all()
        assert np.isfinite(s.depth).all()
        np.testing.assert_allclose(np.linalg.norm(s.normals, axis=-1), 1.0, atol=1e-5)
        assert (np.einsum("hwc,hwc->hw", s.normals, _camera_rays(s)) < 0).all()  # visible surfaces face the camera
        assert s.instance_categories, f"seed {s.seed} shows no instance"
        assert set(np.unique(s.instance_ids)) - {0} == set(s.instance_categories)
        assert set(s.instance_categories.values()) <= set(CATEGORIES) - {"person"}
        np.testing.assert_array_equal(s.surfaces == SURFACES.index("object"), s.instance_ids > 0)
        assert s.keypoints == {}


def test_other_objects_occur():
    kinds = set()
    for seed in range(8):
        for obj in other_world.sample_other_scene(np.random.default_rng([other_world.OTHER_WORLD_KEY, seed])).objects:
            kinds.update(type(shape).__name__ for _, shape, _ in obj.parts)
    assert {"InvertedCone", "Ellipsoid", "Capsule"} <= kinds  # shapes no training-world object is made of


def test_a_scene_with_nothing_in_view_falls_back_to_a_pillar(monkeypatch):
    real = other_world.sample_other_scene

    def empty(rng):
        from dataclasses import replace

        return replace(real(rng), objects=())

    monkeypatch.setattr(other_world, "sample_other_scene", empty)
    scene = render_other_scene(3, 8)
    assert scene.instance_categories == {1: "cylinder"}


def test_written_other_world_dataset_reads_back(tmp_path):
    out = tmp_path / "other"
    manifest = write_synthetic_dataset(out, count=3, split="test", size=SIZE, world="other")
    samples = list(iter_dataset(manifest, "depth"))
    assert len(samples) == 3
    for sample in samples:
        seed = int(sample.image_path.stem.split("_")[1])
        np.testing.assert_array_equal(sample.depth, render_other_scene(seed, SIZE).depth)
    assert all(json.loads(p.read_text())["world"] == "other" for p in (out / "scenes").glob("*.json"))
    # the training world's scenes in the same folder are rendered anew, not resumed from the other world's
    write_synthetic_dataset(out, count=3, split="test", size=SIZE, world="train")
    for sample in iter_dataset(manifest, "depth"):
        seed = int(sample.image_path.stem.split("_")[1])
        np.testing.assert_array_equal(sample.depth, render_scene(seed, SIZE).depth)


def test_unknown_world_is_refused(tmp_path):
    with pytest.raises(DiceptionInputError, match="unknown world 'ood'; choose one of: train, other"):
        write_synthetic_dataset(tmp_path / "x", count=1, size=SIZE, world="ood")
    assert not (tmp_path / "x").exists()
