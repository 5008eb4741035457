"""COCO-protocol scores through pycocotools: mask AP/AR, per-category AP, semantic mIoU, keypoint AP, PCK.

Ground truth is a COCO-format dict (``images``, ``annotations``, ``categories``), built from arrays with
:func:`ground_truth_from_instance_maps` / :func:`ground_truth_from_keypoints` when needed. Predictions are
COCO results lists: ``{"image_id", "category_id", "segmentation": RLE with str counts, "score"}`` for masks
(:func:`diception.data.coco_results.mask_results`, here also ``results_from_masks``) and
``{"image_id", "category_id", "keypoints": 51 floats, "score"}`` for people
(:func:`~diception.data.coco_results.keypoint_results`).
Everything stays in memory and pycocotools' progress prints are silenced.

Entity segmentation is scored class-agnostically (every category collapsed into one, as in Qi et al.,
"Open-World Entity Segmentation", TPAMI 2022); semantic instance segmentation per category.
"""

from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from ..data.coco_results import mask_results as results_from_masks  # noqa: F401 (the evaluation API's name)
from ..data.rle import decode_segmentation, encode_mask, to_rle
from ..errors import DiceptionInputError

SEGM_STAT_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
KEYPOINT_STAT_NAMES = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
# Per-keypoint OKS falloffs of the 17 COCO keypoints (Lin et al., ECCV 2014; cocodataset.org/#keypoints-eval).
COCO_KEYPOINT_SIGMAS = (
    np.array([0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89])
    / 10.0
)
AGNOSTIC_CATEGORY = {"id": 1, "name": "entity"}


# ------------------------------------------------------------------------------------------- array builders
def empty_ground_truth() -> dict[str, Any]:
    """A COCO ground-truth dict with no images yet, for :func:`add_instance_map` to grow."""
    return {"images": [], "annotations": [], "categories": []}


def add_instance_map(
    gt: dict[str, Any], instance_map: np.ndarray, instance_categories: Mapping[int, str] | None = None
) -> int:
    """Append one ``(H, W)`` int instance map (0 = background) to ``gt`` as the next image; returns its id.

    Each instance becomes one annotation with an RLE (not a mask), so a dataset's ground truth grows by a few
    hundred bytes per instance. ``instance_categories`` names instance ids (default ``"entity"``); a new name
    gets the next category id.
    """
    imap = np.asarray(instance_map)
    names = instance_categories or {}
    cat_ids = {c["name"]: c["id"] for c in gt["categories"]}
    image_id = len(gt["images"]) + 1
    gt["images"].append({"id": image_id, "height": int(imap.shape[0]), "width": int(imap.shape[1])})
    for inst in np.unique(imap):
        if inst == 0:
            continue
        name = names.get(int(inst), AGNOSTIC_CATEGORY["name"])
        if name not in cat_ids:
            cat_ids[name] = len(cat_ids) + 1
            gt["categories"].append({"id": cat_ids[name], "name": name})
        m = imap == inst
        rle = encode_mask(m)
        gt["annotations"].append({
            "id": len(gt["annotations"]) + 1, "image_id": image_id, "category_id": cat_ids[name],
            "segmentation": rle, "area": float(m.sum()), "bbox": mask_utils.toBbox(rle).tolist(), "iscrowd": 0,
        })  # fmt: skip
    return image_id


def ground_truth_from_instance_maps(
    instance_maps: Sequence[np.ndarray],
    instance_categories: Sequence[Mapping[int, str]] | None = None,
) -> dict[str, Any]:
    """A COCO ground-truth dict from ``(H, W)`` int instance maps (0 = background), image ids ``1..N``.

    ``instance_categories[i]`` names each instance id of map ``i``; without it every instance is an
    ``"entity"``. Categories get ids ``1..K`` in order of first appearance.
    """
    gt = empty_ground_truth()
    for i, imap in enumerate(instance_maps):
        add_instance_map(gt, imap, instance_categories[i] if instance_categories is not None else None)
    return gt


