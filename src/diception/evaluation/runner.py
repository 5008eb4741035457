"""Evaluate a task on a dataset: predictions (from a model, or from files) scored by the task's protocol.

Prediction and scoring are separate steps: predictions are written per sample with the same files as
``diception predict`` (see :mod:`diception.prediction_files`), so ``--predictions DIR`` can score them later
without a model. Each sample gives one CSV row; the summary is one JSON file.

Protocols (each scorer is chosen by the task's ``prediction_kind``, never by its name):

* depth: per-image least-squares scale and shift in disparity space, then AbsRel, SqRel, RMSE, RMSE-log,
  log10, delta1-3 on valid pixels; summary = mean over images (Marigold's convention).
* normal: angular error on valid pixels; summary = mean over images of the per-image mean, median and
  within-threshold fractions.
* mask (point segmentation): IoU per object; summary = mIoU. Objects without points get SAM's one point (the
  in-mask pixel farthest from the boundary) or ``num_points`` random in-mask points.
* instances: COCO segmentation AP/AR via pycocotools, class-agnostic for entity segmentation; for semantic
  prompts also per-category AP and semantic mIoU.
* keypoints: COCO keypoint AP via OKS, plus PCK@0.1 over people matched by OKS.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from .. import tasks
from ..data import Sample
from ..errors import DiceptionInputError
from ..prediction_files import Prediction, prediction_files, read_prediction, write_atomically, write_files
from ..tasks import instances, pose
from . import coco, depth, normals, segmentation


@dataclass
class EvalResult:
    """Rows (one per sample) and the dataset summary."""

    task: str
    rows: list[dict] = field(default_factory=list)
    summary: dict[str, float] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


def sample_base_name(sample: Sample) -> str:
    """File-system-safe ``<sample id>_<task>[_<category>]`` used for a sample's prediction files (one image has
    one semantic sample per category)."""
    name = f"{sample.sample_id or sample.image_path.stem}_{sample.task}"
    if sample.category:
        name += f"_{sample.category}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def prompt_points(sample: Sample, num_points: int, rng: np.random.Generator) -> list[tuple[float, float]] | None:
    """Pixel ``(x, y)`` points for a segmentation sample: its own, else SAM's rules; ``None`` for other tasks."""
    if not tasks.get(sample.task).accepts_points:
        return None
    if sample.points:
        return [tuple(p) for p in sample.points]
    if sample.mask is None or not sample.mask.any():
        raise DiceptionInputError(f"sample '{sample.sample_id}' has neither points nor a non-empty mask")
    if num_points <= 1:
        return [segmentation.farthest_point_from_boundary(sample.mask)]
    return segmentation.random_points_in_mask(sample.mask, num_points, rng)


# ------------------------------------------------------------------------------------------------------------
# Scorers, one per prediction kind
# ------------------------------------------------------------------------------------------------------------
class PerImageScorer:
    """Scores every image with ``metric(prediction, sample) -> dict`` and averages the rows."""

    def __init__(self, metric: Callable[[object, Sample], dict]):
        self.metric = metric
        self.rows: list[dict] = []

    def add(self, sample: Sample, prediction) -> dict:
        row = self.metric(prediction, sample)
        self.rows.append(row)
        return row

    def summary(self) -> dict[str, float]:
        return _mean_rows(self.rows)


def depth_scorer() -> PerImageScorer:
    return PerImageScorer(lambda p, s: depth.depth_metrics(np.asarray(p), s.depth, valid=s.valid_mask))


def normal_scorer() -> PerImageScorer:
    return PerImageScorer(lambda p, s: normals.normal_metrics(np.asarray(p), s.normals, valid=s.valid_mask))


class MaskScorer:
    def __init__(self):
        self.ious: list[float] = []

    def add(self, sample: Sample, prediction) -> dict:
        iou = segmentation.mask_iou(np.asarray(prediction, dtype=bool), sample.mask)
        self.ious.append(iou)
        return {"iou": iou, "score": float(getattr(prediction, "score", math.nan))}

    def summary(self) -> dict[str, float]:
        return {"mIoU": float(np.mean(self.ious)) if self.ious else math.nan, "count": len(self.ious)}


class InstanceScorer:
    """Collects ground-truth instance maps and predicted instances, then runs COCO evaluation once."""

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
                results += instances.to_coco_results(found, image_id, category_id=cat_ids[name])
        semantic = any(name != coco.AGNOSTIC_CATEGORY["name"] for names in self.names for name in names.values())
        summary = coco.segmentation_ap(gt, results, class_agnostic=not semantic)
        if semantic:
            summary.update({f"AP/{k}": v for k, v in coco.per_category_ap(gt, results).items()})
            summary.update(coco.semantic_miou(gt, results))
        return summary


class KeypointScorer:
    def __init__(self, alpha: float = 0.1):
        self.alpha = alpha
        self.people: list[list[np.ndarray]] = []
        self.sizes: list[tuple[int, int]] = []
        self.predictions: list[list] = []

    def add(self, sample: Sample, prediction) -> dict:
        people = [np.asarray(p, dtype=np.float32) for p in (sample.keypoints or [])]
        size = sample.image_size()
        self.people.append(people)
        self.sizes.append(size)
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
        results = [
            entry for image_id, persons in enumerate(self.predictions, start=1)
            for entry in pose.to_coco_results(persons, image_id=image_id)
        ]  # fmt: skip
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


