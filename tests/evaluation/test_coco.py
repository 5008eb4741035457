import math

import numpy as np
import pytest

from diception.data.rle import decode_segmentation
from diception.errors import DiceptionInputError
from diception.evaluation.coco import (
    COCO_KEYPOINT_SIGMAS,
    encode_mask,
    entity_ap,
    ground_truth_from_instance_maps,
    ground_truth_from_keypoints,
    keypoint_ap,
    match_people,
    object_keypoint_similarity,
    pck,
    per_category_ap,
    results_from_masks,
    segmentation_ap,
    semantic_miou,
)


def _box(h, w, y0, x0, y1, x1):
    m = np.zeros((h, w), dtype=bool)
    m[y0:y1, x0:x1] = True
    return m


def _instance_map():
    imap = np.zeros((120, 160), dtype=np.int32)
    imap[2:22, 2:22] = 1  # 400 px: small
    imap[30:80, 30:80] = 2  # 2500 px: medium
    imap[10:110, 100:160] = 3  # 6000 px... still medium (< 96^2)
    return imap


def _perfect_results(imap, image_id=1, category_id=1):
    masks = [imap == k for k in range(1, imap.max() + 1)]
    return results_from_masks(image_id, masks, [0.9] * len(masks), category_id)


def test_encode_mask_gives_str_counts():
    rle = encode_mask(_box(5, 5, 1, 1, 3, 3))
    assert isinstance(rle["counts"], str) and rle["size"] == [5, 5]


def test_perfect_predictions_score_one():
    imap = _instance_map()
    gt = ground_truth_from_instance_maps([imap])
    stats = segmentation_ap(gt, _perfect_results(imap))
    assert list(stats) == ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]
    assert stats["AP"] == pytest.approx(1.0) and stats["AR100"] == pytest.approx(1.0)
    assert stats["APs"] == pytest.approx(1.0) and stats["APl"] == -1.0  # no large object


def test_false_positive_ranked_first_halves_ap():
    # One 20x20 object; a confident false positive elsewhere, then the true mask.
    # Ranked list: FP (P=0), TP (P=1/2, R=1): interpolated precision is 1/2 at every recall point.
    gt_mask = _box(64, 64, 0, 0, 20, 20)
    gt = ground_truth_from_instance_maps([gt_mask.astype(int)])
    preds = results_from_masks(1, [_box(64, 64, 40, 40, 60, 60), gt_mask], [0.9, 0.8])
    stats = segmentation_ap(gt, preds)
    assert stats["AP"] == pytest.approx(0.5)
    assert stats["APs"] == pytest.approx(0.5)
    assert stats["AR1"] == 0.0  # the single top detection is the false positive
    assert stats["AR100"] == pytest.approx(1.0)
    # Ranked after the true positive, the false positive costs nothing.
    preds[0]["score"] = 0.1
    assert segmentation_ap(gt, preds)["AP"] == pytest.approx(1.0)


def test_no_predictions_score_zero():
    gt = ground_truth_from_instance_maps([_instance_map()])
    assert segmentation_ap(gt, [])["AP"] == 0.0


def test_polygon_ground_truth_and_crowd_defaults():
    # A polygon square 10..30 in a 40x40 image, no area/iscrowd fields: both are filled in.
    gt = {
        "images": [{"id": 7, "height": 40, "width": 40}],
        "annotations": [{"id": 0, "image_id": 7, "category_id": 3,
                         "segmentation": [[10, 10, 30, 10, 30, 30, 10, 30]]}],
        "categories": [{"id": 3, "name": "box"}],
    }  # fmt: skip
    mask = decode_segmentation(gt["annotations"][0]["segmentation"], 40, 40)
    assert mask.sum() == 20 * 20 and mask[10:30, 10:30].all()
    assert segmentation_ap(gt, results_from_masks(7, [mask], [1.0], 3))["AP"] == pytest.approx(1.0)


def test_entity_ap_ignores_categories():
    imap = _instance_map()
    gt = ground_truth_from_instance_maps([imap], [{1: "cat", 2: "dog", 3: "cat"}])
    wrong = _perfect_results(imap, category_id=[2, 1, 2])  # every category wrong
    assert segmentation_ap(gt, wrong)["AP"] == 0.0
    assert entity_ap(gt, wrong)["AP"] == pytest.approx(1.0)


