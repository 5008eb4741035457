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

from .stress import scaled  # noqa: E402

EXAMPLES = scaled(300, 3000)  # make stress: ten times more
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8ff"
    "ff3f0005fe02fea7d6a4490000000049454e44ae426082"
)  # a 1x1 RGB PNG
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
# paths into and out of the data root ("OUTSIDE" becomes an absolute path to a file beside the root)
paths = st.sampled_from(["in.png", "./in.png", "sub/../in.png", "../outside.png", "OUTSIDE", "link.png",
                         "loop.png", "in.png\x00.txt", "/", "..", "", "sub/" * 40 + "in.png", "x" * 5000,
                         "é/" * 200 + "in.png"])  # fmt: skip
records = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"input": st.one_of(paths, st.text(max_size=40), json_values), "caption": captions},
        optional={"points": point_lists, "target": st.one_of(json_values, st.fixed_dictionaries({"path": paths}))},
    ),
)
lines = st.one_of(records.map(lambda r: json.dumps(r).encode()), st.binary(max_size=40))  # raw bytes: non-UTF-8


def _data_root(tmp_path) -> tuple:
    """``root/`` with an image and a symlink out of it, an image beside it, and a symlink loop (made once)."""
    root, outside = tmp_path / "root", tmp_path / "outside.png"
    if not root.exists():
        (root / "sub").mkdir(parents=True)
        for image in (root / "in.png", outside):
            image.write_bytes(PNG)
        (root / "link.png").symlink_to(outside)
        (root / "loop.png").symlink_to(root / "loop.png")
    return root, outside


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(lines, min_size=1, max_size=5))
def test_any_manifest_lines_give_samples_or_per_line_errors_and_never_leave_the_root(tmp_path, manifest_lines):
    _count("manifest lines")
    root, outside = _data_root(tmp_path)
    path = root / "fuzz.jsonl"
    text = b"\n".join(line.replace(b"\n", b" ") for line in manifest_lines) + b"\n"
    path.write_bytes(text.replace(b"OUTSIDE", str(outside).encode()))
    errors: list[str] = []
    try:
        samples = list(iter_manifest(path, data_root=root, skip_bad=True, errors=errors))
    except DiceptionInputError:
        return
    for sample in samples:  # every sample names an existing image inside the data root
        assert sample.image_path.is_file() and sample.image_path.resolve().is_relative_to(root.resolve())
        if sample.target_path is not None:
            assert sample.target_path.resolve().is_relative_to(root.resolve())
    assert all(isinstance(e, str) and e and "\n" not in e for e in errors)


def test_report_how_many_inputs_were_tried():
    print("inputs tried: " + ", ".join(f"{name} {count}" for name, count in sorted(TRIED.items())))
