"""Output names built from manifest fields never leave the output folder and always fit the file system."""

from __future__ import annotations

from pathlib import Path

import pytest

from diception.cli.batch import output_name

HOSTILE_CAPTIONS = ["[[image2depth]]", "../../../etc/passwd", "a/b\\c", "nul\x00byte", "tab\tand\nnewline",
                    "é" * 300, "x" * 1000, "..", "/absolute", "[[image2semantic]] traffic cone"]  # fmt: skip
HOSTILE_INPUTS = ["img.png", "sub/img.png", "../outside.png", "sub/../../outside.png", "/abs/elsewhere.png",
                  "deep/" * 30 + "img.png"]  # fmt: skip


@pytest.mark.parametrize("caption", HOSTILE_CAPTIONS)
@pytest.mark.parametrize("given", HOSTILE_INPUTS)
def test_names_stay_inside_the_output_folder_and_fit(tmp_path, given, caption):
    root, out = tmp_path / "data", tmp_path / "out"
    root.mkdir()
    image = root / given if not given.startswith("/") else Path(given)
    name = output_name(image, caption, None, root)
    assert not name.is_absolute() and ".." not in name.parts
    assert (out / name).resolve().is_relative_to(out.resolve())
    assert all(len(part.encode("utf-8")) <= 255 - len("_depth_16bit.png") for part in name.parts)
    assert "\x00" not in str(name) and "\n" not in str(name)


def test_distinct_long_captions_keep_distinct_names(tmp_path):
    a = output_name(tmp_path / "img.png", "x" * 500 + "a", None, tmp_path)
    b = output_name(tmp_path / "img.png", "x" * 500 + "b", None, tmp_path)
    assert a != b
