"""Jobs split over shards and processes do every record once, and a record's answer does not depend on the batch
size, the shard or the position it runs in (its noise and points come from the seed and the record itself)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from diception.errors import DiceptionInputError
from diception.jobs.shards import Shard, parse_shard
from diception.tasks import DEPTH, SEGMENTATION

from ..data.data_files import write_sa1b
from ..evaluation.test_runner import dense_depth
from .cli_helpers import FAST, make_image, run

REPO = Path(__file__).resolve().parents[2]


def test_shards_split_every_record_exactly_once():
    shards = [Shard(i, 3, p, 2) for i in range(3) for p in range(2)]
    for position in range(50):
        assert sum(s.holds(position) for s in shards) == 1
    assert [j for j in range(8) if parse_shard("1/4").holds(j)] == [1, 5]
    for bad in ("4/4", "1", "a/b", "-1/2"):
        with pytest.raises(DiceptionInputError, match="INDEX/COUNT"):
            parse_shard(bad)


def _manifest(root: Path) -> Path:
    for k in range(4):
        make_image(root / f"img{k}.png", seed=k)
    write_sa1b(root, "sa_1", 40, 56)
    records = [{"input": f"img{k}.png", "caption": DEPTH.prompt} for k in range(4)]
    records.append({"input": "sa_1.jpg", "caption": SEGMENTATION.prompt, "target": {"path": "sa_1.json"}})
    manifest = root / "m.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in records))
    return manifest


def _arrays(folder: Path) -> dict[str, np.ndarray]:
    files = sorted(folder.rglob("*.npy")) + sorted(folder.rglob("*_mask.png"))
    out = {}
    for path in files:
        name = str(path.relative_to(folder))
        if path.suffix == ".npy":
            out[name] = np.load(path)
        else:
            from PIL import Image

            out[name] = np.asarray(Image.open(path))
    return out


def test_batch_answers_do_not_depend_on_batch_size_or_shard(model_dir, tmp_path, capsys):
    manifest = _manifest(tmp_path / "data")
    common = ["batch", manifest, "--model", model_dir, "--save-npy", *FAST]
    assert run(capsys, *common, "--save-path", tmp_path / "b1", "--batch-size", "1")[0] == 0
    assert run(capsys, *common, "--save-path", tmp_path / "b3", "--batch-size", "3")[0] == 0
    for index in (0, 1):
        code, stdout, _ = run(capsys, *common, "--save-path", tmp_path / "shards", "--shard", f"{index}/2",
                              "--batch-size", "2")  # fmt: skip
        assert code == 0 and f"(shard {index}/2)" in stdout
    one, three, sharded = (_arrays(tmp_path / name) for name in ("b1", "b3", "shards"))
    assert len(one) == 10 and one.keys() == three.keys() == sharded.keys()  # depth: 2 .npy each; segmentation: 2
    for name, value in one.items():
        np.testing.assert_allclose(three[name], value, atol=2e-3, err_msg=name)  # float16 files: their rounding
        np.testing.assert_allclose(sharded[name], value, atol=2e-3, err_msg=name)
    ones = [v for k, v in one.items() if k.startswith("predictions") and k.endswith(".npy")]
    assert not all(np.array_equal(ones[0], v) for v in ones[1:])  # different images, different answers


def test_eval_shards_scored_together_equal_one_run(model_dir, tmp_path, capsys):
    data = dense_depth(tmp_path / "data")
    for k in range(2, 5):
        shutil.copy(data / "rgb" / "img0.png", data / "rgb" / f"img{k}.png")
        shutil.copy(data / "depth" / "img1.npy", data / "depth" / f"img{k}.npy")
    common = ["eval", "--task", "depth", "--data", data, "--model", model_dir, *FAST]
    assert run(capsys, *common, "--output-dir", tmp_path / "all")[0] == 0
    for index in (0, 1):
        code, stdout, _ = run(capsys, *common, "--output-dir", tmp_path / f"s{index}", "--shard", f"{index}/2",
                              "--batch-size", "2")  # fmt: skip
        assert code == 0 and "shard" in stdout
    assert json.loads((tmp_path / "s0" / "summary.json").read_text())["shard"] == "shard 0/2"
    whole = json.loads((tmp_path / "all" / "summary.json").read_text())
    shards = [tmp_path / f"s{index}" / "predictions" for index in (0, 1)]
    merge = ["eval", "--task", "depth", "--data", data, "--quiet"]
    for how, folders in (("--predictions", shards), ("--merge", [tmp_path / "s1", tmp_path / "s0"])):
        code, _, _ = run(capsys, *merge, how, *folders, "--output-dir", tmp_path / how[2:])
        assert code == 0
        merged = json.loads((tmp_path / how[2:] / "summary.json").read_text())
        assert merged["samples"] == whole["samples"] == 5 and "shard" not in merged
        for key, value in whole["metrics"].items():
            assert merged["metrics"][key] == pytest.approx(value, abs=1e-5), key


@pytest.mark.parametrize("given, message", [
    (["s0"], "shard 1/2 missing; pass the report folder of every shard"),
    (["s0", "s0"], "shard 0/2 is given twice"),
    (["all"], "holds a report of no shard"),
    (["nothing"], "is not a finished eval report"),
])  # fmt: skip
def test_eval_merge_refuses_an_incomplete_set_of_shards(given, message, tmp_path, capsys):
    def report(name: str, shard: str | None) -> None:
        (tmp_path / name).mkdir()
        payload = {"task": "depth", "samples": 1, "metrics": {}} | ({"shard": shard} if shard else {})
        (tmp_path / name / "summary.json").write_text(json.dumps(payload))

    report("s0", "shard 0/2")
    report("all", None)
    code, _, err = run(capsys, "eval", "--task", "depth", "--data", tmp_path, "--merge",
                       *[tmp_path / g for g in given])  # fmt: skip
    assert code == 2 and message in err and "Traceback" not in err


@pytest.mark.skipif(shutil.which("accelerate", path=os.path.dirname(sys.executable)) is None,
                    reason="accelerate launcher not installed")  # fmt: skip
def test_eval_under_accelerate_splits_the_work_and_scores_it_once(model_dir, tmp_path, capsys):
    data = dense_depth(tmp_path / "data")
    fast = [str(a) for a in FAST]
    assert run(capsys, "eval", "--task", "depth", "--data", data, "--model", model_dir, "--output-dir",
               tmp_path / "single", *fast)[0] == 0  # fmt: skip
    launcher = os.path.join(os.path.dirname(sys.executable), "accelerate")
    env = dict(os.environ, ACCELERATE_USE_CPU="1", OMP_NUM_THREADS="1")
    command = [launcher, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision",
               "no", "--dynamo_backend", "no", "--main_process_port", "29518", "-m", "diception", "eval", "--task",
               "depth", "--data", str(data), "--model", str(model_dir), "--output-dir", str(tmp_path / "multi"),
               *fast]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("samples scored") == 1  # the main process reports, once
    single = json.loads((tmp_path / "single" / "summary.json").read_text())
    multi = json.loads((tmp_path / "multi" / "summary.json").read_text())
    assert multi["samples"] == single["samples"] == 2
    for key, value in single["metrics"].items():
        assert multi["metrics"][key] == pytest.approx(value, abs=1e-5), key
