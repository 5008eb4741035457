import numpy as np
import pytest

from diception.data.coco import iter_coco_entity, iter_coco_pose, iter_coco_semantic, load_coco
from diception.errors import DiceptionInputError

from .data_files import box, compressed_rle, uncompressed_rle, write_image, write_json

H, W = 10, 12


def _instances_file(tmp_path):
    write_image(tmp_path / "img" / "a.jpg", H, W)
    write_image(tmp_path / "img" / "b.jpg", H, W)
    big_cat = box(H, W, 0, 0, 8, 8)  # 64 px, painted first
    small_cat = box(H, W, 2, 2, 4, 4)  # 4 px on top of big_cat
    dog = box(H, W, 6, 9, 10, 12)  # 12 px
    crowd = box(H, W, 9, 0, 10, 4)
    anns = [
        {"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
         "segmentation": [[0, 0, 8, 0, 8, 8, 0, 8]]},  # polygon
        {"id": 2, "image_id": 1, "category_id": 1, "iscrowd": 0, "segmentation": compressed_rle(small_cat)},
        {"id": 3, "image_id": 1, "category_id": 2, "iscrowd": 0, "segmentation": uncompressed_rle(dog)},
        {"id": 4, "image_id": 1, "category_id": 2, "iscrowd": 1, "segmentation": uncompressed_rle(crowd)},
    ]  # fmt: skip
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "height": H, "width": W},
                   {"id": 2, "file_name": "b.jpg", "height": H, "width": W}],
        "annotations": anns,
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
    }  # fmt: skip
    return write_json(tmp_path / "instances.json", data), (big_cat, small_cat, dog, crowd)


def test_entity_samples_paint_every_instance(tmp_path):
    path, (big_cat, small_cat, dog, crowd) = _instances_file(tmp_path)
    (s,) = list(iter_coco_entity(path, tmp_path / "img"))  # image b has no instances: skipped
    assert s.task == "entity" and s.prompt == "[[image2entity]]" and s.sample_id == "1"
    assert s.image_path == tmp_path / "img" / "a.jpg"
    expected = np.zeros((H, W), dtype=np.int32)
    expected[big_cat] = 1
    expected[small_cat] = 2  # smaller instance stays on top
    expected[dog] = 3
    np.testing.assert_array_equal(s.instances, expected)
    assert s.instance_categories == {1: "cat", 2: "cat", 3: "dog"}
    np.testing.assert_array_equal(s.ignore_mask, crowd)
    assert len(list(iter_coco_entity(path, tmp_path / "img", skip_empty=False))) == 2


def test_semantic_samples_per_category_present(tmp_path):
    path, (big_cat, small_cat, dog, crowd) = _instances_file(tmp_path)
    samples = list(iter_coco_semantic(load_coco(path), tmp_path / "img"))
    assert [(s.prompt, s.category) for s in samples] == [
        ("[[image2semantic]] cat", "cat"),
        ("[[image2semantic]] dog", "dog"),
    ]
    cat, dog_s = samples
    assert set(np.unique(cat.instances)) == {0, 1, 2} and cat.instance_categories == {1: "cat", 2: "cat"}
    np.testing.assert_array_equal(dog_s.instances, dog.astype(np.int32))
    assert not cat.ignore_mask.any()  # the crowd region is a dog crowd
    np.testing.assert_array_equal(dog_s.ignore_mask, crowd)
    only = list(iter_coco_semantic(path, tmp_path / "img", categories=["dog"]))
    assert [s.category for s in only] == ["dog"]
    with pytest.raises(DiceptionInputError, match=r"\['zebra'\] are not in"):
        list(iter_coco_semantic(path, tmp_path / "img", categories=["zebra"]))


def _person(x0):
    kp = np.zeros((17, 3), dtype=np.float32)
    kp[:, 0], kp[:, 1], kp[:, 2] = x0 + np.arange(17), np.arange(17) * 0.5, 2
    return kp


def test_pose_samples_keep_labelled_non_crowd_people(tmp_path):
    write_image(tmp_path / "p.jpg", H, W)
    unlabelled = np.zeros((17, 3))
    data = {
        "images": [{"id": 9, "file_name": "p.jpg", "height": H, "width": W}],
        "annotations": [
            {"id": 1, "image_id": 9, "category_id": 1, "iscrowd": 0, "keypoints": _person(0).ravel().tolist(),
             "num_keypoints": 17},
            {"id": 2, "image_id": 9, "category_id": 1, "iscrowd": 0, "keypoints": unlabelled.ravel().tolist()},
            {"id": 3, "image_id": 9, "category_id": 1, "iscrowd": 1, "keypoints": unlabelled.ravel().tolist(),
             "segmentation": uncompressed_rle(box(H, W, 0, 0, 2, 2))},
        ],
        "categories": [{"id": 1, "name": "person"}],
    }  # fmt: skip
    (s,) = list(iter_coco_pose(data, tmp_path))
    assert s.task == "pose" and s.prompt == "[[image2pose]]"
    assert len(s.keypoints) == 1 and s.keypoints[0].shape == (17, 3)
    np.testing.assert_array_equal(s.keypoints[0], _person(0))
    assert s.ignore_mask.sum() == 4
    data["annotations"][0]["keypoints"] = [1.0] * 50
    with pytest.raises(DiceptionInputError, match="50 keypoint numbers"):
        list(iter_coco_pose(data, tmp_path))


def test_load_coco_errors(tmp_path):
    with pytest.raises(DiceptionInputError, match="missing annotations, categories"):
        load_coco({"images": []})
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [\n  1,\n  oops]}')
    with pytest.raises(DiceptionInputError, match=r"bad.json:3: invalid JSON"):
        load_coco(bad)
