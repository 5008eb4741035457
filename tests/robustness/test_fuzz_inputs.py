"""Property tests of what users type and files hold: any ``--points`` text, point list, demo points box or
manifest line gives a correct result or one clear ``DiceptionInputError``, never another exception. The number
of inputs tried is printed (``pytest -s``)."""

from __future__ import annotations

import json
import math

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from diception.data.manifest import iter_manifest  # noqa: E402
from diception.demo.callbacks import parse_points_text  # noqa: E402
from diception.errors import DiceptionInputError  # noqa: E402
from diception.tasks.points import parse_published_points, points_from_pixels, points_from_published  # noqa: E402

EXAMPLES = 300
TRIED: dict[str, int] = {}
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**30), 10**30),
                    st.text(max_size=5), st.none(), st.booleans())  # fmt: skip
point_lists = st.one_of(st.lists(st.lists(numbers, max_size=3), max_size=8), numbers, st.text(max_size=20),
                        st.dictionaries(st.text(max_size=3), numbers, max_size=3))  # fmt: skip
points_text = st.one_of(st.text(max_size=60), st.lists(st.tuples(numbers, numbers), max_size=7).map(
    lambda pairs: ";".join(f"{a},{b}" for a, b in pairs)))  # fmt: skip


def _count(name: str) -> None:
    TRIED[name] = TRIED.get(name, 0) + 1


@settings(max_examples=EXAMPLES, deadline=None)
@given(points_text)
def test_any_points_text_is_points_or_one_clear_error(text):
    _count("--points text")
    try:
        points = parse_published_points(text)
    except DiceptionInputError:
        return
    assert 1 <= len(points) <= 5
    assert all(0.0 <= p.x <= 1.0 and 0.0 <= p.y <= 1.0 and math.isfinite(p.x) for p in points)


@settings(max_examples=EXAMPLES, deadline=None)
@given(point_lists, st.tuples(st.integers(1, 5000), st.integers(1, 5000)))
def test_any_point_list_is_points_or_one_clear_error(pairs, size):
    _count("point lists")
    for convert in (lambda: points_from_published(pairs), lambda: points_from_pixels(pairs, size)):
        try:
            points = convert()
        except DiceptionInputError:
            continue
        assert len(points) <= 5 and all(0.0 <= p.x <= 1.0 and 0.0 <= p.y <= 1.0 for p in points)


@settings(max_examples=EXAMPLES, deadline=None)
@given(points_text)
def test_the_demo_points_box_never_breaks(text):
    _count("demo points box")
    try:
        points = parse_points_text(text)
    except DiceptionInputError:
        return
    assert all(len(p) == 2 for p in points)


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), st.integers(),
                                     st.text(max_size=30)),
                           lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                   st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)  # fmt: skip
captions = st.one_of(st.sampled_from(["[[image2depth]]", "[[image2segmentation]]", "[[image2semantic]]",
                                      "[[image2nothing]]"]), json_values)  # fmt: skip
records = st.one_of(json_values, st.fixed_dictionaries(
    {"input": st.one_of(st.text(max_size=40), json_values), "caption": captions},
    optional={"points": point_lists, "target": json_values}))  # fmt: skip
lines = st.one_of(records.map(json.dumps), st.binary(max_size=40).map(lambda b: b.decode("latin-1")))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(lines, min_size=1, max_size=5))
def test_any_manifest_lines_give_samples_or_per_line_errors(tmp_path, manifest_lines):
    _count("manifest lines")
    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join(line.replace("\n", " ") for line in manifest_lines) + "\n", encoding="utf-8")
    errors: list[str] = []
    try:
        samples = list(iter_manifest(path, data_root=tmp_path, skip_bad=True, errors=errors))
    except DiceptionInputError:
        return
    for sample in samples:  # every sample names an image inside the data root that exists
        assert sample.image_path.is_file()
    assert all(isinstance(e, str) and e for e in errors)


def test_report_how_many_inputs_were_tried():
    print("inputs tried: " + ", ".join(f"{name} {count}" for name, count in sorted(TRIED.items())))
