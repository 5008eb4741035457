"""Property test of the web demo's prediction: any array a caller can hand it as the uploaded picture (any dtype,
NaN and infinities, empty, 1 x 1, grey, 2, 4 or 5 channels, the wrong number of dimensions), with any task,
category, points text and settings, gives a result at the picture's size or one clear ``DiceptionInputError``
(the page's message), never another exception. The number of inputs tried is printed (``pytest -s``)."""

from __future__ import annotations

import pytest

hypothesis = pytest.importorskip("hypothesis")
import numpy as np  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from diception import tasks  # noqa: E402
from diception.bundled import bundled_model_path  # noqa: E402
from diception.demo import DemoModel  # noqa: E402
from diception.demo import callbacks as cb  # noqa: E402
from diception.errors import DiceptionInputError  # noqa: E402
from diception.pipelines import DiceptionPipeline  # noqa: E402

EXAMPLES = 300  # per test; ~10 s for both on 2 cores
TRIED: dict[str, int] = {}
sides = st.integers(0, 24)
dtypes = st.sampled_from([np.uint8, np.uint16, np.int64, np.float32, np.float64, np.bool_])
shapes = st.one_of(st.tuples(sides, sides), st.tuples(sides, sides, st.sampled_from([1, 2, 3, 4, 5])),
                   st.sampled_from([(), (5,), (1, 6, 6, 3)]))  # fmt: skip
arrays = hnp.arrays(dtypes, shapes)  # any dtype: float ones with NaN and infinities
coordinates = st.one_of(st.integers(-3, 30), st.floats(allow_nan=True, allow_infinity=True))
points_text = st.one_of(st.text(max_size=20), st.lists(st.tuples(coordinates, coordinates), max_size=6).map(
    lambda pairs: "; ".join(f"{x},{y}" for x, y in pairs)))  # fmt: skip
ODD = {  # what an API caller may send instead of the page's sliders and boxes
    "steps": [2, 0, -1, 1.5, 10**9, float("nan"), "1", None],
    "guidance": [2.0, 0.0, -1.0, float("nan"), float("inf"), "x", None],
    "seed": [-1, 2**63, 2**64, float("nan"), 1.5, "42", None],
    "resolution": [None, "", 0, 16, 17, -4, 10**6, float("nan"), "abc", 2.5],
}  # fmt: skip
odd_settings = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in ODD.items()})
page_settings = st.fixed_dictionaries({"steps": st.integers(1, 2), "guidance": st.sampled_from([1.0, 2.0]),
                                       "seed": st.integers(0, 2**63 - 1),
                                       "resolution": st.sampled_from([None, 0, 16, 32])})  # fmt: skip


def _count(name: str) -> None:
    TRIED[name] = TRIED.get(name, 0) + 1


@pytest.fixture(scope="module")
def model():
    """The bundled model on one thread: its operations are too small to share, and two threads stall when the
    machine is busy (0.1 s a prediction on one, up to 1 s on two)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    pipe = DiceptionPipeline.from_pretrained(bundled_model_path())
    pipe.set_progress_bar_config(disable=True)
    yield DemoModel(pipe, "the bundled model")
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("demo-fuzz")


def _predict(kind: str, model, out_dir, picture, task, category, points: str, setting: dict) -> None:
    """The page's prediction on these values: a result at the picture's size, or a DiceptionInputError."""
    try:  # as the page's predict calls it
        result = cb.run(model, picture, task, category, cb.parse_points_text(points), out_dir=out_dir, **setting)
    except DiceptionInputError as err:
        assert str(err).strip()  # a message (the page shows it as the error)
        _count(f"{kind}: refused with a message")
        return
    _count(f"{kind}: answered")
    height, width = picture.shape[:2]
    assert result.view.picture.shape == (height, width, 3) and result.view.picture.dtype == np.uint8
    assert result.picture.shape[:2] == (height, width) and result.view.caption
    assert result.files and all(p.is_file() for p in result.files)


@pytest.mark.filterwarnings("error::RuntimeWarning")  # a NaN cast to uint8 is a bug, not a warning
@settings(max_examples=EXAMPLES, deadline=None)
@given(picture=arrays, task=st.sampled_from(tasks.task_names()), category=st.sampled_from(["person", "car"]),
       points=st.lists(st.tuples(st.integers(0, 23), st.integers(0, 23)), min_size=1, max_size=5),
       setting=page_settings)  # fmt: skip
def test_any_uploaded_array_gives_a_result_or_one_clear_error(model, out_dir, picture, task, category, points,
                                                              setting):  # fmt: skip
    _predict("any picture", model, out_dir, picture, task, category, cb.points_text(points), setting)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@settings(max_examples=EXAMPLES, deadline=None)
@given(picture=st.one_of(arrays, st.none()), task=st.one_of(st.sampled_from(tasks.task_names()), st.text(max_size=8)),
       category=st.one_of(st.none(), st.sampled_from(["person", "car"]), st.text(max_size=8)), points=points_text,
       setting=st.one_of(page_settings, odd_settings))  # fmt: skip
def test_any_array_and_any_text_or_settings_give_a_result_or_one_clear_error(model, out_dir, picture, task, category,
                                                                             points, setting):  # fmt: skip
    _predict("any values", model, out_dir, picture, task, category, points, setting)


def test_report_how_many_inputs_were_tried():
    print("inputs tried: " + ", ".join(f"{name} {count}" for name, count in sorted(TRIED.items())))
