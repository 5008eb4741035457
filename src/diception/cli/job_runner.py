"""Run many (image, prompt) jobs through the pipeline in batches and write their files.

Shared by ``predict`` and ``batch``: jobs whose files all exist are skipped (resume), a bad image is reported as
one line and skipped, and the rest go on.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..errors import DiceptionInputError
from ..pipelines import DiceptionPipeline
from ..pipelines.image_processing import load_image
from ..prediction_files import OutputFile, Prediction, write_files
from ..tasks.registry import TaskSpec
from .inputs import PointsYX, to_pixel_xy
from .model_options import SamplingSettings


@dataclass
class Job:
    """One image asked one prompt, and the files its answer goes to.

    Attributes:
        image: the input image file.
        task: the task the prompt selects.
        prompt: the exact prompt text.
        files: the files to write (all exist = done).
        points: normalised ``(y, x)`` point prompts.
        context: what messages prefix the job with (``"manifest line 3"``); empty for none.
    """

    image: Path
    task: TaskSpec
    prompt: str
    files: list[OutputFile]
    points: PointsYX = ()
    context: str = ""


@dataclass
class RunSummary:
    """Counts of a run; ``exit_code`` is 1 if anything failed."""

    done: int = 0
    skipped: int = 0
    failed: int = 0

    def line(self) -> str:
        return f"{self.done} done, {self.skipped} skipped (already done), {self.failed} failed"

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def report_error(summary: RunSummary, message: str, context: str = "") -> None:
    """One ``error: ...`` line on stderr for an item that is skipped; counts it as failed."""
    summary.failed += 1
    line = f"error: {context + ': ' if context else ''}{message}".replace("\n", " ")
    tqdm.write(line, file=sys.stderr)


def note(message: str, quiet: bool) -> None:
    """An informational line on stdout (silenced by ``--quiet``)."""
    if not quiet:
        tqdm.write(message, file=sys.stdout)


def pending_jobs(jobs: list[Job], summary: RunSummary, overwrite: bool, quiet: bool) -> list[Job]:
    """Drop jobs already done (unless ``overwrite``) and jobs whose image file is missing."""
    pending = []
    for job in jobs:
        if not overwrite and all(f.path.is_file() for f in job.files):
            summary.skipped += 1
            note(f"skipped {job.image}: outputs exist (--overwrite to redo)", quiet)
        elif not job.image.is_file():
            what = "is not a file" if job.image.exists() else "does not exist"
            report_error(summary, f"image '{job.image}' {what}; check the path", job.context)
        else:
            pending.append(job)
    return pending


def run_jobs(pipe: DiceptionPipeline, jobs: list[Job], settings: SamplingSettings, summary: RunSummary,
             quiet: bool = False) -> RunSummary:  # fmt: skip
    """Run ``jobs`` in batches of ``settings.batch_size`` and write each job's files."""
    with tqdm(total=len(jobs), unit="image", disable=True if quiet else None, desc="diception") as bar:
        for start in range(0, len(jobs), settings.batch_size):
            batch = jobs[start : start + settings.batch_size]
            loaded = []
            for job in batch:
                try:
                    loaded.append((job, np.asarray(load_image(job.image))))
                except DiceptionInputError as err:
                    report_error(summary, str(err), job.context)
                    bar.update(1)
            _run_batch(pipe, loaded, settings, summary, bar)
    return summary


def _run_batch(pipe, loaded: list[tuple[Job, np.ndarray]], settings: SamplingSettings, summary: RunSummary,
               bar) -> None:  # fmt: skip
    if not loaded:
        return
    try:
        out = pipe(
            [image for _, image in loaded],
            prompt=[job.prompt for job, _ in loaded],
            points=[to_pixel_xy(job.points, image.shape[:2]) for job, image in loaded],
            num_inference_steps=settings.num_inference_steps,
            guidance_scale=settings.guidance_scale,
            processing_resolution=settings.processing_resolution,
            generator=torch.Generator("cpu").manual_seed(settings.seed),
            output_type="np",
        )
    except DiceptionInputError as err:
        if len(loaded) > 1:  # find the job at fault: run them one by one
            for item in loaded:
                _run_batch(pipe, [item], settings, summary, bar)
            return
        job, _ = loaded[0]
        report_error(summary, f"{job.image}: {err}", job.context)
        bar.update(1)
        return
    for i, (job, image) in enumerate(loaded):
        picture = np.asarray(out.images[i], dtype=np.float32)
        prediction = Prediction(image=image, picture=picture, value=out.prediction[i], task=job.task,
                                image_id=job.image.stem)  # fmt: skip
        write_files(prediction, job.files)
        summary.done += 1
        bar.update(1)
