"""The web demo's events without a browser: points clicked, undone and refused, a prediction per task with its
view and downloadable files, and user errors as one clear message."""

from __future__ import annotations

import json

import numpy as np
import pytest

from diception import tasks
from diception.bundled import bundled_model_path
from diception.demo import DemoModel, describe_model
from diception.demo import callbacks as cb
from diception.errors import DiceptionInputError
from diception.pipelines import DiceptionPipeline
from diception.tasks.points import MAX_POINTS


@pytest.fixture(scope="module")
def model() -> DemoModel:
    pipe = DiceptionPipeline.from_pretrained(bundled_model_path())
    pipe.set_progress_bar_config(disable=True)
    return DemoModel(pipe, describe_model(pipe, bundled_model_path()))


def picture(seed: int = 0, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


def test_clicks_add_points_draw_markers_and_a_sixth_is_refused():
    image = picture()
    clicks, shown, text, message = cb.add_point(None, image, 10.4, 20.6)
    assert clicks.points == [(10, 21)] and text == "10,21" and "1 of 5" in message
    assert not np.array_equal(shown, image) and np.array_equal(clicks.original, image)  # markers on a copy
    for k in range(MAX_POINTS - 1):
        clicks, shown, text, message = cb.add_point(clicks, shown, 30 + k, 12)
    assert len(clicks.points) == MAX_POINTS
    clicks, shown, text, message = cb.add_point(clicks, shown, 5, 5)
    assert len(clicks.points) == MAX_POINTS and "at most 5 points" in message
    clicks, shown, text, message = cb.undo_point(clicks, shown)
    assert len(clicks.points) == MAX_POINTS - 1 and text.count(";") == MAX_POINTS - 2
    clicks, shown, text, _ = cb.clear_points(clicks, shown)
    assert clicks.points == [] and text == "" and np.array_equal(shown, image)


def test_a_new_picture_starts_with_no_points():
    clicks, shown, _, _ = cb.add_point(None, picture(0), 3, 3)
    other = picture(1)
    clicks, shown, text, _ = cb.add_point(clicks, other, 7, 8)  # the page now shows another picture
    assert clicks.points == [(7, 8)] and np.array_equal(clicks.original, other)


def test_points_text_round_trips_and_bad_text_is_one_clear_line():
    assert cb.parse_points_text(cb.points_text([(1, 2), (30, 40)])) == [(1.0, 2.0), (30.0, 40.0)]
    assert cb.parse_points_text("  ") == []
    with pytest.raises(DiceptionInputError, match="is not 'x,y' in pixels"):
        cb.parse_points_text("1,2; three")


@pytest.mark.parametrize("task", tasks.task_names())
def test_every_task_gives_a_view_and_the_files_predict_writes(model, task, tmp_path):
    spec = tasks.get(task)
    image = picture(2)
    points = [(30, 20)] if spec.accepts_points else []
    category = model.categories[0] if spec.needs_category else None
    result = cb.run(model, image, task, category, points, 1, 1.0, 0, None, out_dir=tmp_path)
    assert result.view.picture.shape == image.shape and result.view.picture.dtype == np.uint8
    assert result.picture.shape == image.shape and result.view.caption
    assert (result.view.slider is not None) == (spec.prediction_kind in ("depth", "normal"))
    wanted = [name for name in spec.output_names() if name != "side"]
    expected = {f.path.name for f in spec.output_files(tmp_path / "prediction_x", outputs=wanted)}
    names = {p.name.replace(f"prediction_{task}", "prediction_x") for p in result.files}
    assert names == expected and all(p.is_file() for p in result.files)
    if spec.prediction_kind in ("mask", "instances"):
        entries = json.loads(next(p for p in result.files if p.suffix == ".json").read_text())
        assert isinstance(entries, list) and all("segmentation" in e for e in entries)


def test_the_same_seed_gives_the_same_answer(model, tmp_path):
    first = cb.run(model, picture(3), "depth", None, [], 1, 1.0, 7, None, out_dir=tmp_path)
    again = cb.run(model, picture(3), "depth", None, [], 1, 1.0, 7, None, out_dir=tmp_path)
    assert np.array_equal(first.picture, again.picture)


def test_progress_is_told_every_step(model, tmp_path):
    seen = []
    cb.run(model, picture(), "depth", None, [], 3, 1.0, 0, None, out_dir=tmp_path, step_callback=seen.append)
    assert seen == [1, 2, 3]


@pytest.mark.parametrize("case, message", [
    ("no picture", "upload or choose a picture first"),
    ("no points", "click on the object to segment"),
    ("too large", "the demo takes at most"),
    ("unknown category", "is not in the model's prompt cache"),
    ("point outside", "lies outside"),
])  # fmt: skip
def test_user_errors_are_one_clear_message(model, case, message, monkeypatch):
    image, task, category, points = picture(), "segmentation", None, [(5, 5)]
    if case == "no picture":
        image = None
    elif case == "no points":
        points = []
    elif case == "too large":
        monkeypatch.setenv("DICEPTION_MAX_PIXELS", "100")  # the limit of `diception predict`
    elif case == "unknown category":
        task, category = "semantic", "zebra crossing sign"
    elif case == "point outside":
        points = [(500, 5)]
    with pytest.raises(DiceptionInputError, match=message):
        cb.run(model, image, task, category, points, 1, 1.0, 0, None)


class ModelThatMustNotRun:
    def __call__(self, *args, **kwargs):
        raise AssertionError("the model ran on an input the demo should have refused")


@pytest.mark.parametrize("setting, message", [
    ({"image": picture(size=(20, 30))}, r"the picture is 30 x 20 = 0.0006 MP; the demo takes at most 0.0001 MP, so "
                                        "downscale it first"),
    ({"image": picture().astype("U3")}, r"the picture holds <U3 values; upload an image file"),
    ({"steps": float("nan")}, r"steps is nan; give a whole number from 1 to 1000"),
    ({"steps": 2.5}, r"steps is 2.5; give a whole number"),
    ({"guidance": float("inf")}, r"guidance is inf; give a number from 0 to 100.0"),
    ({"seed": 2**64}, r"seed is 18446744073709551616; give a whole number from 0 to 9223372036854775807"),
    ({"resolution": "9" * 80}, r"processing resolution is '9+\.\.\.; give a whole number from 0 to 16384$"),
])  # fmt: skip
def test_what_an_api_caller_may_send_is_refused_before_the_model_runs(setting, message, monkeypatch):
    monkeypatch.setenv("DICEPTION_MAX_PIXELS", "100")
    values = {"image": picture(size=(8, 10)), "steps": 1, "guidance": 1.0, "seed": 0, "resolution": None, **setting}
    with pytest.raises(DiceptionInputError, match=f"^{message}"):
        cb.run(DemoModel(ModelThatMustNotRun(), "no model"), values.pop("image"), "depth", None, [], **values)


def test_any_numeric_picture_becomes_8_bit_rgb():
    grey16 = np.array([[0, 257, 65535]], np.uint16)
    assert cb.as_rgb(grey16)[0, :, 0].tolist() == [0, 1, 255]  # scaled, not clipped to white
    floats = np.array([[[np.nan, 0.5, 2.0], [-np.inf, np.inf, 1.0]]], np.float32)
    assert cb.as_rgb(floats).tolist() == [[[0, 128, 255], [0, 255, 255]]]
    assert cb.as_rgb(np.array([[True, False]]))[0, :, 0].tolist() == [255, 0]
    rgba = np.zeros((2, 2, 4), np.uint8)
    assert cb.as_rgb(rgba).shape == (2, 2, 3)


def test_the_page_says_which_model_it_runs(model):
    assert model.description.startswith("the bundled toy model") and "knows only that world" in model.description
    assert "person" in model.categories and not model.can_encode
