"""The published checkpoint is read safely and strictly, with errors that name the problem and the fix."""

from __future__ import annotations

import os
import shutil

import pytest
import torch

from diception import DiceptionInputError, DiceptionPipeline
from diception.modeling.convert_published import read_published_checkpoint


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


def test_checkpoint_with_arbitrary_objects_is_refused(tmp_path):
    torch.save({"transformer": {}, "evil": print}, tmp_path / "pickle.pth")
    with pytest.raises(DiceptionInputError, match="cannot be read"):
        read_published_checkpoint(tmp_path / "pickle.pth")


def test_foreign_checkpoint_lists_the_expected_parts(tmp_path):
    torch.save({"state_dict": {"w": torch.zeros(1)}}, tmp_path / "other.pth")
    with pytest.raises(DiceptionInputError, match="not a DICEPTION checkpoint.*point_embedder"):
        read_published_checkpoint(tmp_path / "other.pth")


def test_missing_checkpoint_file(tmp_path):
    with pytest.raises(DiceptionInputError, match="does not exist"):
        read_published_checkpoint(tmp_path / "DICEPTION_v1.pth")


def test_missing_transformer_keys_are_listed_not_silently_kept(official_dir, published, tmp_path):
    broken = {**published, "transformer": dict(published["transformer"])}
    del broken["transformer"]["proj_out.weight"]
    torch.save(broken, tmp_path / "partial.pth")
    with pytest.raises(DiceptionInputError, match="missing 1 keys: proj_out.weight"):
        DiceptionPipeline.from_official(official_dir, tmp_path / "partial.pth")


def test_wrong_shapes_and_unexpected_keys_are_listed(official_dir, published, tmp_path):
    broken = {**published, "transformer": dict(published["transformer"])}
    broken["transformer"]["proj_out.bias"] = torch.zeros(7)
    broken["transformer"]["extra.weight"] = torch.zeros(1)
    torch.save(broken, tmp_path / "bad.pth")
    with pytest.raises(DiceptionInputError, match=r"unexpected 1 keys: extra.weight.*proj_out.bias \(7,\)"):
        DiceptionPipeline.from_official(official_dir, tmp_path / "bad.pth")


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
