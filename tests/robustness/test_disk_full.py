"""A full disk stops a batch with one line and no partial file; the same command after space is freed finishes
the job, and every file is then complete: with an injected ENOSPC, and on a real, small tmpfs where allowed."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from diception import atomic_files
from diception.cli.main import main


def _depth_manifest(folder, count: int, size: tuple[int, int], seed: int):
    """``count`` random pictures in ``folder`` and a JSON Lines manifest asking depth of each."""
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(folder / f"img{i}.png")
        lines.append(json.dumps({"input": f"img{i}.png", "caption": "[[image2depth]]"}))
    manifest = folder / "tasks.jsonl"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def test_a_full_disk_stops_the_batch_cleanly_and_a_rerun_completes(tmp_path, monkeypatch, capsys):
    manifest = _depth_manifest(tmp_path, count=6, size=(40, 48), seed=0)
    out = tmp_path / "out"
    command = ["batch", str(manifest), "--save-path", str(out), "--fast", "--batch-size", "2", "--quiet"]

    real_replace, renamed = os.replace, []

    def filling_disk(src, dst):  # the disk fills up after 7 files
        if len(renamed) >= 7:
            raise OSError(errno.ENOSPC, "No space left on device")
        renamed.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(atomic_files.os, "replace", filling_disk)
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.count("error: ") == 1 and "the disk is full" in err and "Traceback" not in err
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]  # no partial file
    assert 0 < len([p for p in out.rglob("*") if p.is_file()]) == 7

    monkeypatch.setattr(atomic_files.os, "replace", real_replace)  # space freed
    assert main(command) == 0
    npys = sorted(out.rglob("*.npy"))
    assert len(npys) == 6 and all(np.load(p, allow_pickle=False).shape == (40, 48) for p in npys)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def _mount_tmpfs(folder, size: str) -> bool:
    """Mount (or resize) a tmpfs of ``size`` on ``folder``; False where this machine does not allow it."""
    folder.mkdir(exist_ok=True)
    options = f"size={size}" + (",remount" if os.path.ismount(folder) else "")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


def test_a_really_full_file_system_stops_the_batch_cleanly_and_a_rerun_completes(tmp_path, capsys):
    """The same on a real, small file system (a 256 KB tmpfs), where the disk fills at whatever write it fills."""
    if shutil.which("mount") is None or not _mount_tmpfs(tmp_path / "disk", "256k"):
        pytest.skip("mounting a tmpfs needs root; the injected-ENOSPC test above covers the logic")
    disk = tmp_path / "disk"
    try:
        manifest = _depth_manifest(tmp_path, count=24, size=(64, 80), seed=1)
        common = ["batch", str(manifest), "--fast", "--batch-size", "4", "--quiet"]
        assert main([*common, "--save-path", str(tmp_path / "reference")]) == 0
        capsys.readouterr()

        assert main([*common, "--save-path", str(disk / "out")]) == 2
        err = capsys.readouterr().err
        assert err.count("error: ") == 1 and "the disk is full" in err and "Traceback" not in err
        written = {p.relative_to(disk / "out"): p.read_bytes() for p in (disk / "out").rglob("*") if p.is_file()}
        assert written and not [p for p in written if p.name.startswith(".")]  # no partial or temporary file
        for name, data in written.items():  # every file there is complete
            assert data == (tmp_path / "reference" / name).read_bytes(), name

        assert _mount_tmpfs(disk, "64m")  # space freed
        assert main([*common, "--save-path", str(disk / "out")]) == 0
        want = {p.relative_to(tmp_path / "reference"): p.read_bytes()
                for p in (tmp_path / "reference").rglob("*") if p.is_file()}  # fmt: skip
        got = {p.relative_to(disk / "out"): p.read_bytes() for p in (disk / "out").rglob("*") if p.is_file()}
        assert got == want
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)
