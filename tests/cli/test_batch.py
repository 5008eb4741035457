"""``diception batch`` honours a record's target as the published batch script does: a segmentation record
without points is prompted on one region of its target (every region with ``--go_through_all_seg_labels``), a
semantic caption without a category takes one from its target, and a record that can be neither is an error for
that record alone."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from diception.cli.batch import BatchCommand
from diception.cli.main import build_parser
from diception.jobs import RunSummary
from diception.tasks import SEGMENTATION, SEMANTIC

from ..data.data_files import box, compressed_rle, write_json, write_sa1b
from .cli_helpers import FAST, make_image, run

H, W = 48, 64


@pytest.fixture()
def data(tmp_path):
    """An SA-1B image with two regions, a mask image, and a semantic annotation file."""
    root = tmp_path / "data"
    sa1b, masks = write_sa1b(root, "sa_3", H, W)
    make_image(root / "street.png", size=(H, W))
    write_json(root / "street.json", [
        {"prompt": "car", "segmentation": compressed_rle(box(H, W, 10, 10, 30, 40))},
        {"prompt": "car", "segmentation": compressed_rle(box(H, W, 30, 40, 46, 60))},
    ])  # fmt: skip
    return root, sa1b, masks


def plan(tmp_path, records: list, *flags: str) -> tuple[list, RunSummary]:
    manifest = write_json(tmp_path / "manifest.json", records)
    args = build_parser().parse_args(["batch", str(manifest), "--save-path", str(tmp_path / "out"), *flags])
    summary = RunSummary(echo=False)
    return BatchCommand(args).plan(summary), summary


def test_a_segmentation_record_without_points_is_prompted_on_one_region_of_its_target(tmp_path, data):
    root, sa1b, masks = data
    record = {"input": "data/sa_3.jpg", "caption": SEGMENTATION.prompt, "target": {"path": "data/sa_3.json"}}
    (job,), summary = plan(tmp_path, [record])
    assert not summary.errors
    points = job.request.points
    assert len(points) == 5 and len(set(points)) == 5  # the published collator's five distinct pixels
    on = [all(m[int(p.y * H), int(p.x * W)] for p in points) for m in masks]
    assert sum(on) >= 1  # all five lie on the chosen region
    assert job.files[0].path.name == f"sa_3_{SEGMENTATION.prompt}.png"
    again, _ = plan(tmp_path, [record])
    assert again[0].request.points == points  # seeded by --seed and the record: a re-run chooses the same
    other = [plan(tmp_path, [record], "--seed", str(seed))[0][0].request.points for seed in range(1, 6)]
    assert any(p != points for p in other)


def test_go_through_all_seg_labels_prompts_every_region(tmp_path, data):
    root, _, masks = data
    record = {"input": "data/sa_3.jpg", "caption": SEGMENTATION.prompt, "target": {"path": "data/sa_3.json"}}
    jobs, _ = plan(tmp_path, [record], "--go_through_all_seg_labels")
    assert [j.files[0].path.name for j in jobs] == [f"sa_3_{k}_{SEGMENTATION.prompt}.png" for k in range(2)]
    for job, mask in zip(jobs, masks):
        assert all(mask[int(p.y * H), int(p.x * W)] for p in job.request.points)


def test_mask_image_and_inline_rle_targets_give_points_and_own_points_win(tmp_path, data):
    root, _, masks = data
    Image.fromarray(np.where(masks[1], 255, 0).astype(np.uint8)).save(root / "mask.png")
    make_image(root / "other.png", size=(H, W))
    records = [
        {"input": "data/sa_3.jpg", "caption": SEGMENTATION.prompt, "target": {"path": "data/mask.png"}},
        {"input": "data/street.png", "caption": SEGMENTATION.prompt, "target": compressed_rle(masks[0])},
        {"input": "data/other.png", "caption": SEGMENTATION.prompt, "points": [[0.5, 0.25]],
         "target": {"path": "data/sa_3.json"}},
    ]  # fmt: skip
    (from_png, from_rle, own), summary = plan(tmp_path, records)
    assert not summary.errors
    assert all(masks[1][int(p.y * H), int(p.x * W)] for p in from_png.request.points)
    assert all(masks[0][int(p.y * H), int(p.x * W)] for p in from_rle.request.points)
    assert own.request.points == ((0.25, 0.5),)


def test_semantic_caption_without_a_category_takes_one_from_its_target(tmp_path, data):
    record = {"input": "data/street.png", "caption": SEMANTIC.prompt, "target": {"path": "data/street.json"}}
    (job,), summary = plan(tmp_path, [record])
    assert not summary.errors and job.request.prompt == SEMANTIC.full_prompt("car")
    assert job.files[0].path.name == f"street_{SEMANTIC.full_prompt('car')}.png"


def test_a_segmentation_record_with_neither_points_nor_a_target_fails_alone(tmp_path, data, model_dir, capsys):
    records = [
        {"input": "data/street.png", "caption": SEGMENTATION.prompt},
        {"input": "data/street.png", "caption": SEGMENTATION.prompt, "target": {"path": "data/none.json"}},
        {"input": "data/sa_3.jpg", "caption": SEGMENTATION.prompt, "target": {"path": "data/sa_3.json"}},
    ]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in records))
    code, stdout, err = run(capsys, "batch", manifest, "--save-path", tmp_path / "out", "--model", model_dir, *FAST)
    assert code == 1 and "1 done, 0 skipped (already done), 2 failed" in stdout
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in err
    assert "manifest line 1" in lines[0] and "needs 'points'" in lines[0]
    assert "manifest line 2" in lines[1] and "none.json" in lines[1]
    assert (tmp_path / "out" / "predictions" / "data" / f"sa_3_{SEGMENTATION.prompt}_mask.png").is_file()


def test_batch_runs_every_region_end_to_end_and_resumes(tmp_path, data, model_dir, capsys):
    record = {"input": "data/sa_3.jpg", "caption": SEGMENTATION.prompt, "target": {"path": "data/sa_3.json"}}
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps(record) + "\n")
    args = ["batch", manifest, "--save-path", tmp_path / "out", "--model", model_dir, "--go_through_all_seg_labels",
            "--batch-size", "2", *FAST]  # fmt: skip
    code, stdout, err = run(capsys, *args)
    assert code == 0, err
    assert "2 done, 0 skipped (already done), 0 failed" in stdout
    code, stdout, _ = run(capsys, *args)
    assert code == 0 and "0 done, 2 skipped (already done), 0 failed" in stdout
