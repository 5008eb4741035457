"""Each task's prediction files: written atomically, read back into what ``decode`` returned, in the published
float16 layout when asked, and the side-by-side picture shows the task's display picture."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from diception import tasks
from diception.data.sample import Sample
from diception.tasks.prediction_files import (
    OutputFile,
    Prediction,
    read_json,
    with_suffix,
    write_files,
    write_published_npy,
    write_raw_npy,
)

H, W = 48, 64


def _truth(task: tasks.Task) -> Sample:
    ids = np.zeros((H, W), dtype=np.int32)
    ids[5:25, 5:30], ids[28:45, 35:60] = 1, 2
    person = np.zeros((17, 3))
    person[[5, 7, 9], :] = [(20, 6, 2), (22, 22, 2), (24, 40, 2)]
    yy, xx = np.mgrid[0:H, 0:W]
    return Sample(image=np.zeros((H, W, 3), np.uint8), task=task.name, depth=1.0 + xx / W + yy / H,
                  normals=np.broadcast_to([0.0, 0.6, 0.8], (H, W, 3)), mask=ids == 1, instances=ids,
                  category="person", keypoints=[person])  # fmt: skip


def _assert_same(got, want) -> None:
    """``got`` holds what ``want`` holds, up to the files' rounding (keypoints to 0.01 px)."""
    if isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _assert_same(g, w)
        return
    if isinstance(want, np.ndarray):
        np.testing.assert_allclose(got, want, atol=1e-6)
        return
    for name, value in vars(want).items():
        if name == "colour":  # not saved: the files hold masks, boxes and scores
            continue
        if isinstance(value, (np.ndarray, tuple)):
            np.testing.assert_allclose(np.asarray(getattr(got, name), float), np.asarray(value, float), atol=0.01)
        elif isinstance(value, float):
            assert getattr(got, name) == pytest.approx(value, abs=1e-6), name
        else:
            assert getattr(got, name) == value, name


@pytest.mark.parametrize("name", tasks.task_names())
def test_files_round_trip_to_the_decoded_prediction(name, tmp_path):
    task = tasks.get(name)
    picture = task.target_picture(_truth(task))
    value = task.decode(picture)
    prediction = Prediction(np.zeros((H, W, 3), np.uint8), picture, value, task, image_id="img")
    base = tmp_path / "out" / f"img_{name}"
    files = task.output_files(base)
    write_files(prediction, files)
    assert {p.name for p in base.parent.iterdir()} == {f.path.name for f in files}  # nothing else, no temporaries
    _assert_same(task.read_prediction(base), value)
    side = np.asarray(Image.open(with_suffix(base, ".png")))
    assert side.shape == (H, 2 * W, 3)
    shown = np.round(np.clip(task.display_picture(prediction), 0, 1) * 255)
    np.testing.assert_array_equal(side[:, W:], shown)


def test_depth_shows_its_colour_map_and_saves_16_bits(tmp_path):
    task = tasks.DEPTH
    picture = task.target_picture(_truth(task))
    prediction = Prediction(np.zeros((H, W, 3), np.uint8), picture, task.decode(picture), task)
    write_files(prediction, task.output_files(tmp_path / "d"))
    sixteen = np.asarray(Image.open(tmp_path / "d_16bit.png"))
    assert sixteen.dtype == np.uint16
    np.testing.assert_allclose(sixteen / 65535.0, prediction.value, atol=1e-4)
    assert not np.allclose(task.display_picture(prediction), picture)  # the Spectral map, not the grey picture


@pytest.mark.parametrize(("name", "shape"), [("depth", (H, W)), ("normal", (3, H, W)), ("pose", (3, H, W))])
def test_published_npy_layout_and_raw_output(name, shape, tmp_path):
    task = tasks.get(name)
    picture = task.target_picture(_truth(task))
    prediction = Prediction(np.zeros((H, W, 3), np.uint8), picture, task.decode(picture), task)
    write_files(prediction, [OutputFile(tmp_path / "p.npy", write_published_npy),
                             OutputFile(tmp_path / "r.npy", write_raw_npy)])  # fmt: skip
    published = np.load(tmp_path / "p.npy")
    assert published.dtype == np.float16 and published.shape == shape
    raw = np.load(tmp_path / "r.npy")
    assert raw.dtype == np.float32 and raw.shape == (H, W, 3)


def test_a_missing_or_broken_prediction_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="img_entity_masks.json"):
        tasks.ENTITY.read_prediction(tmp_path / "img_entity")
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_json(tmp_path / "bad.json")
