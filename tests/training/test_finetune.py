"""``diception finetune`` end to end on the bundled model: example pairs -> an adapter folder (no pickles) ->
``predict``, ``eval`` and ``load_adapter`` with ``--adapter``; the task is learned (IoU rises); a bad DATA
folder is one clear line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from diception import tasks
from diception.cli.main import main

H, W = 48, 64


def write_pairs(root, count: int = 8, target_size=(W, H)):
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "targets").mkdir()
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(root / "images" / f"p{i}.png")
        mask = np.zeros((target_size[1], target_size[0]), np.uint8)
        mask[:, : target_size[0] // 2] = 255  # the task: the left half
        Image.fromarray(mask).save(root / "targets" / f"p{i}.png")
    return root


@pytest.fixture
def clean_registry():
    yield
    for name in ("left_half",):
        if name in tasks.TASKS:
            tasks.unregister(name)


def test_finetune_writes_an_adapter_that_predict_eval_and_the_pipeline_use(tmp_path, capsys, clean_registry):
    data = write_pairs(tmp_path / "pairs")
    out = tmp_path / "adapter"
    assert main(["finetune", "--data", str(data), "--task-name", "left_half", "--kind", "mask", "--steps", "40",
                 "--lr", "5e-3", "--batch-size", "4", "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "training " in printed and "%)" in printed  # the trainable share, at the start
    config = json.loads((out / "task_adapter.json").read_text())
    training = config["training"]
    assert config["task"] == {"name": "left_half", "prompt": "[[image2left_half]]", "kind": "mask",
                              "description": "left_half (mask map taught from examples)"}  # fmt: skip
    assert training["pairs"] == 8 and training["learned_prompt"] and 0 < training["trainable_fraction"] < 0.2
    assert training["iou_after"] > training["iou_before"]  # it learned the task
    assert (out / "README.md").read_text().count("before") == 1
    assert not [p for p in out.rglob("*") if p.suffix in (".bin", ".pt", ".pth", ".pkl", ".ckpt")]

    tasks.unregister("left_half")  # a new process: --adapter registers the task again
    assert main(["predict", str(data / "images" / "p0.png"), "--task", "left_half", "--adapter", str(out),
                 "--output-dir", str(tmp_path / "pred"), "--quiet"]) == 0  # fmt: skip
    assert (tmp_path / "pred" / "p0_left_half_mask.png").is_file()
    assert main(["eval", "--task", "left_half", "--data", str(data), "--adapter", str(out), "--output-dir",
                 str(tmp_path / "eval"), "--quiet"]) == 0  # fmt: skip
    summary = json.loads((tmp_path / "eval" / "summary.json").read_text())
    assert summary["samples"] == 8 and summary["metrics"]["iou"] == pytest.approx(training["iou_after"], abs=1e-6)

    from diception.bundled import bundled_model_path
    from diception.pipelines import DiceptionPipeline

    pipe = DiceptionPipeline.from_pretrained(bundled_model_path())
    task = pipe.load_adapter(out)
    prediction = pipe(np.asarray(Image.open(data / "images" / "p1.png")), task.name).prediction[0]
    assert prediction.mask.shape == (H, W) and prediction.rle["size"] == [H, W]


@pytest.mark.parametrize("case, message", [
    ("missing target", "have no target in"),
    ("size mismatch", "image 64x48 but target 32x24"),
    ("no pairs", "holds no example pair"),
    ("no folder", "does not exist"),
])  # fmt: skip
def test_a_bad_data_folder_is_one_clear_line(case, message, tmp_path, capsys, clean_registry):
    data = tmp_path / "pairs"
    if case == "missing target":
        write_pairs(data)
        (data / "targets" / "p3.png").unlink()
    elif case == "size mismatch":
        write_pairs(data, target_size=(W // 2, H // 2))
    elif case == "no pairs":
        write_pairs(data, count=0)
    code = main(["finetune", "--data", str(data), "--task-name", "left_half", "--kind", "mask", "--steps", "1",
                 "--out", str(tmp_path / "adapter")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_shipped_sd3_medium_recipe_reads_and_a_bad_key_is_named(tmp_path):
    from pathlib import Path

    from diception.errors import DiceptionInputError
    from diception.training.finetune import lora_targets, read_recipe

    recipe = read_recipe(Path(__file__).resolve().parents[2] / "configs" / "fewshot_sd3_medium.yaml")
    assert recipe["rank"] == 128 and recipe["lr"] == 2e-5 and recipe["batch_size"] == 8
    assert lora_targets(tuple(recipe["targets"].split(","))) == ["to_q", "to_k", "to_v", "add_q_proj", "add_k_proj",
                                                                 "add_v_proj"]  # fmt: skip
    (tmp_path / "bad.yaml").write_text("rank: 4\nlearning_rate: 1\n")
    with pytest.raises(DiceptionInputError, match="unknown key\\(s\\) learning_rate; valid: rank"):
        read_recipe(tmp_path / "bad.yaml")


def test_a_model_with_text_encoders_encodes_the_new_prompt_instead_of_learning_it(official_dir, tmp_path,
                                                                                   clean_registry):  # fmt: skip
    import torch
    from safetensors.torch import load_file

    from diception.pipelines import DiceptionPipeline

    pipe = DiceptionPipeline.from_official(official_dir, official_dir / "DICEPTION_v1.pth", with_text_encoders=True)
    pipe.save_pretrained(tmp_path / "model")
    data = write_pairs(tmp_path / "pairs", count=2)
    out = tmp_path / "adapter"
    assert main(["finetune", "--data", str(data), "--task-name", "left_half", "--kind", "mask", "--model",
                 str(tmp_path / "model"), "--steps", "1", "--batch-size", "1", "--rank", "2", "--resolution", "64",
                 "--out", str(out)]) == 0  # fmt: skip
    assert json.loads((out / "task_adapter.json").read_text())["training"]["learned_prompt"] is False
    stored = load_file(str(out / "prompt_embedding.safetensors"))["prompt_embeds"]
    encoded, _ = pipe.encode_prompt(["[[image2left_half]]"])
    torch.testing.assert_close(stored, encoded[0].float(), atol=1e-5, rtol=1e-4)


def test_batch_runs_a_taught_task_from_a_manifest(tmp_path, clean_registry):
    from diception.bundled import bundled_model_path
    from diception.pipelines import DiceptionPipeline
    from diception.pipelines.task_adapter import TaskAdapter, save_task_adapter
    from diception.training.config import LoraConfig
    from diception.training.lora import add_lora

    pipe = DiceptionPipeline.from_pretrained(bundled_model_path())
    add_lora(pipe.transformer, LoraConfig(rank=2), "left_half")
    embeds, pooled = pipe.prompt_cache.lookup([""])
    save_task_adapter(TaskAdapter("left_half", "[[image2left_half]]", "mask", embeds[0], pooled[0]), pipe.transformer,
                      tmp_path / "adapter")  # fmt: skip
    write_pairs(tmp_path / "pairs", count=2)
    manifest = tmp_path / "pairs" / "tasks.jsonl"
    manifest.write_text("".join(json.dumps({"input": f"images/p{i}.png", "caption": "[[image2left_half]]"}) + "\n"
                                for i in range(2)))  # fmt: skip
    assert main(["batch", str(manifest), "--save-path", str(tmp_path / "out"), "--adapter", str(tmp_path / "adapter"),
                 "--quiet"]) == 0  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "out" / "predictions" / "images").glob("*_mask.png")) == [
        "p0_[[image2left_half]]_mask.png", "p1_[[image2left_half]]_mask.png"]  # fmt: skip