def ground_truth_from_keypoints(
    people: Sequence[Sequence[np.ndarray]], image_sizes: Sequence[tuple[int, int]]
) -> dict[str, Any]:
    """A COCO person-keypoints ground-truth dict from per-image lists of ``(17, 3)`` ``(x, y, v)`` arrays.

    ``image_sizes`` are ``(height, width)``. Each person's box spans its labelled keypoints and its area
    (the OKS scale) is that box's area, since no segmentation is given.
    """
    if len(people) != len(image_sizes):
        raise DiceptionInputError(f"{len(people)} images of people but {len(image_sizes)} image sizes")
    images, anns = [], []
    for i, (persons, (h, w)) in enumerate(zip(people, image_sizes)):
        images.append({"id": i + 1, "height": int(h), "width": int(w)})
        for kp in persons:
            kp = np.asarray(kp, dtype=np.float64).reshape(17, 3)
            anns.append({
                "id": len(anns) + 1, "image_id": i + 1, "category_id": 1, "iscrowd": 0,
                "keypoints": kp.reshape(-1).tolist(), "num_keypoints": int((kp[:, 2] > 0).sum()),
                "bbox": keypoint_box(kp),
            })  # fmt: skip
            anns[-1]["area"] = anns[-1]["bbox"][2] * anns[-1]["bbox"][3]
    return {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "person"}]}


def keypoint_box(kp: np.ndarray) -> list[float]:
    """COCO ``(x, y, w, h)`` box spanning a person's labelled keypoints (zeros when none is labelled)."""
    vis = kp[kp[:, 2] > 0]
    if len(vis) == 0:
        return [0.0, 0.0, 0.0, 0.0]
    x0, y0 = vis[:, 0].min(), vis[:, 1].min()
    return [float(x0), float(y0), float(vis[:, 0].max() - x0), float(vis[:, 1].max() - y0)]


# ------------------------------------------------------------------------------------------ pycocotools glue
def _quiet() -> contextlib.AbstractContextManager:
    return contextlib.redirect_stdout(io.StringIO())


def _coco_from_dict(dataset: Mapping[str, Any]) -> COCO:
    coco = COCO()
    coco.dataset = dict(dataset)
    with _quiet():
        coco.createIndex()
    return coco


def _prepare_gt(gt: Mapping[str, Any], iou_type: str, class_agnostic: bool) -> dict[str, Any]:
    """A private copy with the fields COCOeval relies on: ids >= 1 (id 0 counts as unmatched in
    ``accumulate``), ``iscrowd``, ``area``, and for keypoints ``num_keypoints`` and ``bbox``."""
    for key in ("images", "annotations", "categories"):
        if key not in gt:
            raise DiceptionInputError(
                f"ground truth lacks the COCO key '{key}' (need images, annotations and categories)"
            )
    data = copy.deepcopy(dict(gt))
    sizes = {img["id"]: (img["height"], img["width"]) for img in data["images"]}
    for k, ann in enumerate(data["annotations"]):
        ann["id"] = k + 1
        ann.setdefault("iscrowd", 0)
        if iou_type == "keypoints":
            kp = np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3)
            ann.setdefault("num_keypoints", int((kp[:, 2] > 0).sum()))
            ann.setdefault("bbox", keypoint_box(kp))
            ann.setdefault("area", float(ann["bbox"][2] * ann["bbox"][3]))
        elif "area" not in ann:
            h, w = sizes[ann["image_id"]]
            ann["area"] = float(mask_utils.area(to_rle(ann["segmentation"], h, w)))
        if class_agnostic:
            ann["category_id"] = AGNOSTIC_CATEGORY["id"]
    if class_agnostic:
        data["categories"] = [dict(AGNOSTIC_CATEGORY)]
    return data


def _load_results(coco_gt: COCO, predictions: Sequence[Mapping[str, Any]], class_agnostic: bool) -> COCO:
    known = set(coco_gt.getImgIds())
    anns = []
    for k, p in enumerate(predictions):
        if p.get("image_id") not in known:
            raise DiceptionInputError(
                f"prediction {k} has image_id {p.get('image_id')!r}, which the ground truth does not list"
            )
        ann = copy.deepcopy(dict(p))
        if "segmentation" in ann:
            ann.pop("bbox", None)  # loadRes would take area from the box; the mask's area is the right one
        if class_agnostic:
            ann["category_id"] = AGNOSTIC_CATEGORY["id"]
        anns.append(ann)
    if not anns:  # loadRes cannot read an empty list
        return _coco_from_dict({"images": coco_gt.dataset["images"], "annotations": [],
                                "categories": coco_gt.dataset["categories"]})  # fmt: skip
    with _quiet():
        return coco_gt.loadRes(anns)


