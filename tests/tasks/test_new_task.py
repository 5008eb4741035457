"""A new task is one module and one ``register`` call: the toy "invert" task (``toy_invert.py``) runs through
data writing, training, ``predict``, ``batch`` and ``eval`` without any other file knowing it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from accelerate.state import AcceleratorState
from PIL import Image

from diception import DiceptionPipeline, tasks
from diception.cli.main import main
from diception.data.layouts import iter_dataset
from diception.evaluation.runner import evaluate
from diception.training import Trainer

from ..training.helpers import tiny_config
from .toy_invert import InvertTask


@pytest.fixture()
def invert():
    task = tasks.register(InvertTask())
    AcceleratorState._reset_state(True)
    yield task
    tasks.unregister(task.name)
    AcceleratorState._reset_state(True)


def test_a_registered_task_runs_through_training_predict_batch_and_eval(invert, tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["data", "synth", "--out", str(data), "--count", "4", "--size", "32", "--tasks", "invert"]) == 0
    manifest = data / "manifest.json"
    records = json.loads(manifest.read_text())
    assert {r["caption"] for r in records} == {"[[image2invert]]"}
    first = records[0]
    image = np.asarray(Image.open(data / first["input"]), dtype=np.float32) / 255
    target = np.asarray(Image.open(data / first["target"]["path"]), dtype=np.float32) / 255
    np.testing.assert_allclose(target, 1 - image, atol=1 / 255)  # the task wrote its own ground truth

    # training: a tiny model from scratch on the manifest, the new prompt cached like the built-in ones
    config = tiny_config(tmp_path / "run", "data.kind=manifest", "optim.max_steps=2")
    config.data.options, config.data.task_weights = {"path": str(manifest)}, {"invert": 1.0}
    model = Trainer(config).setup().train()
    loss = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert np.isfinite(loss["loss/invert"])
    assert "[[image2invert]]" in DiceptionPipeline.from_pretrained(model).prompt_cache
    capsys.readouterr()

    # predict: the task's files, as the default picture task writes them
    fast = ["--steps", "1", "--guidance", "1", "--processing-resolution", "32", "--quiet"]
    assert main(["predict", str(data / first["input"]), "--task", "invert", "--model", str(model),
                 "--output-dir", str(tmp_path / "pred"), *fast]) == 0  # fmt: skip
    stem = f"{(data / first['input']).stem}_invert"
    assert {p.name for p in (tmp_path / "pred").iterdir()} == {f"{stem}.png", f"{stem}_output.png", f"{stem}.npy"}
    assert np.load(tmp_path / "pred" / f"{stem}.npy").shape == (32, 32, 3)

    # batch: the manifest's captions name the task
    assert main(["batch", str(manifest), "--save-path", str(tmp_path / "batch"), "--model", str(model), *fast]) == 0
    assert "4 done" in capsys.readouterr().out

    # eval: scored by the task's own scorer, and again from the files it wrote
    report = tmp_path / "report"
    assert main(["eval", "--task", "invert", "--data", str(manifest), "--model", str(model), "--output-dir",
                 str(report), *fast]) == 0  # fmt: skip
    summary = json.loads((report / "summary.json").read_text())
    assert summary["samples"] == 4 and {"l1", "psnr"} <= set(summary["metrics"])
    assert main(["eval", "--task", "invert", "--data", str(manifest), "--predictions", str(report / "predictions"),
                 "--output-dir", str(tmp_path / "again"), "--quiet"]) == 0  # fmt: skip
    again = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert again["metrics"]["l1"] == pytest.approx(summary["metrics"]["l1"], abs=1e-6)

    # and a trivial baseline through the same scorer: grey everywhere is not the inverted picture
    baseline = evaluate(iter_dataset(manifest, "invert"), "invert", predictor=invert.baseline)
    assert baseline.summary["l1"] > 0.05
