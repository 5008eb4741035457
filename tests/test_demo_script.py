"""`make demo`'s contact sheet (scripts/demo.py): input | prediction | ground truth per picture and task, on tiny
synthetic scenes, with the clicked point on an object of the ground truth."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from diception import tasks
from diception.data.synthetic import render_scene
from diception.data.synthetic.samples import scene_sample
from diception.tasks.points import parse_published_points
from diception.tasks.prediction_files import to_uint8

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "demo.py"
_spec = importlib.util.spec_from_file_location("diception_demo_script", SCRIPT)
demo = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = demo  # its dataclasses look their module up
_spec.loader.exec_module(demo)

WITH_PERSON, WITHOUT_PERSON = 0, 3  # seeds: at 32 px, scene 0 shows people, scene 3 a cone and a ball only


def _pixel(point, size):
    h, w = size
    return int(point.y * h), int(point.x * w)


def _expected_truth(spec, scene, prompt) -> np.ndarray:
    """The task's target picture for the demo's request, built here from the scene without the demo's helper."""
    sample = scene_sample(scene)
    if spec.accepts_points:
        under = scene.instance_ids[_pixel(prompt.point, scene.size)]
        sample = replace(sample, mask=scene.instance_ids == under)
    if spec.needs_category:
        sample = replace(sample, instances=np.where(scene.category_mask(prompt.category), scene.instance_ids, 0))
    return spec.target_picture(sample)


def _cell(sheet: Image.Image, picture: int, column: int, row: int) -> np.ndarray:
    x, y = demo.cell_origin(picture, column, row)
    return np.asarray(sheet.crop((x, y, x + demo.CELL, y + demo.CELL)))


@pytest.mark.parametrize("seed", [WITH_PERSON, WITHOUT_PERSON])
def test_the_clicked_point_lies_on_the_largest_object_of_the_category(seed):
    scene = render_scene(seed, 32)
    prompt = demo.choose_prompt(scene)
    ids = scene.instance_ids
    area = {c: np.count_nonzero(scene.category_mask(c)) for c in set(scene.instance_categories.values())}
    assert prompt.category == ("person" if "person" in area else max(area, key=area.get))
    assert ids[_pixel(prompt.point, scene.size)] == prompt.instance > 0
    assert scene.instance_categories[prompt.instance] == prompt.category
    same = [i for i, c in scene.instance_categories.items() if c == prompt.category]
    assert np.count_nonzero(ids == prompt.instance) == max(np.count_nonzero(ids == i) for i in same)
    # the point the command line is given falls on the same object, and the ground truth is white there
    args = demo.task_arguments(tasks.SEGMENTATION, fast=False, prompt=prompt)
    (sent,) = parse_published_points(args[args.index("--points") + 1])
    assert ids[_pixel(sent, scene.size)] == prompt.instance
    truth = demo.ground_truth(tasks.SEGMENTATION, scene, prompt)
    assert truth[_pixel(prompt.point, scene.size)].tolist() == [1.0, 1.0, 1.0]
    assert np.array_equal(truth[..., 0] > 0.5, ids == prompt.instance)
    semantic = demo.task_arguments(tasks.SEMANTIC, fast=True, prompt=prompt)
    assert semantic == ["--task", "semantic", "--category", prompt.category, "--fast"]


def test_a_picture_without_a_scene_keeps_the_old_prompts():
    assert demo.choose_prompt(None) == demo.DemoPrompt()
    assert demo.task_arguments(tasks.SEGMENTATION, fast=False) == ["--task", "segmentation", "--points", "0.6,0.4"]
    assert demo.task_arguments(tasks.SEMANTIC, fast=False) == ["--task", "semantic", "--category", "person"]
    assert demo.task_arguments(tasks.DEPTH, fast=True) == ["--task", "depth", "--fast"]