def _run_cocoeval(
    gt: Mapping[str, Any], predictions: Sequence[Mapping[str, Any]], iou_type: str, class_agnostic: bool
) -> COCOeval:
    coco_gt = _coco_from_dict(_prepare_gt(gt, iou_type, class_agnostic))
    coco_dt = _load_results(coco_gt, predictions, class_agnostic)
    evaluator = COCOeval(coco_gt, coco_dt, iouType=iou_type)
    with _quiet():
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


# ------------------------------------------------------------------------------------------------- metrics
def segmentation_ap(
    gt: Mapping[str, Any], predictions: Sequence[Mapping[str, Any]], class_agnostic: bool = False
) -> dict[str, float]:
    """COCO mask AP/AR (``iouType="segm"``): keys ``AP AP50 AP75 APs APm APl AR1 AR10 AR100 ARs ARm ARl``.

    Args:
        gt: COCO ground-truth dict; segmentations as polygons or RLE. ``iscrowd=1`` regions are COCO's
            ignore regions: detections on them are neither true nor false positives.
        predictions: COCO mask results (compressed RLE with str or bytes ``counts``, ``score``).
        class_agnostic: collapse every category into one (entity segmentation).

    Values are in [0, 1]; pycocotools reports -1 where no ground truth falls in an area range.
    """
    stats = _run_cocoeval(gt, predictions, "segm", class_agnostic).stats
    return {name: float(v) for name, v in zip(SEGM_STAT_NAMES, stats)}