def test_per_category_ap_and_mean():
    m1, m2 = _box(64, 64, 0, 0, 20, 20), _box(64, 64, 30, 30, 50, 50)
    imap = m1 * 1 + m2 * 2
    gt = ground_truth_from_instance_maps([imap], [{1: "cat", 2: "dog"}])
    cat_id = {c["name"]: c["id"] for c in gt["categories"]}
    preds = results_from_masks(1, [m1], [0.9], cat_id["cat"])
    # dog: a confident false positive before the true mask -> AP 0.5
    preds += results_from_masks(1, [_box(64, 64, 0, 40, 10, 60), m2], [0.9, 0.8], cat_id["dog"])
    out = per_category_ap(gt, preds)
    assert out["cat"] == pytest.approx(1.0) and out["dog"] == pytest.approx(0.5)
    assert out["mAP"] == pytest.approx(0.75)
    assert segmentation_ap(gt, preds)["AP"] == pytest.approx(0.75)


def test_semantic_miou_hand_computed():
    imap = np.zeros((4, 4), dtype=int)
    imap[0, :] = 1  # cat, 4 px
    imap[1, :] = 2  # cat, 4 px
    imap[3, :] = 3  # dog, 4 px
    gt = ground_truth_from_instance_maps([imap], [{1: "cat", 2: "cat", 3: "dog"}])
    ids = {c["name"]: c["id"] for c in gt["categories"]}
    cat_pred = _box(4, 4, 0, 0, 2, 2)  # 4 px inside the 8-px cat union: IoU 4/8
    dog_pred = _box(4, 4, 2, 0, 4, 4)  # 8 px over the 4-px dog row: IoU 4/8
    preds = results_from_masks(1, [cat_pred, dog_pred], [0.9, 0.9], [ids["cat"], ids["dog"]])
    preds += results_from_masks(1, [np.ones((4, 4), bool)], [0.1], ids["cat"])  # below threshold
    out = semantic_miou(gt, preds)
    assert out == {"mIoU": 0.5, "IoU/cat": 0.5, "IoU/dog": 0.5}


def _person(x0, y0, size=100.0):
    rng = np.random.default_rng(int(x0))
    kp = np.zeros((17, 3))
    kp[:, 0] = x0 + rng.uniform(0, size, 17)
    kp[:, 1] = y0 + rng.uniform(0, size, 17)
    kp[:, 2] = 2
    kp[[0, 0], [0, 0]] = x0  # pin the box corner
    kp[1, :2] = (x0 + size, y0 + size)
    kp[0, 1] = y0
    return kp


def test_keypoint_ap_perfect_and_shifted():
    people = [_person(10, 10), _person(150, 40)]
    gt = ground_truth_from_keypoints([people], [(200, 300)])
    perfect = [{"image_id": 1, "category_id": 1, "keypoints": p.reshape(-1).tolist(), "score": 0.9} for p in people]
    stats = keypoint_ap(gt, perfect)
    assert stats["AP"] == pytest.approx(1.0) and stats["AR"] == pytest.approx(1.0)
    shifted = [dict(d, keypoints=(np.array(d["keypoints"]) + 6.0).tolist()) for d in perfect]
    lower = keypoint_ap(gt, shifted)
    assert 0.0 < lower["AP"] < 1.0


def test_object_keypoint_similarity_hand_computed():
    gt = np.zeros((17, 3))
    gt[0] = (10.0, 10.0, 2.0)  # only the nose is labelled
    pred = gt[:, :2].copy()
    assert object_keypoint_similarity(pred, gt, area=100.0) == 1.0
    pred[0] = (13.0, 14.0)  # 5 px away
    k = 2 * COCO_KEYPOINT_SIGMAS[0]
    assert object_keypoint_similarity(pred, gt, 100.0) == pytest.approx(math.exp(-25.0 / (2 * 100.0 * k**2)))


def test_match_people_and_pck():
    a, b = _person(10, 10), _person(150, 40)
    pairs = match_people([b[:, :2], a[:, :2]], [a, b], areas=[1e4, 1e4])
    assert pairs == [(0, 1), (1, 0)]
    pred = a.copy()
    pred[:4, 0] += 11.0  # 4 of 17 keypoints beyond 0.1 * 100 px
    pred[4:8, 0] += 9.0  # 4 within
    assert pck(pred[None], a[None], np.array([[10.0, 10.0, 100.0, 100.0]])) == pytest.approx(13 / 17)
    with pytest.raises(DiceptionInputError, match="matched people"):
        pck(pred[None], a[None], np.zeros((2, 4)))


def test_unknown_image_id_and_missing_keys():
    gt = ground_truth_from_instance_maps([_instance_map()])
    with pytest.raises(DiceptionInputError, match="image_id 5"):
        segmentation_ap(gt, _perfect_results(_instance_map(), image_id=5))
    with pytest.raises(DiceptionInputError, match="'categories'"):
        segmentation_ap({"images": [], "annotations": []}, [])
