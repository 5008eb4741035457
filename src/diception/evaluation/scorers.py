"""Scorers: they collect one task's predictions over a dataset and give per-sample rows and a summary.

Each task picks its scorer (``Task.scorer()``); these are the kinds the six DICEPTION tasks use. A scorer has
``add(sample, prediction) -> row`` and ``summary() -> metrics``. What a scorer keeps grows by a few numbers (or
a few RLE strings) per sample, never by a picture or a mask, so an evaluation's memory does not grow with the
dataset's pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..data.coco_results import keypoint_results, mask_results
from ..data.sample import Sample
from . import coco, segmentation


class PerImageScorer:
    """Scores every image with ``metric(prediction, sample) -> dict`` and averages the rows (NaN-aware): a
    running sum and count of the non-NaN values per metric."""

    def __init__(self, metric: Callable[[object, Sample], dict]):
        self.metric = metric
        self.count = 0
        self._sums: dict[str, float] = {}
        self._counts: dict[str, int] = {}

    def add(self, sample: Sample, prediction) -> dict:
        row = self.metric(prediction, sample)
        self.count += 1
        for key, value in row.items():
            self._sums.setdefault(key, 0.0)
            self._counts.setdefault(key, 0)
            if not math.isnan(value):
                self._sums[key] += float(value)
                self._counts[key] += 1
        return row

    def summary(self) -> dict[str, float]:
        if not self.count:
            return {}
        means = {key: self._sums[key] / n if (n := self._counts[key]) else math.nan for key in self._sums}
        return means | {"count": self.count}


def picture_metrics(predicted: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """Mean absolute difference and PSNR (dB, pictures in [0, 1]) of two ``(H, W, 3)`` pictures."""
    predicted, target = np.asarray(predicted, np.float64), np.asarray(target, np.float64)
    mse = float(np.mean((predicted - target) ** 2))
    return {"l1": float(np.mean(np.abs(predicted - target))), "psnr": 10 * math.log10(1.0 / max(mse, 1e-10))}


class MaskScorer:
    """Point segmentation: IoU per object; summary mIoU (a running sum)."""

    def __init__(self):
        self.count = 0
        self._iou_sum = 0.0

    def add(self, sample: Sample, prediction) -> dict:
        iou = segmentation.mask_iou(np.asarray(prediction, dtype=bool), sample.mask)
        self.count += 1
        self._iou_sum += iou
        return {"iou": iou, "score": float(getattr(prediction, "score", math.nan))}

    def summary(self) -> dict[str, float]:
        return {"mIoU": self._iou_sum / self.count if self.count else math.nan, "count": self.count}


class InstanceScorer:
    """Instances: ground truth and predicted instances kept as RLEs, scored by COCO evaluation once at the end
    (class-agnostic unless the samples name categories; then also per category AP and semantic mIoU)."""

    def __init__(self):
        self.ground_truth = coco.empty_ground_truth()
        self._results: list[tuple[str, list[dict]]] = []  # per image: category name, its COCO mask results

    def add(self, sample: Sample, prediction) -> dict:
        gt = np.asarray(sample.instances)
        name = sample.category or coco.AGNOSTIC_CATEGORY["name"]
        ids = [int(i) for i in np.unique(gt) if i != 0]
        image_id = coco.add_instance_map(self.ground_truth, gt, {i: name for i in ids})
        found = list(prediction)
        self._results.append((name, mask_results(image_id, found)))  # category ids are set at summary
        masks = [np.asarray(inst.mask, dtype=bool) for inst in found]
        ious = [max((segmentation.mask_iou(m, gt == i) for m in masks), default=0.0) for i in ids]
        return {"gt_instances": len(ious), "pred_instances": len(masks),
                "best_match_iou": float(np.mean(ious)) if ious else math.nan}  # fmt: skip

    def summary(self) -> dict[str, float]:
        gt = self.ground_truth
        if not gt["images"]:
            return {}
        cat_ids = {c["name"]: c["id"] for c in gt["categories"]}
        # a prediction for a category with no ground-truth instance anywhere cannot be scored by COCO
        results = [entry | {"category_id": cat_ids[name]} for name, found in self._results if name in cat_ids
                   for entry in found]  # fmt: skip
        semantic = any(name != coco.AGNOSTIC_CATEGORY["name"] for name in cat_ids)
        summary = coco.segmentation_ap(gt, results, class_agnostic=not semantic)
        if semantic:
            summary.update({f"AP/{k}": v for k, v in coco.per_category_ap(gt, results).items()})
            summary.update(coco.semantic_miou(gt, results))
        return summary


class KeypointScorer:
    """Pose: COCO keypoint AP by OKS over the dataset, and PCK@``alpha`` over people matched by OKS."""

    def __init__(self, alpha: float = 0.1):
        self.alpha = alpha
        self.people: list[list[np.ndarray]] = []
        self.sizes: list[tuple[int, int]] = []
        self.predictions: list[list] = []

    def add(self, sample: Sample, prediction) -> dict:
        people = [np.asarray(p, dtype=np.float32) for p in (sample.keypoints or [])]
        self.people.append(people)
        self.sizes.append(sample.image_size())
        self.predictions.append(list(prediction))
        matched_pred, matched_gt, boxes = self._matches(people, list(prediction))
        value = coco.pck(matched_pred, matched_gt, boxes, self.alpha) if len(matched_gt) else 0.0
        return {"gt_people": len(people), "pred_people": len(prediction), "matched": len(matched_gt),
                f"pck@{self.alpha:g}": value}  # fmt: skip

    def _matches(self, people: list[np.ndarray], persons: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        boxes = [_person_box(p) for p in people]
        areas = [max(b[2] * b[3], 1.0) for b in boxes]
        preds = [np.asarray(p.keypoints)[:, :3] for p in persons]
        pairs = coco.match_people(preds, people, areas) if preds and people else []
        if not pairs:
            return np.zeros((0, 17, 3)), np.zeros((0, 17, 3)), np.zeros((0, 4))
        return (np.stack([preds[i] for i, _ in pairs]), np.stack([people[j] for _, j in pairs]),
                np.asarray([boxes[j] for _, j in pairs]))  # fmt: skip

    def summary(self) -> dict[str, float]:
        if not self.people:
            return {}
        gt = coco.ground_truth_from_keypoints(self.people, self.sizes)
        results = [entry for image_id, persons in enumerate(self.predictions, start=1)
                   for entry in keypoint_results(image_id, persons)]  # fmt: skip
        summary = coco.keypoint_ap(gt, results) if any(len(p) for p in self.people) else {}
        everything = [self._matches(p, q) for p, q in zip(self.people, self.predictions)]
        pred = np.concatenate([m[0] for m in everything])
        truth = np.concatenate([m[1] for m in everything])
        boxes = np.concatenate([m[2] for m in everything])
        total = sum(len(p) for p in self.people)
        # people never matched count as all-wrong: PCK over every ground-truth person
        matched_pck = coco.pck(pred, truth, boxes, self.alpha) if len(truth) else 0.0
        summary[f"PCK@{self.alpha:g}"] = matched_pck * len(truth) / total if total else math.nan
        return summary


def _person_box(kp: np.ndarray) -> list[float]:
    """The person's keypoint box with sides of at least 1 px (an OKS scale and PCK threshold never vanish)."""
    x, y, w, h = coco.keypoint_box(kp)
    return [x, y, max(w, 1.0), max(h, 1.0)]
