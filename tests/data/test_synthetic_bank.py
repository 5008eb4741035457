"""The scene bank: scenes rendered once, read back bit-identical, and reused with fresh task draws."""

import dataclasses

import numpy as np
import pytest

from diception.data.synthetic import SyntheticTaskDataset, render_scene, split_seeds
from diception.data.synthetic.bank import bank_file, load_bank, save_bank, scene_bank
from diception.data.synthetic.render import SyntheticScene
from diception.errors import DiceptionInputError

SIZE = 32


def test_banked_scenes_equal_freshly_rendered_ones(tmp_path):
    seeds = split_seeds("validation", 3)
    banked = scene_bank(tmp_path, seeds, SIZE, workers=1)
    assert bank_file(tmp_path, seeds, SIZE).is_file()
    for scene, seed in zip(load_bank(bank_file(tmp_path, seeds, SIZE)), seeds):
        fresh = render_scene(seed, SIZE)
        for field in dataclasses.fields(SyntheticScene):  # every field, so one the bank forgets fails here
            banked_value, fresh_value = getattr(scene, field.name), getattr(fresh, field.name)
            if field.name == "keypoints":
                assert banked_value.keys() == fresh_value.keys()
                for key, value in fresh_value.items():
                    np.testing.assert_array_equal(banked_value[key], value)
            elif isinstance(fresh_value, np.ndarray):
                np.testing.assert_array_equal(banked_value, fresh_value, err_msg=field.name)
                assert banked_value.dtype == fresh_value.dtype, field.name
            else:
                assert banked_value == fresh_value, field.name
    assert len(banked) == 3


def test_bank_is_written_atomically_and_a_corrupt_one_is_named(tmp_path):
    path = tmp_path / "bank.npz"
    save_bank(path, [render_scene(1, SIZE)])
    assert [p.name for p in tmp_path.iterdir()] == ["bank.npz"]  # no temporary file left behind
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DiceptionInputError, match="bank.npz cannot be read.*delete it"):
        load_bank(path)


def test_dataset_from_a_bank_matches_rendering_and_draws_tasks_per_item(tmp_path):
    fresh = SyntheticTaskDataset("test", size=SIZE, num_scenes=4)
    banked = SyntheticTaskDataset("test", size=SIZE, num_scenes=4, draws_per_scene=5, scene_cache=str(tmp_path))
    assert len(banked) == 20
    for i in range(4):  # draw 0 of each scene is what the dataset without a bank gives
        np.testing.assert_array_equal(banked[i].target, fresh[i].target)
        assert banked[i].prompt == fresh[i].prompt
    repeats = [banked[i * 4 + 1] for i in range(5)]  # scene 1, five draws
    for item in repeats:
        np.testing.assert_array_equal(item.image, fresh[1].image)
    assert len({item.task for item in repeats}) > 1
    with pytest.raises(DiceptionInputError, match="draws_per_scene must be at least 1"):
        SyntheticTaskDataset("test", size=SIZE, num_scenes=1, draws_per_scene=0)
