"""A manifest cannot make a job read files outside its data root (``..``, absolute paths, symlinks out) unless
``--allow-outside-root`` is given; each such record fails alone with one line that names the flag."""

from __future__ import annotations

import json

from ..cli.cli_helpers import FAST, make_image, run


def test_paths_outside_the_data_root_are_refused_unless_allowed(tmp_path, capsys):
    root = tmp_path / "root"
    make_image(root / "in.png")
    outside = [make_image(tmp_path / f"outside{k}.png", seed=k) for k in range(3)]
    (root / "link.png").symlink_to(outside[2])
    inputs = ["in.png", "../outside0.png", str(outside[1]), "link.png"]
    manifest = root / "m.jsonl"
    manifest.write_text("".join(json.dumps({"input": i, "caption": "[[image2depth]]"}) + "\n" for i in inputs))

    code, out, err = run(capsys, "batch", manifest, "--save-path", tmp_path / "refused", *FAST)
    assert code == 1 and "1 done, 0 skipped (already done), 3 failed" in out
    refusals = [line for line in err.splitlines() if line.startswith("error: manifest line")]
    assert len(refusals) == 3 and all("outside the data root" in r and "--allow-outside-root" in r for r in refusals)
    assert "Traceback" not in err

    code, out, _ = run(capsys, "batch", manifest, "--save-path", tmp_path / "allowed", "--allow-outside-root", *FAST)
    assert code == 0 and "4 done" in out
    written = sorted(p.name for p in (tmp_path / "allowed" / "predictions").rglob("*.npy"))
    assert len(written) == 4 and all((tmp_path / "allowed").resolve() in p.resolve().parents
                                     for p in (tmp_path / "allowed").rglob("*"))  # fmt: skip
