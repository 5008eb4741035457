"""Evaluate a task on a dataset: predictions (from a model, or from files) scored by the task's protocol.

Prediction and scoring are separate steps: predictions are written per sample with the same files as
``diception predict`` (see :mod:`diception.prediction_files`), so ``--predictions DIR`` can score them later
without a model. Each sample gives one CSV row; the summary is one JSON file.

Each task brings its own protocol (``Task.scorer()``, ``Task.eval_points()``); the six DICEPTION tasks':

* depth: per-image least-squares scale and shift in disparity space, then AbsRel, SqRel, RMSE, RMSE-log,
  log10, delta1-3 on valid pixels; summary = mean over images (Marigold's convention).
* normal: angular error on valid pixels; summary = mean over images of the per-image mean, median and
  within-threshold fractions.
* segmentation: IoU per object; summary = mIoU. Objects without points get SAM's one point (the in-mask pixel
  farthest from the boundary) or ``num_points`` random in-mask points (seeded per sample).
* entity, semantic: COCO segmentation AP/AR via pycocotools, class-agnostic for entity segmentation; for
  semantic prompts also per-category AP and semantic mIoU.
* pose: COCO keypoint AP via OKS, plus PCK@0.1 over people matched by OKS.

A model's predictions go through the same run-and-write loop as ``diception batch`` (:mod:`diception.jobs`):
a sample whose image cannot be read or whose request the model cannot serve is reported and counted, and the
run goes on. Samples stream through it (a generator of samples is read as the run goes, the scorers keep
numbers and RLEs), so memory does not grow with the dataset; a sample whose prediction files are already in
``save_dir`` is scored from them, so an interrupted evaluation resumes where it stopped.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .. import tasks
from ..atomic_files import write_atomically
from ..data.sample import Sample
from ..errors import DiceptionInputError
from ..jobs import Job, RunSummary, SamplingSettings, record_rng, run_jobs
from ..tasks.registry import TaskRequest


@dataclass
class EvalResult:
    """Rows (one per sample) and the dataset summary."""

    task: str
    rows: list[dict] = field(default_factory=list)
    summary: dict[str, float] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    resumed: int = 0  # samples scored from prediction files an earlier run left in save_dir
    shard: str = ""  # the share of the dataset scored, when not all of it ("shard 0/4")


def sample_base_name(sample: Sample) -> str:
    """File-system-safe ``<sample id>_<task>[_<category>]`` used for a sample's prediction files (one image has
    one semantic sample per category)."""
    name = f"{sample.sample_id or Path(sample.image_path or 'image').stem}_{sample.task}"
    if sample.category:
        name += f"_{sample.category}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def evaluate(
    samples: Iterable[Sample],
    task: str | tasks.Task,
    *,
    pipe=None,
    predictions_dir: str | Path | Sequence[str | Path] | None = None,
    predictor: Callable[[Sample], object] | None = None,
    save_dir: str | Path | None = None,
    num_inference_steps: int | None = None,
    guidance_scale: float | None = None,
    processing_resolution: int | None = None,
    batch_size: int = 1,
    seed: int = 42,
    num_points: int = 1,
    progress: Callable[[int], None] | None = None,
    allow_empty: bool = False,
    overwrite: bool = False,
) -> EvalResult:
    """Score ``samples`` of ``task`` with predictions from exactly one source: ``pipe`` (its prediction files go
    into ``save_dir``), the files ``diception predict``/``eval`` wrote into ``predictions_dir``, or
    ``predictor(sample)`` (e.g. a trivial baseline, ``Task.baseline``, returning the task decoder's structure).

    ``predictions_dir`` may be several folders (the shards of one run): each sample's files are looked for in
    each. Every sample's noise and points come from ``seed`` and the sample itself, so its prediction does not
    depend on the batch, shard or order it runs in. With a model, a sample whose files are all in ``save_dir``
    already is scored from them (unless ``overwrite``). ``allow_empty`` accepts scoring nothing (a process's
    share of a tiny dataset)."""
    spec = tasks.get(task)
    if sum(source is not None for source in (pipe, predictions_dir, predictor)) != 1:
        raise DiceptionInputError("evaluate needs exactly one of: a model, a predictions folder, a predictor")
    scorer = spec.scorer()
    result = EvalResult(task=spec.name)

    def score(sample: Sample, prediction) -> None:
        row = {"sample_id": sample.sample_id or Path(sample.image_path or "image").stem, "prompt": sample.prompt}
        row.update(scorer.add(sample, prediction))
        result.rows.append(row)

    mine = (s for s in samples if s.task == spec.name)
    if pipe is not None:

        def jobs() -> Iterator[Job]:  # read as the run goes: one sample's pixels at a time, not the dataset's
            for sample in mine:
                try:
                    rng = record_rng(seed, sample.sample_id or str(sample.image_path))
                    points = spec.eval_points(sample, num_points, rng)
                except DiceptionInputError as err:
                    result.failed.append(f"{sample.sample_id}: {err}")
                    continue
                files = spec.output_files(Path(save_dir) / sample_base_name(sample)) if save_dir is not None else []
                request = TaskRequest(spec, sample.prompt, points)
                image = sample.image if sample.image is not None else sample.image_path  # pixels or a file
                yield Job(image, request, files, context=f"sample {sample.sample_id}", image_id=sample.sample_id,
                          payload=sample, key=f"{sample.sample_id}\x00{sample.prompt}")  # fmt: skip

        def read_existing(job: Job):
            return spec.read_prediction(Path(save_dir) / sample_base_name(job.payload))

        summary = RunSummary(echo=False)
        settings = SamplingSettings(num_inference_steps, guidance_scale, processing_resolution, seed, batch_size)
        run_jobs(pipe, jobs(), settings, summary, quiet=True, on_result=lambda job, p: score(job.payload, p.value),
                 progress=progress, read_existing=None if overwrite or save_dir is None else read_existing)  # fmt: skip
        result.failed += summary.errors
        result.resumed = summary.skipped
    else:
        folders = [] if predictions_dir is None else (
            [predictions_dir] if isinstance(predictions_dir, (str, Path)) else list(predictions_dir))  # fmt: skip
        for sample in mine:
            if predictor is not None:
                score(sample, predictor(sample))
            else:
                try:
                    prediction = _read_from(spec, folders, sample_base_name(sample))
                except FileNotFoundError as err:
                    result.failed.append(f"{sample.sample_id}: {err}")
                    continue
                score(sample, prediction)
            if progress:
                progress(1)
    if not result.rows and not allow_empty:
        why = f" ({len(result.failed)} failed, e.g. {result.failed[0]})" if result.failed else ""
        raise DiceptionInputError(f"no '{spec.name}' samples were scored{why}; check --data and --task")
    result.summary = scorer.summary() if result.rows else {}
    return result


def shard_prediction_folders(report_dirs: Sequence[str | Path], task: str) -> list[Path]:
    """The ``predictions/`` folders of the ``diception eval --shard I/N`` reports in ``report_dirs``, checked to
    be one task's shards ``0..N-1``, each once, so that scoring them together scores the whole dataset."""
    seen: dict[int, Path] = {}
    counts = set()
    for folder in map(Path, report_dirs):
        try:
            report = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise DiceptionInputError(f"'{folder}' is not a finished eval report ({err}); pass the --output-dir of "
                                      "each `diception eval --shard` run") from None  # fmt: skip
        match = re.fullmatch(r"shard (\d+)/(\d+)", str(report.get("shard", "")))
        if report.get("task") != task or match is None:
            what = f"task '{report.get('task')}'" if report.get("task") != task else "no shard"
            raise DiceptionInputError(f"'{folder}' holds a report of {what}; --merge takes the '{task}' reports "
                                      "of `diception eval --shard I/N` runs")  # fmt: skip
        index, count = int(match[1]), int(match[2])
        if index in seen:
            raise DiceptionInputError(f"shard {index}/{count} is given twice: '{seen[index]}' and '{folder}'")
        seen[index] = folder
        counts.add(count)
    if len(counts) != 1:
        raise DiceptionInputError(f"the reports split the dataset in different ways ({sorted(counts)} shards)")
    count = counts.pop()
    missing = [f"{i}/{count}" for i in range(count) if i not in seen]
    if missing:
        raise DiceptionInputError(f"shard {', '.join(missing)} missing; pass the report folder of every shard")
    return [seen[i] / "predictions" for i in range(count)]


def _read_from(spec: tasks.Task, folders: list[str | Path], name: str):
    """A sample's prediction from the first of ``folders`` that holds its files."""
    for folder in folders[:-1]:
        try:
            return spec.read_prediction(Path(folder) / name)
        except FileNotFoundError:
            continue
    return spec.read_prediction(Path(folders[-1]) / name)


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
    if result.shard:
        payload["shard"] = result.shard
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
