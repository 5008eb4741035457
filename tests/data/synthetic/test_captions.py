"""A scene's caption says what its picture shows: each category in view, how many, and where."""

from __future__ import annotations

import numpy as np

from diception.data.synthetic import render_scene
from diception.data.synthetic.captions import SceneCaptionDataset, scene_caption
from diception.data.synthetic.scene import CATEGORIES


def test_a_caption_counts_the_instances_of_each_category_in_view():
    for seed in range(5):
        scene = render_scene(seed, 48)
        words = scene_caption(scene).split()
        shown = {c: sum(v == c for v in scene.instance_categories.values()) for c in CATEGORIES}
        assert [w.split(":")[0] for w in words] == [c for c in CATEGORIES if shown[c]]
        for word in words:
            category, count, where = word.split(":")
            assert int(count) == shown[category] and where in ("left", "middle", "right")


def test_where_is_the_third_holding_the_largest_instance():
    scene = render_scene(3, 48)
    scene.instance_ids[:] = 0
    scene.instance_ids[:, 40:] = 1  # one instance, at the right edge
    scene.instance_categories = {1: "ball"}
    assert scene_caption(scene) == "ball:1:right"


def test_the_dataset_gives_each_scene_its_picture_to_draw_and_its_caption(tmp_path):
    dataset = SceneCaptionDataset("validation", size=32, num_scenes=3, scene_cache=str(tmp_path))
    item = dataset[1]
    np.testing.assert_array_equal(item.target, dataset.scene(1).image_float())
    assert item.prompt == scene_caption(dataset.scene(1)) == dataset.prompt_of(1)
    assert "[[image2semantic]] cone" in dataset.prompts and item.points == ()