SCORERS: dict[str, Callable[[], object]] = {
    "depth": depth_scorer,
    "normal": normal_scorer,
    "mask": MaskScorer,
    "instances": InstanceScorer,
    "keypoints": KeypointScorer,
}


def _mean_rows(rows: Sequence[dict]) -> dict[str, float]:
    if not rows:
        return {}
    return {key: float(np.nanmean([r[key] for r in rows])) for key in rows[0]} | {"count": len(rows)}


def _person_box(kp: np.ndarray) -> list[float]:
    """The person's keypoint box with sides of at least 1 px (an OKS scale and PCK threshold never vanish)."""
    x, y, w, h = coco.keypoint_box(kp)
    return [x, y, max(w, 1.0), max(h, 1.0)]


# ------------------------------------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------------------------------------
def evaluate(
    samples: Iterable[Sample],
    task: str,
    *,
    pipe=None,
    predictions_dir: str | Path | None = None,
    predictor: Callable[[Sample], object] | None = None,
    save_dir: str | Path | None = None,
    num_inference_steps: int | None = None,
    guidance_scale: float | None = None,
    processing_resolution: int | None = None,
    batch_size: int = 1,
    seed: int = 42,
    num_points: int = 1,
    progress: Callable[[int], None] | None = None,
) -> EvalResult:
    """Score ``samples`` of ``task`` with predictions from exactly one source: ``pipe`` (its prediction files go
    into ``save_dir``), the files ``diception predict``/``eval`` wrote into ``predictions_dir``, or
    ``predictor(sample)`` (e.g. a trivial baseline returning the task decoder's structure)."""
    import torch

    spec = tasks.get(task)
    if sum(source is not None for source in (pipe, predictions_dir, predictor)) != 1:
        raise DiceptionInputError("evaluate needs exactly one of: a model, a predictions folder, a predictor")
    scorer = SCORERS[spec.prediction_kind]()
    result = EvalResult(task=spec.name)
    batch: list[Sample] = []

    def score(sample: Sample, prediction) -> None:
        row = {"sample_id": sample.sample_id or sample.image_path.stem, "prompt": sample.prompt}
        row.update(scorer.add(sample, prediction))
        result.rows.append(row)

    def flush() -> None:
        if not batch:
            return
        rng = np.random.default_rng(seed)
        points = [prompt_points(s, num_points, rng) for s in batch]
        out = pipe([s.image_path for s in batch], prompt=[s.prompt for s in batch], points=points,
                   num_inference_steps=num_inference_steps, guidance_scale=guidance_scale,
                   processing_resolution=processing_resolution,
                   generator=torch.Generator("cpu").manual_seed(seed))  # fmt: skip
        for i, sample in enumerate(batch):
            if save_dir is not None:
                base = Path(save_dir) / sample_base_name(sample)
                with Image.open(sample.image_path) as img:
                    image = np.asarray(img.convert("RGB"))
                picture = np.asarray(out.images[i], dtype=np.float32)
                prediction = Prediction(image, picture, out.prediction[i], spec, image_id=sample.sample_id)
                write_files(prediction, prediction_files(spec.prediction_kind, base))
            score(sample, out.prediction[i])
        if progress:
            progress(len(batch))
        batch.clear()

    for sample in samples:
        if sample.task != spec.name:
            continue
        if predictor is not None:
            score(sample, predictor(sample))
            if progress:
                progress(1)
        elif pipe is None:
            base = Path(predictions_dir) / sample_base_name(sample)
            try:
                prediction = read_prediction(spec.prediction_kind, base)
            except FileNotFoundError as err:
                result.failed.append(f"{sample.sample_id}: {err}")
                continue
            score(sample, prediction)
            if progress:
                progress(1)
        else:
            batch.append(sample)
            if len(batch) >= batch_size:
                flush()
    if pipe is not None:
        flush()
    if not result.rows:
        raise DiceptionInputError(f"no '{spec.name}' samples were scored; check --data and --task")
    result.summary = scorer.summary()
    return result


def write_report(result: EvalResult, out_dir: str | Path) -> tuple[Path, Path]:
    """``per_sample.csv`` (one row per sample) and ``summary.json`` in ``out_dir``, each written atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(key for row in result.rows for key in row))
    csv_path, json_path = out / "per_sample.csv", out / "summary.json"

    def write_csv(stream: BinaryIO) -> None:
        text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
        writer = csv.DictWriter(text, fieldnames=columns)
        writer.writeheader()
        writer.writerows(result.rows)
        text.detach()  # flush, and leave closing the file to write_atomically

    payload = {"task": result.task, "samples": len(result.rows), "failed": result.failed, "metrics": result.summary}
    write_atomically(csv_path, write_csv)
    write_atomically(json_path, lambda stream: stream.write((json.dumps(payload, indent=2) + "\n").encode("utf-8")))
    return csv_path, json_path


def format_table(result: EvalResult) -> str:
    """The summary as a two-column text table."""
    width = max([len(k) for k in result.summary] + [6])
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  ------"]
    for key, value in result.summary.items():
        lines.append(f"{key:<{width}}  {value:.4f}" if isinstance(value, float) else f"{key:<{width}}  {value}")
    return "\n".join(lines)
