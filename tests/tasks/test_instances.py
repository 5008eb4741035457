"""Entity / semantic codec: instance ids -> distinct colours -> the same set of instances."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from diception.errors import DiceptionInputError
from diception.tasks import instances, palette


def _scene(seed: int, size: int = 160, n: int = 6) -> np.ndarray:
    """Overlapping rectangles and discs; an instance survives if its visible part is one solid piece."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((size, size), dtype=np.int32)
    rows, cols = np.mgrid[:size, :size]
    for k in range(1, n + 1):
        cx, cy = rng.uniform(15, size - 15, 2)
        s = rng.uniform(10, 30)
        if rng.random() < 0.5:
            shape = (abs(cols - cx) < s) & (abs(rows - cy) < s * rng.uniform(0.5, 1.5))
        else:
            shape = (cols - cx) ** 2 + (rows - cy) ** 2 < s * s
        ids[shape] = k
    for k in range(1, n + 1):
        m = ids == k
        solid = ndimage.binary_opening(m, np.ones((5, 5))).sum() >= 0.95 * m.sum()
        if ndimage.label(m)[1] != 1 or m.sum() < 200 or not solid:
            ids[m] = 0
    return ids


def _gt_masks(ids: np.ndarray) -> list[np.ndarray]:
    return [ids == k for k in np.unique(ids) if k]


def _matched_ious(gts: list[np.ndarray], preds: list[instances.Instance]) -> list[float]:
    return [max(((g & p.mask).sum() / (g | p.mask).sum() for p in preds), default=0.0) for g in gts]


def test_palette_colours_are_far_apart_and_not_dark():
    colours = palette.maximin_palette(16)
    assert palette.min_pairwise_distance(colours) >= 0.5
    assert colours.max(axis=1).min() >= palette.MIN_BRIGHTNESS
    assert (colours @ np.array([0.299, 0.587, 0.114])).min() >= palette.MIN_LUMA - 1e-6
    assert np.array_equal(palette.maximin_palette(8), colours[:8])  # one fixed order
    with pytest.raises(DiceptionInputError, match="palette colours"):
        palette.maximin_palette(palette.max_palette_size() + 1)


def test_random_colours_are_seeded_distinct_palette_colours():
    a, b = palette.random_colours(6, seed=3), palette.random_colours(6, seed=3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, palette.random_colours(6, seed=4))
    assert len({tuple(c) for c in a}) == 6
    pool = {tuple(c) for c in palette.maximin_palette(16)}
    assert all(tuple(c) in pool for c in a)


def test_encode_paints_each_instance_one_colour_on_black():
    ids = _scene(0)
    rgb = instances.encode(ids, seed=1)
    assert rgb.dtype == np.float32 and rgb.shape == (*ids.shape, 3)
    assert np.all(rgb[ids == 0] == 0.0)
    colours = [np.unique(rgb[m], axis=0) for m in _gt_masks(ids)]
    assert all(len(c) == 1 for c in colours)
    assert palette.min_pairwise_distance(np.concatenate(colours)) >= 0.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip_is_exact(seed):
    ids = _scene(seed)
    preds = instances.decode(instances.encode(ids, seed=seed))
    gts = _gt_masks(ids)
    assert len(preds) == len(gts)
    assert {m.tobytes() for m in gts} == {p.mask.tobytes() for p in preds}
    assert all(p.score == 1.0 for p in preds)


@pytest.mark.parametrize("seed", [3, 4])
def test_round_trip_survives_degradation(degrade, seed):
    ids = _scene(seed)
    preds = instances.decode(degrade(instances.encode(ids, seed=seed)))
    gts = _gt_masks(ids)
    assert len(preds) == len(gts)
    assert min(_matched_ious(gts, preds)) >= 0.9


def test_colours_outside_the_palette_are_found():
    ids = _scene(5)
    hues = np.random.default_rng(0).permutation(np.linspace(0, 1, 12, endpoint=False))
    lut = np.zeros((ids.max() + 1, 3), dtype=np.float32)
    for k in range(1, ids.max() + 1):  # arbitrary saturated hues, brightness 0.9
        h = hues[k % 12] * 6
        lut[k] = 0.9 * np.clip(np.abs(((h + np.array([0, 4, 2])) % 6) - 3) - 1, 0, 1)
    rgb = lut[ids]
    gts = _gt_masks(ids)
    assert {m.tobytes() for m in gts} == {p.mask.tobytes() for p in instances.decode(rgb)}
    assert min(_matched_ious(gts, instances.decode(ndimage.gaussian_filter(rgb, (1, 1, 0))))) >= 0.9


def test_pieces_of_one_colour_split_unless_asked_not_to():
    ids = np.zeros((64, 64), dtype=np.int32)
    ids[5:20, 5:20] = 1
    ids[40:60, 40:60] = 1
    rgb = instances.encode(ids)
    assert len(instances.decode(rgb)) == 2
    assert len(instances.decode(rgb, instances.InstanceDecodeParams(split_components=False))) == 1


def test_tiny_pieces_and_black_pictures_give_nothing():
    ids = np.zeros((64, 64), dtype=np.int32)
    ids[5:8, 5:8] = 1  # 9 pixels, under min_area
    assert instances.decode(instances.encode(ids)) == []
    assert instances.decode(np.zeros((32, 32, 3), dtype=np.float32)) == []


def test_bad_ids_raise():
    with pytest.raises(DiceptionInputError, match="integer array"):
        instances.encode(np.zeros((4, 4), dtype=np.float32))
    with pytest.raises(DiceptionInputError, match="non-negative"):
        instances.encode(np.full((4, 4), -1))
