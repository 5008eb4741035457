"""The one COCO results builder: masks (decoded instances, plain masks) and decoded persons."""

from __future__ import annotations

import numpy as np
import pycocotools.mask as mask_utils
import pytest

from diception.data.coco_results import keypoint_results, mask_results
from diception.errors import DiceptionInputError
from diception.tasks import instances, pose


def _two_people() -> list[np.ndarray]:
    """Two standing people far apart, keypoints at least 12 px apart (head units of 14 px)."""
    body = 14 * np.array([(0, 0), (0.8, -0.6), (-0.8, -0.6), (1.6, -0.2), (-1.6, -0.2), (1.6, 1.6), (-1.6, 1.6),
                          (2.1, 3.4), (-2.1, 3.4), (2.4, 5.1), (-2.4, 5.1), (1.0, 5.0), (-1.0, 5.0), (1.1, 7.2),
                          (-1.1, 7.2), (1.2, 9.4), (-1.2, 9.4)])  # fmt: skip
    return [np.concatenate([body + (cx, 30), np.full((17, 1), 2.0)], axis=1) for cx in (64, 192)]


def test_mask_results_of_a_decoded_instance():
    ids = np.zeros((64, 64), dtype=np.int32)
    ids[10:30, 5:25] = 7
    (inst,) = instances.decode(instances.encode(ids))
    assert inst.area == 400 and inst.bbox == (5.0, 10.0, 20.0, 20.0)
    assert np.array_equal(mask_utils.decode(inst.rle).astype(bool), ids == 7)
    (entry,) = mask_results(42, [inst], category_id=3)
    assert entry == {"image_id": 42, "category_id": 3, "segmentation": inst.rle, "area": 400.0,
                     "bbox": [5.0, 10.0, 20.0, 20.0], "score": inst.score}  # fmt: skip


def test_keypoint_results_of_decoded_persons():
    found = pose.decode(pose.encode(_two_people(), (256, 256)))
    entries = keypoint_results(9, found)
    assert len(entries) == 2
    for entry, person in zip(entries, found):
        assert entry["image_id"] == 9 and entry["category_id"] == 1 and entry["score"] == person.score
        assert len(entry["keypoints"]) == 51
        np.testing.assert_allclose(entry["keypoints"][0::3], person.keypoints[:, 0], atol=0.01)
        np.testing.assert_allclose(entry["keypoints"][2::3], person.keypoints[:, 3], atol=0.01)


def test_plain_masks_get_scores_and_counts_must_agree():
    mask = np.zeros((8, 8), bool)
    mask[2:4, 1:5] = True
    (entry,) = mask_results("img", [mask], [0.5], category_id=2)
    assert entry["area"] == 8.0 and entry["bbox"] == [1.0, 2.0, 4.0, 2.0] and entry["score"] == 0.5
    with pytest.raises(DiceptionInputError, match="1 masks but 2 scores"):
        mask_results(1, [mask], [0.5, 0.4])
