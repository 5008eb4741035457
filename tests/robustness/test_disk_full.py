"""A full disk stops a batch with one line and no partial file; the same command after space is freed finishes
the job, and every file is then complete."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
from PIL import Image

from diception import atomic_files
from diception.cli.main import main


def test_a_full_disk_stops_the_batch_cleanly_and_a_rerun_completes(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(0)
    lines = []
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(tmp_path / f"img{i}.png")
        lines.append(json.dumps({"input": f"img{i}.png", "caption": "[[image2depth]]"}))
    manifest = tmp_path / "tasks.jsonl"
    manifest.write_text("\n".join(lines) + "\n")
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
