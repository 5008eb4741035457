import numpy as np
import pytest
from PIL import Image

from diception.data.dense_folder import iter_dense_folder, load_normals
from diception.errors import DiceptionInputError

from .data_files import write_image

H, W = 4, 5


def _depth_folder(root):
    write_image(root / "rgb" / "a.png", H, W)
    write_image(root / "rgb" / "b.jpg", H, W)
    (root / "depth").mkdir()
    depth_a = np.linspace(0.5, 4.0, H * W, dtype=np.float32).reshape(H, W)
    depth_a[0, 0] = 0.0  # no data
    np.save(root / "depth" / "a.npy", depth_a)
    raw_b = np.full((H, W), 2560, dtype=np.uint16)  # 10 m at 1/256
    raw_b[1, 1] = 0
    Image.fromarray(raw_b).save(root / "depth" / "b.png")
    (root / "valid_mask").mkdir()
    mask_a = np.full((H, W), 255, dtype=np.uint8)
    mask_a[3, 4] = 0
    Image.fromarray(mask_a).save(root / "valid_mask" / "a.png")
    return depth_a


def test_depth_folder_npy_png_and_valid_mask(tmp_path):
    depth_a = _depth_folder(tmp_path)
    a, b = list(iter_dense_folder(tmp_path, "depth", depth_scale=1 / 256))
    assert (a.sample_id, b.sample_id) == ("a", "b")
    assert a.prompt == "[[image2depth]]" and a.image_path.name == "a.png" and b.image_path.name == "b.jpg"
    np.testing.assert_array_equal(a.depth, depth_a)
    expected_valid = np.ones((H, W), dtype=bool)
    expected_valid[0, 0] = expected_valid[3, 4] = False  # zero depth, masked out
    np.testing.assert_array_equal(a.valid_mask, expected_valid)
    assert b.depth.dtype == np.float32 and b.depth[0, 0] == pytest.approx(10.0)
    assert b.valid_mask.sum() == H * W - 1 and not b.valid_mask[1, 1]


def test_split_file_selects_and_orders(tmp_path):
    _depth_folder(tmp_path)
    (tmp_path / "split.txt").write_text("# test split\nrgb/b.jpg depth/b.png\n\na\n")
    samples = list(iter_dense_folder(tmp_path, "depth", split="split.txt", depth_scale=1 / 256))
    assert [s.sample_id for s in samples] == ["b", "a"]


def test_png_depth_needs_scale_and_missing_files_are_named(tmp_path):
    _depth_folder(tmp_path)
    with pytest.raises(DiceptionInputError, match="pass depth_scale"):
        list(iter_dense_folder(tmp_path, "depth"))
    (tmp_path / "split.txt").write_text("c\n")
    with pytest.raises(DiceptionInputError, match=r"no image .*rgb/c\.png"):
        list(iter_dense_folder(tmp_path, "depth", split="split.txt"))
    with pytest.raises(DiceptionInputError, match="normal is missing"):
        list(iter_dense_folder(tmp_path, "normal"))
    with pytest.raises(DiceptionInputError, match="task='pose' has no folder reader"):
        list(iter_dense_folder(tmp_path, "pose"))


def test_normal_folder_npy_and_png(tmp_path):
    write_image(tmp_path / "rgb" / "a.png", H, W)
    write_image(tmp_path / "rgb" / "b.png", H, W)
    (tmp_path / "normal").mkdir()
    n = np.zeros((H, W, 3), dtype=np.float32)
    n[..., 2] = 2.0  # not unit: renormalised
    n[0, 0] = 0.0  # no data
    np.save(tmp_path / "normal" / "a.npy", n)
    png = np.full((H, W, 3), 128, dtype=np.uint8)
    png[..., 0] = 255  # (1, ~0, ~0) after (c * 2 - 1)
    png[2, 3] = 0  # black: no data
    Image.fromarray(png).save(tmp_path / "normal" / "b.png")
    a, b = list(iter_dense_folder(tmp_path, "normal"))
    assert a.prompt == "[[image2normal]]" and a.depth is None
    np.testing.assert_allclose(a.normals[1, 1], [0.0, 0.0, 1.0])
    assert not a.valid_mask[0, 0] and a.valid_mask.sum() == H * W - 1
    np.testing.assert_allclose(b.normals[0, 0], [1.0, 0.0, 0.0], atol=0.01)
    np.testing.assert_allclose(np.linalg.norm(b.normals[b.valid_mask], axis=-1), 1.0, atol=1e-5)
    assert not b.valid_mask[2, 3]


def test_channel_first_npy_normals(tmp_path):
    n = np.zeros((3, H, W), dtype=np.float32)
    n[1] = 1.0
    np.save(tmp_path / "n.npy", n)
    normals, valid = load_normals(tmp_path / "n.npy")
    assert normals.shape == (H, W, 3) and valid.all()