def entity_ap(gt: Mapping[str, Any], predictions: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Class-agnostic mask AP/AR for entity segmentation; see :func:`segmentation_ap`."""
    return segmentation_ap(gt, predictions, class_agnostic=True)


def per_category_ap(gt: Mapping[str, Any], predictions: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Mask AP (IoU .50:.95, all areas, 100 detections) per category name, plus ``"mAP"``, their mean.

    Categories without ground truth are left out (COCO marks them -1), as is their share of the mean.
    This is the score of semantic instance segmentation: the model is prompted one category at a time.
    """
    ev = _run_cocoeval(gt, predictions, "segm", class_agnostic=False)
    names = {c["id"]: c["name"] for c in ev.cocoGt.dataset["categories"]}
    out: dict[str, float] = {}
    for k, cid in enumerate(ev.params.catIds):
        prec = ev.eval["precision"][:, :, k, 0, -1]  # [iou thresholds, recall points]
        prec = prec[prec > -1]
        if prec.size:
            out[names[cid]] = float(prec.mean())
    out["mAP"] = float(np.mean(list(out.values()))) if out else float("nan")
    return out


def semantic_miou(
    gt: Mapping[str, Any], predictions: Sequence[Mapping[str, Any]], score_threshold: float = 0.5
) -> dict[str, float]:
    """Semantic mIoU from instance masks: per category, the union of its instances is one semantic mask.

    Intersections and unions are summed over all images before dividing (dataset-level IoU per category).
    Predictions below ``score_threshold`` are dropped; crowd ground truth marks pixels that are ignored.
    Returns ``{"mIoU": mean over categories with a non-empty union, "IoU/<name>": ...}``.
    """
    coco_gt = _coco_from_dict(_prepare_gt(gt, "segm", class_agnostic=False))
    inter: dict[int, int] = {}
    union: dict[int, int] = {}
    preds_by_image: dict[int, list[Mapping[str, Any]]] = {}
    for p in predictions:
        if p.get("score", 1.0) >= score_threshold:
            preds_by_image.setdefault(p["image_id"], []).append(p)
    for img in coco_gt.dataset["images"]:
        h, w = img["height"], img["width"]
        anns = coco_gt.imgToAnns.get(img["id"], [])
        ignore = np.zeros((h, w), dtype=bool)
        for a in anns:
            if a.get("iscrowd", 0):
                ignore |= decode_segmentation(a["segmentation"], h, w)
        gt_sem: dict[int, np.ndarray] = {}
        for a in anns:
            if not a.get("iscrowd", 0):
                m = decode_segmentation(a["segmentation"], h, w)
                gt_sem[a["category_id"]] = gt_sem.get(a["category_id"], False) | m
        pred_sem: dict[int, np.ndarray] = {}
        for p in preds_by_image.get(img["id"], []):
            m = decode_segmentation(p["segmentation"], h, w)
            pred_sem[p["category_id"]] = pred_sem.get(p["category_id"], False) | m
        for cid in set(gt_sem) | set(pred_sem):
            g = gt_sem.get(cid, np.zeros((h, w), dtype=bool)) & ~ignore
            q = pred_sem.get(cid, np.zeros((h, w), dtype=bool)) & ~ignore
            inter[cid] = inter.get(cid, 0) + int(np.count_nonzero(g & q))
            union[cid] = union.get(cid, 0) + int(np.count_nonzero(g | q))
    names = {c["id"]: c["name"] for c in coco_gt.dataset["categories"]}
    out = {f"IoU/{names.get(cid, cid)}": inter[cid] / union[cid] for cid in sorted(union) if union[cid] > 0}
    out = {"mIoU": float(np.mean(list(out.values()))) if out else float("nan"), **out}
    return out


def keypoint_ap(gt: Mapping[str, Any], predictions: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """COCO keypoint AP/AR by OKS (``iouType="keypoints"``).

    Keys: ``AP AP50 AP75 APm APl AR AR50 AR75 ARm ARl``, values in [0, 1].

    ``gt`` annotations need ``keypoints`` (51 numbers, ``v=0`` unlabelled); missing ``num_keypoints``,
    ``bbox`` and ``area`` are filled from the labelled keypoints (area = box area, the OKS scale).
    People with no labelled keypoints are ignored, as in COCO.
    """
    stats = _run_cocoeval(gt, predictions, "keypoints", class_agnostic=False).stats
    return {name: float(v) for name, v in zip(KEYPOINT_STAT_NAMES, stats)}


def object_keypoint_similarity(pred: np.ndarray, gt: np.ndarray, area: float) -> float:
    """COCO OKS of one predicted person against one ground-truth person.

    ``mean over labelled keypoints of exp(-d^2 / (2 * area * (2 * sigma)^2))``; ``pred`` is ``(17, 2|3)``,
    ``gt`` is ``(17, 3)`` with visibility ``v > 0`` marking labelled keypoints. 0.0 if none is labelled.
    """
    pred, gt = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    labelled = gt[:, 2] > 0
    if not labelled.any():
        return 0.0
    d2 = np.sum((pred[:, :2] - gt[:, :2]) ** 2, axis=-1)
    e = d2 / (2.0 * max(area, np.spacing(1)) * (2.0 * COCO_KEYPOINT_SIGMAS) ** 2)
    return float(np.mean(np.exp(-e[labelled])))


def match_people(
    preds: Sequence[np.ndarray], gts: Sequence[np.ndarray], areas: Sequence[float], min_oks: float = 0.5
) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of predicted to ground-truth people by OKS, ``[(pred_idx, gt_idx)]``.

    Predictions are taken in the given order (sort them by score first); each takes the free ground-truth
    person of highest OKS if that OKS reaches ``min_oks``.
    """
    taken: set[int] = set()
    pairs = []
    for i, p in enumerate(preds):
        best, best_j = min_oks, -1
        for j, (g, a) in enumerate(zip(gts, areas)):
            if j not in taken and (s := object_keypoint_similarity(p, g, a)) >= best:
                best, best_j = s, j
        if best_j >= 0:
            taken.add(best_j)
            pairs.append((i, best_j))
    return pairs


def pck(pred: np.ndarray, gt: np.ndarray, bboxes: np.ndarray, alpha: float = 0.1) -> float:
    """Percentage of Correct Keypoints over matched people, as a fraction in [0, 1].

    A labelled keypoint (``v > 0``) is correct when it lies within ``alpha * max(box w, box h)`` of the truth.

    Args:
        pred: ``(N, 17, 2|3)`` predicted keypoints of N matched people (see :func:`match_people`).
        gt: ``(N, 17, 3)`` ground truth ``(x, y, v)``.
        bboxes: ``(N, 4)`` ground-truth person boxes ``(x, y, w, h)``.
        alpha: threshold as a fraction of the box's longer side (default 0.1).
    """
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 17, np.shape(pred)[-1])
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 17, 3)
    bboxes = np.asarray(bboxes, dtype=np.float64).reshape(-1, 4)
    if not (len(pred) == len(gt) == len(bboxes)):
        raise DiceptionInputError(f"pck needs matched people: got {len(pred)} pred, {len(gt)} gt, {len(bboxes)} boxes")
    labelled = gt[..., 2] > 0
    if not labelled.any():
        raise DiceptionInputError("pck got no labelled ground-truth keypoints (all v == 0)")
    dist = np.linalg.norm(pred[..., :2] - gt[..., :2], axis=-1)
    thresh = alpha * np.maximum(bboxes[:, 2], bboxes[:, 3])[:, None]
    return float(np.mean(dist[labelled] <= thresh.repeat(17, axis=1)[labelled]))
