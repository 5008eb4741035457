import base64
import json

import numpy as np
import pytest
from PIL import Image

from diception.data.manifest import iter_manifest, read_manifest
from diception.errors import DiceptionInputError

from .data_files import box, compressed_rle, write_image, write_json, write_sa1b

H, W = 6, 8
MASK = box(H, W, 0, 0, 2, 2)  # an inline RLE target


def _data_root(root):
    write_image(root / "DATA" / "img.jpg", H, W)
    np.save(root / "DATA" / "depth.npy", np.full((H, W), 3.0, dtype=np.float32))
    Image.fromarray(np.full((H, W, 3), [128, 128, 255], dtype=np.uint8)).save(root / "DATA" / "normal.png")
    write_sa1b(root / "DATA", "sa_7", H, W)
    person, dog = box(H, W, 0, 0, 3, 3), box(H, W, 3, 4, 6, 8)
    write_json(root / "DATA" / "sem.json", [
        {"prompt": "person", "segmentation": compressed_rle(person)},
        {"prompt": "dog", "segmentation": [[4, 3, 8, 3, 8, 6, 4, 6]]},
    ])  # fmt: skip
    kp = np.ones((17, 3)).ravel().tolist()
    write_json(root / "DATA" / "pose.json", [{"keypoints": kp}, {"keypoints": kp}])
    return person, dog


def test_json_manifest_reads_every_task(tmp_path):
    person, dog = _data_root(tmp_path)
    rle = compressed_rle(person)
    b64 = {"size": rle["size"], "counts": base64.b64encode(rle["counts"].encode()).decode()}
    records = [
        {"input": "DATA/img.jpg", "caption": "[[image2depth]]", "target": {"path": "DATA/depth.npy"}},
        {"input": "DATA/img.jpg", "caption": "[[image2normal]]", "target": {"path": "DATA/normal.png"}},
        {"input": "DATA/sa_7.jpg", "caption": "[[image2segmentation]]", "target": {"path": "DATA/sa_7.json"}},
        {"input": "DATA/img.jpg", "caption": "[[image2semantic]] person", "target": {"path": "DATA/sem.json"}},
        {"input": "DATA/img.jpg", "caption": "[[image2semantic]]", "target": {"path": "DATA/sem.json"}},
        {"input": "DATA/img.jpg", "caption": "[[image2entity]]", "target": {"path": "DATA/sem.json"}},
        {"input": "DATA/img.jpg", "caption": "[[image2pose]]", "target": {"path": "DATA/pose.json"}},
        {"input": "DATA/img.jpg", "caption": "[[image2pose]]", "target": {"path": "DATA/normal.png"}},
        {"input": "DATA/img.jpg", "caption": "[[image2segmentation]]", "target": rle},
        {"input": "DATA/img.jpg", "caption": "[[image2semantic]] person", "target": b64},
        {"input": "DATA/img.jpg", "caption": "[[image2semantic]] dog"},
    ]
    manifest = write_json(tmp_path / "m" / "eval.json", records)
    s = list(iter_manifest(manifest, data_root=tmp_path))
    tasks = "depth normal segmentation segmentation semantic semantic semantic entity pose pose segmentation"
    assert [x.task for x in s] == [*tasks.split(), "semantic", "semantic"]
    assert s[0].depth.mean() == 3.0 and s[0].valid_mask.all() and s[0].image_path == tmp_path / "DATA/img.jpg"
    np.testing.assert_allclose(s[1].normals[0, 0], [0, 0, 1], atol=0.01)
    assert s[2].sample_id == "sa_7#45" and s[2].points and s[3].mask.sum() == 20
    assert s[4].prompt == "[[image2semantic]] person" and s[4].category == "person"
    np.testing.assert_array_equal(s[4].instances, person.astype(np.int32))
    assert [x.prompt for x in s[5:7]] == ["[[image2semantic]] dog", "[[image2semantic]] person"]
    np.testing.assert_array_equal(s[5].instances, dog.astype(np.int32))
    assert s[7].instance_categories == {1: "person", 2: "dog"}
    assert len(s[8].keypoints) == 2 and s[8].keypoints[0].shape == (17, 3)
    assert s[9].keypoints is None and s[9].target_path == tmp_path / "DATA/normal.png"
    np.testing.assert_array_equal(s[10].mask, person)
    np.testing.assert_array_equal(s[11].instances, person.astype(np.int32))
    assert s[11].instance_categories == {1: "person"}
    assert s[12].instances is None and s[12].category == "dog"
    assert int(s[12].sample_id) > int(s[11].sample_id) > int(s[0].sample_id) == 2  # record start lines