def test_the_sidecar_names_the_committed_scenes_bit_for_bit():
    scenes = demo.read_scenes(demo.SAMPLES)
    images = sorted(p for p in demo.SAMPLES.iterdir() if p.suffix in (".png", ".jpg"))
    assert sorted(scenes) == [p.name for p in images if p.name.startswith("synthetic_")]
    pictures = demo.demo_pictures(images, scenes)  # a picture unlike its scene would lose its scene here
    assert [p.scene is not None for p in pictures] == [p.name in scenes for p in images]
    assert all(p.prompt.category == "person" for p in pictures)  # every sample scene shows a person


def test_a_listed_picture_unlike_its_scene_gets_no_ground_truth(tmp_path):
    path = tmp_path / "synthetic_x.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(path)
    (picture,) = demo.demo_pictures([path], {path.name: (WITH_PERSON, 32)})
    assert picture.scene is None and picture.prompt == demo.DemoPrompt()


def test_contact_sheet_shows_input_prediction_and_ground_truth_per_picture_and_task(tmp_path):
    scene = render_scene(WITH_PERSON, 32)
    scene_path, photo_path = tmp_path / "scene.png", tmp_path / "photo.png"
    Image.fromarray(scene.image).save(scene_path)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)).save(photo_path)  # not square
    pictures = [demo.DemoPicture(scene_path, scene, demo.choose_prompt(scene)),
                demo.DemoPicture(photo_path, None, demo.choose_prompt(None))]  # fmt: skip
    names = list(tasks.TASKS)
    grey = {name: 0.1 + 0.1 * k for k, name in enumerate(names)}  # a flat prediction per task
    for picture in pictures:
        h, w = Image.open(picture.path).size[::-1]
        for name in names:
            np.save(tmp_path / f"{picture.path.stem}_{name}_raw.npy", np.full((h, w, 3), grey[name], np.float32))

    path = demo.contact_sheet(tmp_path, pictures, names)
    assert path == tmp_path / "contact_sheet.png" and not list(tmp_path.glob("*.partial.png"))
    sheet = Image.open(path).convert("RGB")
    cells = 3 * demo.CELL + demo.GAP  # three cells and a gap per picture
    assert sheet.size == (demo.LABEL_WIDTH + 2 * cells, demo.HEADER + len(names) * demo.CELL)
    assert sheet.size == demo.sheet_size(2, len(names))

    scene_input = np.asarray(Image.fromarray(scene.image).resize((demo.CELL, demo.CELL), Image.BILINEAR))
    x, y = (int(v * demo.CELL) for v in pictures[0].prompt.point)
    for row, name in enumerate(names):
        spec = tasks.get(name)
        truth = to_uint8(_expected_truth(spec, scene, pictures[0].prompt))
        expected = np.asarray(Image.fromarray(truth).resize((demo.CELL, demo.CELL), Image.BILINEAR))
        assert np.array_equal(_cell(sheet, 0, 2, row), expected), name
        prediction = _cell(sheet, 0, 1, row)
        if spec.accepts_points:  # the clicked point: a red dot on the input and on the prediction
            for cell in (_cell(sheet, 0, 0, row), prediction, _cell(sheet, 1, 0, row), _cell(sheet, 1, 1, row)):
                assert ((cell[..., 0] > 200) & (cell[..., 1] < 60) & (cell[..., 2] < 60)).any(), name
            assert prediction[y, x].tolist() == [230, 30, 30]
            assert not np.array_equal(_cell(sheet, 0, 0, row), scene_input)
        else:
            assert np.array_equal(_cell(sheet, 0, 0, row), scene_input), name
            assert (prediction == to_uint8(np.float32(grey[name]))).all(), name
        no_truth = _cell(sheet, 1, 2, row)  # the photo: a grey cell that says so
        assert (no_truth == 235).all(axis=-1).mean() > 0.9 and (no_truth < 150).any(), name
        photo = _cell(sheet, 1, 1, row)  # fitted keeping its shape: white bars left and right
        assert (photo[:, :8] == 255).all() and (photo[:, -8:] == 255).all(), name
