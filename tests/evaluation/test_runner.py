"""`diception eval` end to end on tiny datasets written in each supported layout.

Perfect predictions (the ground truth through its own encoder and decoder) must score perfectly; the model path
must run, write per-sample rows, a summary and prediction files that ``--predictions`` scores identically.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from diception import tasks
from diception.cli.main import main
from diception.data.layouts import detect_layout, iter_dataset
from diception.evaluation.runner import evaluate, sample_base_name
from diception.tasks.prediction_files import Prediction, write_files

from ..data.data_files import box, compressed_rle, write_image, write_json

SIZE = 32


def write_rgb(path: Path, seed: int = 0, size: int = SIZE) -> Path:
    return write_image(path, size, size, seed)


def dense_depth(root: Path) -> Path:
    for i in range(2):
        write_rgb(root / "rgb" / f"img{i}.png", i)
        yy, xx = np.mgrid[0:SIZE, 0:SIZE]
        depth = (1.0 + yy / SIZE + (i + 1) * xx / SIZE).astype(np.float32)
        (root / "depth").mkdir(parents=True, exist_ok=True)
        np.save(root / "depth" / f"img{i}.npy", depth)
    return root


def dense_normal(root: Path) -> Path:
    write_rgb(root / "rgb" / "img0.png")
    normals = np.zeros((SIZE, SIZE, 3), np.float32)
    normals[: SIZE // 2] = (0, 1, 0)
    normals[SIZE // 2 :] = (0, 0, 1)
    (root / "normal").mkdir(parents=True, exist_ok=True)
    np.save(root / "normal" / "img0.npy", normals)
    return root


def sa1b(root: Path) -> Path:
    write_rgb(root / "sa_7.jpg")
    masks = [box(SIZE, SIZE, 2, 2, 14, 20), box(SIZE, SIZE, 16, 8, 30, 30)]
    anns = [{"id": k + 1, "segmentation": compressed_rle(m), "bbox": [0, 0, 1, 1], "area": int(m.sum()),
             "point_coords": [[float(np.nonzero(m)[1].mean()), float(np.nonzero(m)[0].mean())]]}
            for k, m in enumerate(masks)]  # fmt: skip
    write_json(root / "sa_7.json", {"image": {"image_id": 7, "width": SIZE, "height": SIZE, "file_name": "sa_7.jpg"},
                                    "annotations": anns})  # fmt: skip
    return root


def coco_instances(root: Path) -> Path:
    images, anns = [], []
    boxes = {1: [(2, 2, 14, 14, 1), (18, 16, 30, 30, 2)], 2: [(4, 20, 12, 30, 1)]}
    for image_id, items in boxes.items():
        write_rgb(root / f"{image_id:06d}.png", image_id)
        images.append({"id": image_id, "file_name": f"{image_id:06d}.png", "height": SIZE, "width": SIZE})
        for y0, x0, y1, x1, cat in items:
            m = box(SIZE, SIZE, y0, x0, y1, x1)
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": cat, "iscrowd": 0,
                         "segmentation": compressed_rle(m), "area": int(m.sum()),
                         "bbox": [x0, y0, x1 - x0, y1 - y0]})  # fmt: skip
    cats = [{"id": 1, "name": "person"}, {"id": 2, "name": "car"}]
    return write_json(root / "instances.json", {"images": images, "annotations": anns, "categories": cats})


def coco_keypoints(root: Path) -> Path:
    """One person on a 128 px image (a skeleton must be a few discs wide to be drawn and read back)."""
    size, scale = 4 * SIZE, 4
    write_rgb(root / "000001.png", size=size)
    kp = np.zeros((17, 3), np.float32)
    body = {0: (16, 6), 1: (14, 4), 2: (18, 4), 3: (12, 6), 4: (20, 6), 5: (12, 10), 6: (20, 10),
            7: (10, 15), 8: (22, 15), 11: (13, 18), 12: (19, 18), 13: (12, 23), 14: (20, 23), 15: (12, 28),
            16: (20, 28)}  # fmt: skip
    for k, (x, y) in body.items():
        kp[k] = (x * scale, y * scale, 2)
    ann = {"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "keypoints": kp.ravel().tolist(),
           "num_keypoints": len(body), "bbox": [40, 12, 48, 104], "area": 48 * 104.0,
           "segmentation": compressed_rle(box(size, size, 12, 40, 116, 88))}  # fmt: skip
    data = {"images": [{"id": 1, "file_name": "000001.png", "height": size, "width": size}], "annotations": [ann],
            "categories": [{"id": 1, "name": "person", "keypoints": [], "skeleton": []}]}  # fmt: skip
    return write_json(root / "person_keypoints.json", data)


def depth_manifest(root: Path) -> Path:
    dense_depth(root / "set")
    records = [
        {"input": f"set/rgb/img{i}.png", "caption": "[[image2depth]]", "target": {"path": f"set/depth/img{i}.npy"}}
        for i in range(2)
    ]
    return write_json(root / "manifest.json", records)


DATASETS = {  # (task, builder, layout it must be detected as)
    "depth-dense": ("depth", dense_depth, "dense"),
    "depth-manifest": ("depth", depth_manifest, "manifest"),
    "normal-dense": ("normal", dense_normal, "dense"),
    "segmentation-sa1b": ("segmentation", sa1b, "sa1b"),
    "entity-coco": ("entity", coco_instances, "coco"),
    "semantic-coco": ("semantic", coco_instances, "coco"),
    "pose-coco": ("pose", coco_keypoints, "coco"),
}


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_perfect_predictions_score_perfectly(name, tmp_path):
    task, build, layout = DATASETS[name]
    data = build(tmp_path / "data")
    assert detect_layout(data) == layout
    samples = list(iter_dataset(data, task))
    assert samples
    spec = tasks.get(task)
    for sample in samples:
        image = np.asarray(Image.open(sample.image_path).convert("RGB"))
        picture = spec.target_picture(sample)
        prediction = Prediction(image, picture, spec.decode(picture), spec, image_id=sample.sample_id)
        write_files(prediction, spec.output_files(tmp_path / "pred" / sample_base_name(sample)))
    result = evaluate(samples, task, predictions_dir=tmp_path / "pred")
    expected = {"depth": ("abs_rel", 0.0), "normal": ("mean", 0.0), "segmentation": ("mIoU", 1.0),
                "entity": ("AP", 1.0), "semantic": ("AP", 1.0), "pose": ("AP50", 1.0)}[task]  # fmt: skip
    assert result.summary[expected[0]] == pytest.approx(expected[1], abs=2e-3)
    assert len(result.rows) == len(samples) and not result.failed
    if task == "pose":  # decoded discs sit within ~1 px: OKS clears 0.9 but not every threshold up to 0.95
        assert result.summary["PCK@0.1"] == pytest.approx(1.0) and result.summary["AP"] >= 0.85
    if task == "semantic":
        assert result.summary["mIoU"] == pytest.approx(1.0)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_eval_command_runs_the_model_and_rescores_its_files(name, tmp_path, model_dir, capsys):
    task, build, _ = DATASETS[name]
    data = build(tmp_path / "data")
    out = tmp_path / "report"
    fast = ["--steps", "1", "--guidance", "1", "--processing-resolution", str(SIZE), "--quiet"]
    assert main(["eval", "--task", task, "--data", str(data), "--model", str(model_dir), "--output-dir", str(out),
                 "--batch-size", "2", *fast]) == 0  # fmt: skip
    table = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    with (out / "per_sample.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert summary["task"] == task and summary["samples"] == len(rows) > 0
    assert "metric" in table and "samples scored" in table
    assert main(["eval", "--task", task, "--data", str(data), "--predictions", str(out / "predictions"),
                 "--output-dir", str(tmp_path / "again"), "--quiet"]) == 0  # fmt: skip
    again = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert again["metrics"].keys() == summary["metrics"].keys()
    for key, value in summary["metrics"].items():
        assert again["metrics"][key] == pytest.approx(value, abs=1e-4, nan_ok=True), key


def test_eval_limit_and_missing_predictions(tmp_path, capsys):
    data = dense_depth(tmp_path / "data")
    assert len(list(iter_dataset(data, "depth", limit=1))) == 1
    status = main(["eval", "--task", "depth", "--data", str(data), "--predictions", str(tmp_path / "none"),
                   "--output-dir", str(tmp_path / "out"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2 and "no 'depth' samples were scored" in err and "Traceback" not in err


def test_eval_rejects_a_missing_dataset(tmp_path, capsys):
    assert main(["eval", "--task", "depth", "--data", str(tmp_path / "nope"), "--predictions", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_samples_held_in_memory_are_scored_through_the_model(pipe):
    from dataclasses import replace

    from diception.data.synthetic import render_scene
    from diception.data.synthetic.samples import scene_sample

    samples = [replace(scene_sample(render_scene(seed, 32)), task="depth", prompt=tasks.DEPTH.prompt,
                       sample_id=f"scene{seed}") for seed in (1, 2)]  # fmt: skip
    result = evaluate(samples, "depth", pipe=pipe, num_inference_steps=1, guidance_scale=1.0, processing_resolution=32)
    assert [row["sample_id"] for row in result.rows] == ["scene1", "scene2"] and not result.failed
    assert 0.0 <= result.summary["abs_rel"] < 10


def test_an_interrupted_eval_resumes_from_its_prediction_files(tmp_path, model_dir, capsys):
    data = dense_depth(tmp_path / "data")
    out = tmp_path / "report"
    run = ["eval", "--task", "depth", "--data", str(data), "--model", str(model_dir), "--output-dir", str(out),
           "--steps", "1", "--guidance", "1", "--processing-resolution", str(SIZE), "--quiet"]  # fmt: skip
    assert main([*run, "--limit", "1"]) == 0  # the run that was "interrupted" after one sample
    first = next((out / "predictions").glob("img0_depth*.npy"))
    written = first.stat().st_mtime_ns
    capsys.readouterr()
    assert main(run) == 0
    assert "2 samples scored (1 from existing prediction files" in capsys.readouterr().out
    assert first.stat().st_mtime_ns == written  # scored from its file, not predicted again
    resumed = json.loads((out / "summary.json").read_text())["metrics"]
    assert main([*run, "--overwrite"]) == 0
    assert "from existing" not in capsys.readouterr().out and first.stat().st_mtime_ns != written
    fresh = json.loads((out / "summary.json").read_text())["metrics"]
    assert resumed == pytest.approx(fresh, abs=1e-6)


def test_eval_memory_does_not_grow_with_the_dataset():
    """Samples stream and scorers keep RLEs and sums: 400 samples peak within 15 % of 100 (the scorer that kept
    every instance map and predicted mask grew by ~18 % here)."""
    import subprocess
    import sys

    probe = Path(__file__).with_name("eval_memory_probe.py")

    def peak_kb(count: int) -> int:
        done = subprocess.run([sys.executable, str(probe), str(count)], capture_output=True, text=True, check=True)
        rss, scored = done.stdout.split()
        assert int(scored) == count
        return int(rss)

    small, large = peak_kb(100), peak_kb(400)
    assert large <= 1.15 * small, f"peak RSS {small} kB for 100 samples, {large} kB for 400"


def test_eval_reports_a_corrupt_image_and_scores_the_rest(tmp_path, model_dir, capsys):
    data = dense_depth(tmp_path / "data")
    (data / "rgb" / "img1.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    out = tmp_path / "report"
    status = main(["eval", "--task", "depth", "--data", str(data), "--model", str(model_dir), "--output-dir",
                   str(out), "--steps", "1", "--guidance", "1", "--processing-resolution", str(SIZE),
                   "--quiet"])  # fmt: skip
    printed = capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text())
    assert status == 1 and "Traceback" not in printed.err
    assert summary["samples"] == 1 and len(summary["failed"]) == 1 and "img1" in summary["failed"][0]
    assert "1 samples scored, 1 failed" in printed.out and "error: sample img1" in printed.out
