"""`diception data synth` writes scenes that the manifest reader, `batch` and `eval` read like real data."""

from __future__ import annotations

import json

from diception.cli.main import main
from diception.data import read_manifest


def test_data_synth_writes_a_readable_manifest(tmp_path, capsys):
    out = tmp_path / "synth"
    assert main(["data", "synth", "--out", str(out), "--count", "2", "--size", "48", "--tasks", "depth",
                 "segmentation"]) == 0  # fmt: skip
    assert "wrote 2 test scenes" in capsys.readouterr().out
    records = json.loads((out / "manifest.json").read_text())
    assert {r["caption"] for r in records} == {"[[image2depth]]", "[[image2segmentation]]"}
    samples, errors = read_manifest(out / "manifest.json")
    assert not errors and {s.task for s in samples} == {"depth", "segmentation"}
    assert all(s.depth is not None and s.depth.shape == (48, 48) for s in samples if s.task == "depth")


def test_data_synth_rejects_a_bad_count(tmp_path, capsys):
    assert main(["data", "synth", "--out", str(tmp_path), "--count", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: --count")
