"""The published checkpoint is read safely and as leniently as the published loader (weights it lacks come
from the SD3 folder, named in a warning), with errors that name the problem and the fix."""

from __future__ import annotations

import logging
import os
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from diception import DiceptionInputError, DiceptionPipeline
from diception.modeling.convert_published import PUBLISHED_PARTS, read_published_checkpoint


@pytest.fixture(scope="module")
def published(official_dir) -> dict:
    return torch.load(official_dir / "DICEPTION_v1.pth", map_location="cpu", weights_only=True)


def sd3_copy(official_dir, tmp_path):
    """A lightweight copy of the SD3 folder (configs copied, weights linked) that tests may damage."""

    def copy_or_link(src: str, dst: str) -> None:
        if src.endswith(".json"):
            shutil.copy(src, dst)
        else:
            os.symlink(src, dst)

    target = tmp_path / "sd3"
    shutil.copytree(official_dir, target, copy_function=copy_or_link)
    return target


def test_truncated_checkpoint_is_named_and_not_unpickled(official_dir, tmp_path):
    data = (official_dir / "DICEPTION_v1.pth").read_bytes()
    (tmp_path / "half.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(DiceptionInputError, match="truncated, corrupt or not a PyTorch checkpoint"):
        read_published_checkpoint(tmp_path / "half.pth")


def test_checkpoint_with_arbitrary_objects_is_refused_unless_trusted(tmp_path):
    torch.save({part: {} for part in PUBLISHED_PARTS} | {"evil": print}, tmp_path / "pickle.pth")
    with pytest.raises(DiceptionInputError, match="holds Python objects besides tensors.*--trust-checkpoint"):
        read_published_checkpoint(tmp_path / "pickle.pth")
    with pytest.warns(UserWarning, match="weights_only=False"):
        assert read_published_checkpoint(tmp_path / "pickle.pth", trust=True)["evil"] is print


def test_foreign_checkpoint_lists_the_expected_parts(tmp_path):
    torch.save({"state_dict": {"w": torch.zeros(1)}}, tmp_path / "other.pth")
    with pytest.raises(DiceptionInputError, match="not a DICEPTION checkpoint.*point_embedder"):
        read_published_checkpoint(tmp_path / "other.pth")


def test_missing_checkpoint_file(tmp_path):
    with pytest.raises(DiceptionInputError, match="does not exist"):
        read_published_checkpoint(tmp_path / "DICEPTION_v1.pth")


def test_missing_transformer_weights_are_taken_from_the_sd3_folder_and_named(official_dir, published, tmp_path, caplog):
    partial = {**published, "transformer": dict(published["transformer"])}
    block = [k for k in partial["transformer"] if k.startswith("transformer_blocks.0.")]
    for key in block:
        del partial["transformer"][key]
    torch.save(partial, tmp_path / "partial.pth")
    with caplog.at_level(logging.WARNING, logger="diception"):
        pipe = DiceptionPipeline.from_official(official_dir, tmp_path / "partial.pth")
    (line,) = [r.getMessage() for r in caplog.records if "took them from" in r.getMessage()]
    assert f"lacks {len(block)} transformer weights" in line and "transformer_blocks.0." in line
    base = load_file(str(official_dir / "transformer" / "diffusion_pytorch_model.safetensors"))
    ours = pipe.transformer.state_dict()
    for key in block:
        torch.testing.assert_close(ours[key], base[key], atol=0, rtol=0)  # SD3's, as the published loader keeps
    torch.testing.assert_close(ours["proj_out.weight"], published["transformer"]["proj_out.weight"].float())


def test_wrong_shapes_are_errors_and_unknown_keys_warnings(official_dir, published, tmp_path, caplog):
    extra = {**published, "transformer": dict(published["transformer"])}
    extra["transformer"]["extra.weight"] = torch.zeros(1)
    torch.save(extra, tmp_path / "extra.pth")
    with caplog.at_level(logging.WARNING, logger="diception"):
        DiceptionPipeline.from_official(official_dir, tmp_path / "extra.pth")
    assert any("1 keys the model does not use, ignored: extra.weight" in r.getMessage() for r in caplog.records)
    extra["transformer"]["proj_out.bias"] = torch.zeros(7)
    torch.save(extra, tmp_path / "bad.pth")
    with pytest.raises(DiceptionInputError, match=r"wrong shapes.*proj_out.bias \(7,\)"):
        DiceptionPipeline.from_official(official_dir, tmp_path / "bad.pth")


def test_ddp_and_compile_prefixes_are_stripped(official_dir, published, tmp_path):
    wrapped = {**published, "transformer": {f"module._orig_mod.{k}": v for k, v in published["transformer"].items()}}
    torch.save(wrapped, tmp_path / "wrapped.pth")
    ckpt = read_published_checkpoint(tmp_path / "wrapped.pth")
    assert ckpt["transformer"].keys() == published["transformer"].keys()
    torch.save({f"module.{k}": v for k, v in published.items()}, tmp_path / "whole.pth")  # around the whole dict
    assert read_published_checkpoint(tmp_path / "whole.pth").keys() == published.keys()


def test_a_checkpoint_without_the_positional_table_reproduces_the_published_numbers(
    official_dir, published, tmp_path, golden
):
    """The real file very likely lacks the table (its size says so); SD3's folder holds the one it was trained
    with. Here the folder is given the checkpoint's table and the checkpoint loses it: the golden numbers hold."""
    from ..pipelines.test_faithfulness import ATOL, run_case

    sd3 = sd3_copy(official_dir, tmp_path)
    weights = sd3 / "transformer" / "diffusion_pytorch_model.safetensors"
    base = load_file(str(weights.resolve()))
    base["pos_embed.pos_embed"] = published["transformer"]["pos_embed.pos_embed"].float()
    weights.unlink()
    save_file(base, str(weights))
    del base
    lean = {**published, "transformer": dict(published["transformer"])}
    del lean["transformer"]["pos_embed.pos_embed"]
    torch.save(lean, tmp_path / "lean.pth")
    pipe = DiceptionPipeline.from_official(sd3, tmp_path / "lean.pth")
    pipe.set_progress_bar_config(disable=True)
    for name, value in run_case(pipe, golden, "depth").items():
        torch.testing.assert_close(value, golden[f"depth.{name}"], atol=ATOL, rtol=ATOL, msg=name)


def test_folder_that_is_not_sd3(official_dir, tmp_path):
    sd3 = sd3_copy(official_dir, tmp_path)
    (sd3 / "transformer" / "config.json").unlink()
    with pytest.raises(DiceptionInputError, match="not an SD3 diffusers folder.*transformer/config.json"):
        DiceptionPipeline.from_official(sd3, official_dir / "DICEPTION_v1.pth")


def test_checkpoint_overrides_every_transformer_weight(official_dir, published):
    """The folder's base SD3 transformer has other values; the checkpoint's must win everywhere."""
    pipe = DiceptionPipeline.from_official(official_dir, official_dir / "DICEPTION_v1.pth")
    ours = pipe.transformer.state_dict()
    for key, value in published["transformer"].items():
        torch.testing.assert_close(ours[key], value.float(), atol=0, rtol=0, msg=key)
    torch.testing.assert_close(pipe.point_encoder.fourier_matrix,
                               published["positional_encoding_gaussian_matrix"].float())  # fmt: skip
