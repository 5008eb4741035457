"""The ``diception`` command line on the tiny reference model (64 px, 1 step: about a second per call)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pycocotools.mask as mask_utils
import pytest

from diception import DiceptionPipeline
from diception.cli import model_options
from diception.cli.model_options import sampling_settings
from diception.tasks import TASKS

from .cli_helpers import FAST, H, W, assert_one_error_line, make_image, read_png, run


# ----------------------------------------------------------------------------------------------------------
# predict
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("task", list(TASKS))
def test_predict_writes_the_files_of_each_task(task, model_dir, tmp_path, capsys):
    spec = TASKS[task]
    kind = spec.prediction_kind
    image = make_image(tmp_path / "in" / "photo.png")
    extra = ["--category", "person"] if spec.needs_category else []
    extra += ["--points", "0.5,0.5"] if spec.accepts_points else []
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "predict", image, "--task", spec.name, "--model", model_dir,
                            "--output-dir", out, "--save-npy", *extra, *FAST)  # fmt: skip
    assert code == 0, err
    assert "1 done, 0 skipped (already done), 0 failed" in stdout
    base = f"photo_{spec.name}"
    expected = {f"{base}_raw.npy"} | {f.path.name for f in spec.output_files(out / base)}
    assert {p.name for p in out.iterdir()} == expected  # no temporary files left behind

    side = read_png(out / f"{base}.png")
    assert side.shape == (H, 2 * W, 3) and side.dtype == np.uint8
    np.testing.assert_array_equal(side[:, :W], read_png(image))
    raw = np.load(out / f"{base}_raw.npy")
    assert raw.dtype == np.float32 and raw.shape == (H, W, 3)
    if kind == "depth":
        disparity = np.load(out / "photo_depth.npy")
        assert disparity.dtype == np.float32 and disparity.shape == (H, W)
        sixteen = read_png(out / "photo_depth_16bit.png")
        assert sixteen.dtype == np.uint16 and sixteen.shape == (H, W)
        np.testing.assert_allclose(sixteen / 65535.0, disparity, atol=1e-4)
        color = read_png(out / "photo_depth_color.png")
        assert color.dtype == np.uint8 and color.shape == (H, W, 3)
        np.testing.assert_array_equal(side[:, W:], color)
    elif kind == "normal":
        normals = np.load(out / "photo_normal.npy")
        assert normals.dtype == np.float32 and normals.shape == (H, W, 3)
        np.testing.assert_allclose(np.linalg.norm(normals, axis=-1), 1.0, atol=1e-4)
    elif kind == "mask":
        mask = read_png(out / "photo_segmentation_mask.png")
        assert mask.dtype == np.uint8 and mask.shape == (H, W)
        assert set(np.unique(mask)) <= {0, 255}
        np.testing.assert_array_equal(mask == 255, raw.mean(axis=-1) > 0.5)
        (entry,) = json.loads((out / "photo_segmentation_masks.json").read_text())
        rle = {"size": entry["segmentation"]["size"], "counts": entry["segmentation"]["counts"].encode()}
        np.testing.assert_array_equal(mask_utils.decode(rle).astype(bool), mask == 255)
        assert entry["image_id"] == "photo" and 0.0 <= entry["score"] <= 1.0
    else:
        picture = read_png(out / f"{base}_output.png")
        assert picture.dtype == np.uint8 and picture.shape == (H, W, 3)
        np.testing.assert_allclose(picture / 255.0, raw, atol=1 / 255)
        suffix = {"instances": "_masks.json", "keypoints": "_keypoints.json"}.get(kind)
        if suffix:  # COCO results: one entry per decoded instance / person, keyed to the image
            entries = json.loads((out / f"{base}{suffix}").read_text())
            assert isinstance(entries, list) and all(e["image_id"] == "photo" for e in entries)


def test_fast_preset_and_explicit_overrides():
    def settings(**flags):
        base = dict(steps=None, guidance=None, fast=False, resolution=None, seed=42, batch_size=1)
        return sampling_settings(argparse.Namespace(**{**base, **flags}))

    default = settings()
    assert (default.num_inference_steps, default.guidance_scale) == (None, None)  # the model's config decides
    fast = settings(fast=True)
    assert (fast.num_inference_steps, fast.guidance_scale) == (1, 1.0)
    mixed = settings(fast=True, steps=4)
    assert (mixed.num_inference_steps, mixed.guidance_scale) == (4, 1.0)


def test_predict_folder_input_in_batches(model_dir, tmp_path, capsys):
    folder = tmp_path / "images"
    for i, name in enumerate(["b.jpg", "a.png", "c.webp"]):
        make_image(folder / name, seed=i, size=(32 + 8 * i, 48))
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "predict", folder, "--task", "normal", "--model", model_dir,
                            "--output-dir", out, "--batch-size", "2", *FAST)  # fmt: skip
    assert code == 0, err
    assert "3 done" in stdout
    for i, stem in enumerate(["b", "a", "c"]):
        assert np.load(out / f"{stem}_normal.npy").shape == (32 + 8 * i, 48, 3)


def test_predict_skips_existing_outputs_unless_overwrite(model_dir, tmp_path, capsys):
    image = make_image(tmp_path / "x.png")
    args = ["predict", image, "--task", "depth", "--model", model_dir, "--output-dir", tmp_path / "out", *FAST]
    assert run(capsys, *args)[0] == 0
    target = tmp_path / "out" / "x_depth.npy"
    os.utime(target, (1, 1))
    code, stdout, _ = run(capsys, *args)
    assert code == 0 and "0 done, 1 skipped (already done)" in stdout
    assert target.stat().st_mtime == 1
    code, stdout, _ = run(capsys, *args, "--overwrite")
    assert code == 0 and "1 done, 0 skipped" in stdout
    assert target.stat().st_mtime > 1


def test_corrupt_image_is_reported_and_the_others_are_written(model_dir, tmp_path, capsys):
    good = [make_image(tmp_path / "a.png", 1), make_image(tmp_path / "c.png", 2)]
    bad = tmp_path / "b.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "predict", good[0], bad, good[1], "--task", "depth", "--model", model_dir,
                            "--output-dir", out, "--batch-size", "3", *FAST)  # fmt: skip
    assert code == 1
    assert "b.png" in assert_one_error_line(err)
    assert "2 done, 0 skipped (already done), 1 failed" in stdout
    assert (out / "a_depth.png").is_file() and (out / "c_depth.png").is_file()
    assert not list(out.glob("b_*"))


def test_published_flag_names(model_dir, tmp_path, capsys):
    image = make_image(tmp_path / "pub.png")
    code, _, err = run(capsys, "predict", "--image", image, "--task", "depth", "--model", model_dir,
                       "--output_dir", tmp_path / "out", "--num_inference_steps", "1", "--guidance_scale", "1.0",
                       "--processing_resolution", "64", "--quiet")  # fmt: skip
    assert code == 0, err
    assert (tmp_path / "out" / "pub_depth.png").is_file()


def test_published_model_pair_with_an_uncached_prompt(official_dir, tmp_path, capsys):
    image = make_image(tmp_path / "p.png")
    code, _, err = run(capsys, "predict", image, "--prompt", "[[image2semantic]] traffic cone",
                       "--pretrained_model_path", official_dir, "--diception_path", official_dir / "DICEPTION_v1.pth",
                       "--output-dir", tmp_path / "out", *FAST)  # fmt: skip
    assert code == 0, err
    assert (tmp_path / "out" / "p_semantic_output.png").is_file()


def _truncated_checkpoint(official_dir: Path, tmp_path: Path) -> list[str]:
    source = official_dir / "DICEPTION_v1.pth"
    half = tmp_path / "half.pth"
    with open(source, "rb") as src, open(half, "wb") as dst:
        dst.write(src.read(source.stat().st_size // 2))
    return ["--pretrained_model_path", str(official_dir), "--diception_path", str(half)]


def _sd3_without_transformer_config(official_dir: Path, tmp_path: Path) -> list[str]:
    sd3 = tmp_path / "sd3"
    sd3.mkdir()
    for entry in official_dir.iterdir():
        if entry.name != "transformer":
            (sd3 / entry.name).symlink_to(entry)
    (sd3 / "transformer").mkdir()
    return ["--pretrained_model_path", str(sd3), "--diception_path", str(official_dir / "DICEPTION_v1.pth")]


BAD_INPUTS = {
    "missing_image": (["--task", "depth"], "does not exist", "missing.png"),
    "unknown_task": (["--task", "sharpness"], "invalid choice", None),
    "no_task": ([], "--task", None),
    "malformed_points": (["--task", "segmentation", "--points", "0.5;0.2,0.1"], "malformed", None),
    "not_numbers": (["--task", "segmentation", "--points", "a,b"], "malformed", None),
    "six_points": (["--task", "segmentation", "--points", ";".join(["0.5,0.5"] * 6)], "at most 5", None),
    "point_outside": (["--task", "segmentation", "--points", "1.5,0.2"], "outside [0, 1]", None),
    "points_for_depth": (["--task", "depth", "--points", "0.5,0.5"], "takes no points", None),
    "no_category": (["--task", "semantic"], "needs a category", None),
    "uncached_category": (["--task", "semantic", "--category", "traffic cone"], "--add-prompt", None),
    "bad_steps": (["--task", "depth", "--steps", "0"], "at least 1", None),
    "bad_device": (["--task", "depth", "--device", "potato"], "not a torch device", None),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gives_one_error_line(case, model_dir, tmp_path, capsys):
    flags, message, image_name = BAD_INPUTS[case]
    image = tmp_path / image_name if image_name else make_image(tmp_path / "ok.png")
    code, _, err = run(capsys, "predict", image, "--model", model_dir, "--output-dir", tmp_path / "out",
                       *FAST, *flags)  # fmt: skip
    assert code != 0
    assert message in assert_one_error_line(err)


@pytest.mark.parametrize(
    "case, message",
    [
        ("no_model", "no model given"),
        ("not_a_model_folder", "not a DICEPTION model folder"),
        ("half_of_the_pair", "add --diception_path"),
        ("truncated_checkpoint", "truncated"),
        ("sd3_without_transformer_config", "transformer/config.json"),
    ],
)
def test_bad_model_gives_one_error_line(case, message, official_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(model_options, "has_bundled_model", lambda: False)
    model_flags = {
        "no_model": lambda: [],
        "not_a_model_folder": lambda: ["--model", str(tmp_path)],
        "half_of_the_pair": lambda: ["--pretrained_model_path", str(official_dir)],
        "truncated_checkpoint": lambda: _truncated_checkpoint(official_dir, tmp_path),
        "sd3_without_transformer_config": lambda: _sd3_without_transformer_config(official_dir, tmp_path),
    }[case]()
    image = make_image(tmp_path / "ok.png")
    code, _, err = run(capsys, "predict", image, "--task", "depth", *model_flags, "--output-dir", tmp_path / "out",
                       *FAST)  # fmt: skip
    assert code == 2
    assert message in assert_one_error_line(err)


def test_predict_without_model_flags_uses_the_bundled_model(model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(model_options, "has_bundled_model", lambda: True)
    monkeypatch.setattr(model_options, "bundled_model_path", lambda: model_dir)
    image = make_image(tmp_path / "ok.png")
    code, stdout, err = run(capsys, "predict", image, "--task", "depth", "--output-dir", tmp_path / "out", *FAST)
    assert code == 0, err
    assert (tmp_path / "out" / "ok_depth.npy").is_file()


def test_usage_errors_are_one_line(capsys):
    code, _, err = run(capsys)
    assert code == 2
    assert "required" in assert_one_error_line(err)
    code, _, err = run(capsys, "predict", "--no-such-flag")
    assert code == 2
    assert "--no-such-flag" in assert_one_error_line(err)


def test_help_lists_the_registry_tasks(capsys):
    code, stdout, _ = run(capsys, "predict", "--help")
    assert code == 0
    for spec in TASKS.values():
        assert spec.name in stdout


def test_console_entry_point():
    result = subprocess.run([sys.executable, "-m", "diception", "--help"], capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    for command in ("predict", "batch", "convert"):
        assert command in result.stdout


# ----------------------------------------------------------------------------------------------------------
# batch
# ----------------------------------------------------------------------------------------------------------
def test_batch_json_manifest_with_published_flags(model_dir, tmp_path, capsys):
    root = tmp_path / "data"
    make_image(root / "imgs" / "one.png", 1)
    make_image(root / "imgs" / "two.jpg", 2, size=(48, 32))
    records = [
        {"input": "imgs/one.png", "caption": "[[image2depth]]", "target": "ignored.png"},
        {"input": "imgs/two.jpg", "caption": "[[image2normal]]"},
        {"input": "imgs/one.png", "caption": "[[image2semantic]] person"},
        {"input": "imgs/two.jpg", "caption": "[[image2segmentation]]", "points": [[0.5, 0.25], [0.2, 0.9]]},
    ]
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(records, indent=2))
    save = tmp_path / "results"
    code, stdout, err = run(capsys, "batch", "--input_path", manifest, "--data_root_path", root, "--save_path", save,
                            "--model", model_dir, "--num_inference_steps", "1", "--guidance_scale", "1.0",
                            "--batch_size", "3", "--save_npy", "--processing-resolution", "64", "--quiet")  # fmt: skip
    assert code == 0, err
    assert "4 done, 0 skipped (already done), 0 failed" in stdout
    for stem, caption in [(Path(r["input"]).stem, r["caption"]) for r in records]:
        side = read_png(save / "images" / "imgs" / f"{stem}_{caption}.png")  # the image's folder is kept
        assert side.shape[1] == 2 * (W if stem == "one" else 32)
    assert np.load(save / "predictions" / "imgs" / "one_[[image2depth]].npy").shape == (H, W)
    assert read_png(save / "predictions" / "imgs" / "two_[[image2segmentation]]_mask.png").shape == (48, 32)
    depth16 = np.load(save / "npy" / "imgs" / "one_[[image2depth]].npy")
    assert depth16.dtype == np.float16 and depth16.shape == (H, W)
    normal16 = np.load(save / "npy" / "imgs" / "two_[[image2normal]].npy")
    assert normal16.dtype == np.float16 and normal16.shape == (3, 48, 32)


def test_batch_jsonl_reports_bad_lines_and_runs_the_rest(model_dir, tmp_path, capsys):
    make_image(tmp_path / "a.png")
    lines = [
        json.dumps({"input": "a.png", "caption": "[[image2depth]]"}),
        "{not json",
        json.dumps({"input": "a.png"}),
        "",
        json.dumps({"input": "a.png", "caption": "[[image2sharpness]]"}),
        json.dumps({"input": "gone.png", "caption": "[[image2depth]]"}),
        json.dumps({"input": "a.png", "caption": "[[image2segmentation]]", "points": [[0.5, 2.0]]}),
        json.dumps({"input": "a.png", "caption": "[[image2entity]]"}),
    ]
    manifest = tmp_path / "list.txt"  # JSON Lines detected by content
    manifest.write_text("\n".join(lines) + "\n")
    code, stdout, err = run(capsys, "batch", manifest, "--save-path", tmp_path / "out", "--model", model_dir,
                            "--batch-size", "2", *FAST)  # fmt: skip
    assert code == 1
    assert "2 done, 0 skipped (already done), 5 failed" in stdout
    errors = err.strip().splitlines()
    assert "Traceback" not in err
    assert [e.split(":")[1].strip() for e in errors] == [f"manifest line {n}" for n in (2, 3, 5, 6, 7)]
    assert all(e.startswith("error: ") for e in errors)
    assert "gone.png" in errors[3]
    assert (tmp_path / "out" / "images" / "a_[[image2entity]].png").is_file()


def test_batch_resumes_where_it_stopped(model_dir, tmp_path, capsys):
    for name in ("p", "q", "r"):
        make_image(tmp_path / f"{name}.png")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps({"input": f"{n}.png", "caption": "[[image2depth]]"}) + "\n"
                                for n in ("p", "q", "r")))  # fmt: skip
    args = ["batch", manifest, "--save-path", tmp_path / "out", "--model", model_dir, *FAST]
    assert run(capsys, *args)[0] == 0
    images = tmp_path / "out" / "images"
    for path in images.iterdir():
        os.utime(path, (1, 1))
    (tmp_path / "out" / "predictions" / "q_[[image2depth]]_16bit.png").unlink()  # as if interrupted mid-record
    code, stdout, _ = run(capsys, *args)
    assert code == 0
    assert "1 done, 2 skipped (already done), 0 failed" in stdout
    mtimes = {p.name: p.stat().st_mtime for p in images.iterdir()}
    assert mtimes["q_[[image2depth]].png"] > 1
    assert mtimes["p_[[image2depth]].png"] == mtimes["r_[[image2depth]].png"] == 1


def test_batch_keeps_equal_stems_in_different_folders_apart_and_writes_only_the_named_outputs(
    model_dir, tmp_path, capsys
):
    root = tmp_path / "data"
    for folder, seed in (("cam_a", 1), ("cam_b", 2)):
        make_image(root / folder / "0001.png", seed)
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps({"input": f"{f}/0001.png", "caption": "[[image2depth]]"}) + "\n"
                                for f in ("cam_a", "cam_b")))  # fmt: skip
    save = tmp_path / "out"
    code, stdout, err = run(capsys, "batch", manifest, "--data_root_path", root, "--save-path", save,
                            "--model", model_dir, "--outputs", "npy", *FAST)  # fmt: skip
    assert code == 0, err
    assert "2 done, 0 skipped (already done), 0 failed" in stdout
    written = sorted(p.relative_to(save).as_posix() for p in save.rglob("*") if p.is_file())
    assert written == ["predictions/cam_a/0001_[[image2depth]].npy", "predictions/cam_b/0001_[[image2depth]].npy"]
    a, b = (np.load(save / "predictions" / f / "0001_[[image2depth]].npy") for f in ("cam_a", "cam_b"))
    assert not np.array_equal(a, b)  # two images, two predictions: neither overwrote the other


def test_predict_outputs_selects_files_and_rejects_unknown_names(model_dir, tmp_path, capsys):
    image = make_image(tmp_path / "photo.png")
    out = tmp_path / "out"
    code, _, err = run(capsys, "predict", image, "--task", "depth", "--model", model_dir, "--output-dir", out,
                       "--outputs", "png16,side", *FAST)  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["photo_depth.png", "photo_depth_16bit.png"]
    code, _, err = run(capsys, "predict", image, "--task", "depth", "--model", model_dir, "--output-dir", out,
                       "--outputs", "npy,heatmap", *FAST)  # fmt: skip
    assert code == 2
    line = assert_one_error_line(err)
    assert "heatmap" in line and "depth: side npy png16 color" in line
    code, _, err = run(capsys, "predict", image, "--task", "normal", "--model", model_dir, "--output-dir", out,
                       "--outputs", "png16", *FAST)  # fmt: skip
    assert code == 2
    assert "names no file of task 'normal'" in assert_one_error_line(err)


def test_batch_unreadable_json_manifest_is_one_line(model_dir, tmp_path, capsys):
    manifest = tmp_path / "m.json"
    manifest.write_text('[{"input": "a.png", "caption": "[[image2depth]]"},\n oops]')
    code, _, err = run(capsys, "batch", manifest, "--save-path", tmp_path / "out", "--model", model_dir, *FAST)
    assert code == 2
    assert "line 2" in assert_one_error_line(err)


# ----------------------------------------------------------------------------------------------------------
# convert and file writing
# ----------------------------------------------------------------------------------------------------------
def test_convert_writes_a_loadable_folder_and_adds_prompts(official_dir, tmp_path, capsys):
    out = tmp_path / "model"
    code, _, err = run(capsys, "convert", "--sd3", official_dir, "--checkpoint", official_dir / "DICEPTION_v1.pth",
                       "--out", out, "--add-prompt", "[[image2semantic]] traffic cone", "--quiet")  # fmt: skip
    assert code == 0, err
    assert not out.with_name("model.partial").exists()
    pipe = DiceptionPipeline.from_pretrained(out)
    assert "[[image2semantic]] traffic cone" in pipe.prompt_cache and not pipe.has_text_encoders

    code, _, err = run(capsys, "convert", "--sd3", official_dir, "--checkpoint", official_dir / "DICEPTION_v1.pth",
                       "--out", out, "--quiet")  # fmt: skip
    assert code == 2 and "--overwrite" in assert_one_error_line(err)

    code, _, err = run(capsys, "convert", "--model", out, "--sd3", official_dir, "--out", out,
                       "--add-prompt", "[[image2semantic]] lamp post", "--quiet")  # fmt: skip
    assert code == 0, err
    cache = DiceptionPipeline.from_pretrained(out).prompt_cache
    assert {"[[image2semantic]] traffic cone", "[[image2semantic]] lamp post"} <= set(cache.prompts)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_convert_rejects_a_prompt_without_a_task(official_dir, tmp_path, capsys):
    code, _, err = run(capsys, "convert", "--sd3", official_dir, "--checkpoint", official_dir / "DICEPTION_v1.pth",
                       "--out", tmp_path / "m", "--add-prompt", "a cat")  # fmt: skip
    assert code == 2 and "names no known task" in assert_one_error_line(err)


def test_convert_names_the_weights_taken_from_sd3_in_one_warning_line(official_dir, tmp_path, capsys):
    import torch

    published = torch.load(official_dir / "DICEPTION_v1.pth", map_location="cpu", weights_only=True)
    del published["transformer"]["pos_embed.pos_embed"]
    torch.save(published, tmp_path / "lean.pth")
    code, _, err = run(capsys, "convert", "--sd3", official_dir, "--checkpoint", tmp_path / "lean.pth",
                       "--out", tmp_path / "model", "--quiet")  # fmt: skip
    assert code == 0
    (line,) = err.strip().splitlines()
    assert line.startswith("warning: DICEPTION_v1.pth lacks 1 transformer weights") and "pos_embed.pos_embed" in line


def test_a_checkpoint_with_python_objects_asks_for_trust(official_dir, tmp_path, capsys):
    import torch

    from diception.modeling.convert_published import PUBLISHED_PARTS

    torch.save({part: {} for part in PUBLISHED_PARTS} | {"hook": print}, tmp_path / "pickled.pth")
    code, _, err = run(capsys, "convert", "--sd3", official_dir, "--checkpoint", tmp_path / "pickled.pth",
                       "--out", tmp_path / "model", "--quiet")  # fmt: skip
    assert code == 2 and "--trust-checkpoint" in assert_one_error_line(err)


def _stored_dtypes(folder: Path) -> dict[str, str]:
    from safetensors import safe_open

    out = {}
    for path in sorted(folder.glob("*/*.safetensors")):
        with safe_open(str(path), framework="pt") as weights:
            out[path.parent.name] = weights.get_slice(next(iter(weights.keys()))).get_dtype()
    return out


def test_convert_writes_bf16_by_default_and_adding_prompts_keeps_the_folders_dtype(official_dir, tmp_path, capsys):
    out = tmp_path / "model"
    pth = official_dir / "DICEPTION_v1.pth"
    assert run(capsys, "convert", "--sd3", official_dir, "--checkpoint", pth, "--out", out, "--quiet")[0] == 0
    assert set(_stored_dtypes(out).values()) == {"BF16"}  # as the published weights
    assert run(capsys, "convert", "--model", out, "--sd3", official_dir, "--out", out, "--add-prompt",
               "[[image2semantic]] lamp post", "--quiet")[0] == 0  # fmt: skip
    assert set(_stored_dtypes(out).values()) == {"BF16"}
    assert run(capsys, "convert", "--sd3", official_dir, "--checkpoint", pth, "--out", tmp_path / "f32", "--dtype",
               "float32", "--quiet")[0] == 0  # fmt: skip
    assert set(_stored_dtypes(tmp_path / "f32").values()) == {"F32"}
