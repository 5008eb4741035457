"""Scorers: they collect one task's predictions over a dataset and give per-sample rows and a summary.

Each task picks its scorer (``Task.scorer()``); these are the kinds the six DICEPTION tasks use. A scorer has
``add(sample, prediction) -> row`` and ``summary() -> metrics``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..data.coco_results import keypoint_results, mask_results
from ..data.sample import Sample
from . import coco, segmentation


class PerImageScorer:
    """Scores every image with ``metric(prediction, sample) -> dict`` and averages the rows (NaN-aware)."""

    def __init__(self, metric: Callable[[object, Sample], dict]):
        self.metric = metric
        self.rows: list[dict] = []

    def add(self, sample: Sample, prediction) -> dict:
        row = self.metric(prediction, sample)
        self.rows.append(row)
        return row

    def summary(self) -> dict[str, float]:
        if not self.rows:
            return {}
        return {key: float(np.nanmean([r[key] for r in self.rows])) for key in self.rows[0]} | {"count": len(self.rows)}


def picture_metrics(predicted: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """Mean absolute difference and PSNR (dB, pictures in [0, 1]) of two ``(H, W, 3)`` pictures."""
    predicted, target = np.asarray(predicted, np.float64), np.asarray(target, np.float64)
    mse = float(np.mean((predicted - target) ** 2))
    return {"l1": float(np.mean(np.abs(predicted - target))), "psnr": 10 * math.log10(1.0 / max(mse, 1e-10))}


class MaskScorer:
    """Point segmentation: IoU per object; summary mIoU."""

    def __init__(self):
        self.ious: list[float] = []

    def add(self, sample: Sample, prediction) -> dict:
        iou = segmentation.mask_iou(np.asarray(prediction, dtype=bool), sample.mask)
        self.ious.append(iou)
        return {"iou": iou, "score": float(getattr(prediction, "score", math.nan))}

    def summary(self) -> dict[str, float]:
        return {"mIoU": float(np.mean(self.ious)) if self.ious else math.nan, "count": len(self.ious)}


class InstanceScorer:
    """Instances: ground-truth instance maps and predicted instances, scored by COCO evaluation once at the end
    (class-agnostic unless the samples name categories; then also per category AP and semantic mIoU)."""

    def __init__(self):
        self.maps: list[np.ndarray] = []
        self.names: list[dict[int, str]] = []
        self.predictions: list[tuple[list, str]] = []  # per image: decoded instances (their RLEs are scored), name

    def add(self, sample: Sample, prediction) -> dict:
        gt = np.asarray(sample.instances)
        name = sample.category or coco.AGNOSTIC_CATEGORY["name"]
        self.maps.append(gt)
        self.names.append({int(i): name for i in np.unique(gt) if i != 0})
        self.predictions.append((list(prediction), name))
        masks = [np.asarray(inst.mask, dtype=bool) for inst in prediction]
        ious = [max((segmentation.mask_iou(m, gt == i) for m in masks), default=0.0) for i in np.unique(gt) if i]
        return {"gt_instances": len(ious), "pred_instances": len(masks),
                "best_match_iou": float(np.mean(ious)) if ious else math.nan}  # fmt: skip

    def summary(self) -> dict[str, float]:
        if not self.maps:
            return {}
        gt = coco.ground_truth_from_instance_maps(self.maps, self.names)
        cat_ids = {c["name"]: c["id"] for c in gt["categories"]}
        results = []
        for image_id, (found, name) in enumerate(self.predictions, start=1):
            if name in cat_ids:
                results += mask_results(image_id, found, category_id=cat_ids[name])
        semantic = any(name != coco.AGNOSTIC_CATEGORY["name"] for names in self.names for name in names.values())
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