def _bad_jsonl(tmp_path):
    _data_root(tmp_path)
    lines = [
        json.dumps({"input": "DATA/img.jpg", "caption": "[[image2depth]]", "target": {"path": "DATA/depth.npy"}}),
        '{"input": "DATA/img.jpg", "caption": ',  # 2: broken JSON
        json.dumps({"input": "DATA/img.jpg", "caption": "[[image2flow]]"}),  # 3: unknown task
        "",
        json.dumps({"input": "DATA/none.jpg", "caption": "[[image2depth]]"}),  # 5: missing image
        json.dumps({"input": "DATA/img.jpg", "caption": "[[image2depth]]", "target": {"path": "x.npy"}}),  # 6
        json.dumps({"input": "DATA/img.jpg", "caption": "[[image2depth]] cat"}),  # 7: depth takes no category
        json.dumps({"input": "DATA/img.jpg", "caption": "[[image2depth]]", "target": compressed_rle(MASK)}),  # 8
        json.dumps({"caption": "[[image2depth]]"}),  # 9: no input
        json.dumps({"input": "DATA/img.jpg", "caption": "[[image2semantic]]"}),  # 10: no category
        json.dumps({"input": "DATA/img.jpg", "caption": "[[image2normal]]"}),  # 11: fine, no target
    ]
    return write_json(tmp_path / "eval.jsonl", []).with_suffix(".jsonl"), lines


def test_jsonl_bad_records_raise_with_line_numbers(tmp_path):
    path, lines = _bad_jsonl(tmp_path)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DiceptionInputError, match=r"eval\.jsonl:2: invalid JSON"):
        list(iter_manifest(path))


def test_jsonl_skip_bad_collects_one_line_errors(tmp_path):
    path, lines = _bad_jsonl(tmp_path)
    path.write_text("\n".join(lines) + "\n")
    samples, errors = read_manifest(path)
    assert [s.sample_id for s in samples] == ["1", "11"]
    assert [e.split(": ", 1)[0].rsplit(":", 1)[1] for e in errors] == ["2", "3", "5", "6", "7", "8", "9", "10"]
    assert all("\n" not in e for e in errors)
    assert "names no known task" in errors[1] and "DATA/none.jpg does not exist" in errors[2]
    assert "x.npy does not exist" in errors[3] and "takes no category" in errors[4]
    assert "inline RLE target fits" in errors[5] and "no 'input' string" in errors[6]
    assert "needs a category" in errors[7]
    collected: list[str] = []
    assert len(list(iter_manifest(path, skip_bad=True, errors=collected))) == 2 and len(collected) == 8


def test_json_list_errors_point_at_the_record_line(tmp_path):
    write_image(tmp_path / "img.jpg", H, W)
    path = tmp_path / "m.json"
    path.write_text('[\n  {"input": "img.jpg",\n   "caption": "[[image2depth]]"},\n  {"input": "img.jpg"}\n]\n')
    with pytest.raises(DiceptionInputError, match=r"m\.json:4: record has no 'caption' string"):
        list(iter_manifest(path))
    path.write_text('[\n  {"input": "img.jpg", "caption": "[[image2depth]]"}\n  {"input": "x"}\n]')
    with pytest.raises(DiceptionInputError, match=r"m\.json:3: invalid JSON \(expected ','"):
        list(iter_manifest(path))
    path.write_text("[]")
    assert list(iter_manifest(path)) == []
    with pytest.raises(DiceptionInputError, match="manifest .* does not exist"):
        list(iter_manifest(tmp_path / "none.json"))


def test_load_targets_false_keeps_paths(tmp_path):
    _data_root(tmp_path)
    path = write_json(tmp_path / "m.json", [
        {"input": "DATA/img.jpg", "caption": "[[image2depth]]", "target": {"path": "DATA/depth.npy"}}
    ])  # fmt: skip
    (s,) = list(iter_manifest(path, load_targets=False))
    assert s.depth is None and s.target_path == tmp_path / "DATA/depth.npy"
