"""Files and folders are written under a temporary name and renamed: complete or absent, never partial."""

from __future__ import annotations

import os
import stat

import pytest

from diception.atomic_files import replace_folder_atomically, write_atomically
from diception.errors import DiceptionInputError


def test_write_atomically_never_leaves_a_partial_file(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")

    def failing(stream):
        stream.write(b"half")
        raise DiceptionInputError("boom")

    with pytest.raises(DiceptionInputError, match="boom"):
        write_atomically(target, failing)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
    write_atomically(target, lambda stream: stream.write(b"new"))
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_written_files_get_the_usual_permissions_and_the_umask_is_untouched(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomically(tmp_path / "a" / "f.txt", lambda stream: stream.write(b"x"))
        assert stat.S_IMODE((tmp_path / "a" / "f.txt").stat().st_mode) == 0o640  # 0666 minus the umask
        assert os.umask(0o027) == 0o027  # writing did not change it
    finally:
        os.umask(old)


def test_replace_folder_swaps_in_a_complete_folder_only(tmp_path):
    folder = tmp_path / "model"

    def build(version: str):
        def write(partial):
            partial.mkdir()
            (partial / "weights").write_text(version)

        return write

    replace_folder_atomically(folder, build("one"))
    replace_folder_atomically(folder, build("two"))
    assert (folder / "weights").read_text() == "two"

    def broken(partial):
        partial.mkdir()
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        replace_folder_atomically(folder, broken)
    assert (folder / "weights").read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
