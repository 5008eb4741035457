"""The run-and-write loop: jobs in batches through the pipeline, each answer's files written atomically.

Every job's starting noise comes from the run's seed and the job's key, so its answer is the same whatever
batch, shard or position it runs in.

A bad image or a request the model cannot serve is reported for its job alone (the batch is retried one by
one to find it) and the run goes on; anything else is a bug and stops the run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..data.image_files import load_image
from ..errors import DiceptionInputError
from ..tasks.prediction_files import Prediction, write_files
from .job import Job, RunSummary, SamplingSettings, record_seed

ResultHandler = Callable[[Job, Prediction], None]


def run_jobs(pipe, jobs: list[Job], settings: SamplingSettings, summary: RunSummary, quiet: bool = False,
             on_result: ResultHandler | None = None, progress: Callable[[int], None] | None = None
             ) -> RunSummary:  # fmt: skip
    """Run ``jobs`` in batches of ``settings.batch_size``: write each job's files and hand its
    :class:`~diception.tasks.prediction_files.Prediction` to ``on_result``. ``progress(n)`` is told of every
    ``n`` jobs finished (done or failed)."""
    from tqdm.auto import tqdm

    with tqdm(total=len(jobs), unit="image", disable=True if quiet else None, desc="diception") as bar:

        def advance(n: int = 1) -> None:
            bar.update(n)
            if progress is not None:
                progress(n)

        for start in range(0, len(jobs), settings.batch_size):
            loaded = []
            for job in jobs[start : start + settings.batch_size]:
                try:
                    image = job.image if isinstance(job.image, np.ndarray) else np.asarray(load_image(job.image))
                    loaded.append((job, image))
                except DiceptionInputError as err:
                    summary.error(str(err), job.context)
                    advance()
            _run_batch(pipe, loaded, settings, summary, on_result, advance)
    return summary


def _run_batch(pipe, loaded: list[tuple[Job, np.ndarray]], settings: SamplingSettings, summary: RunSummary,
               on_result: ResultHandler | None, advance: Callable[[int], None]) -> None:  # fmt: skip
    import torch

    if not loaded:
        return
    noise = [torch.Generator("cpu").manual_seed(record_seed(settings.seed, job.noise_key)) for job, _ in loaded]
    try:
        out = pipe(
            [image for _, image in loaded],
            task=[job.request for job, _ in loaded],
            num_inference_steps=settings.num_inference_steps,
            guidance_scale=settings.guidance_scale,
            processing_resolution=settings.processing_resolution,
            generator=noise,
            output_type="np",
        )
    except DiceptionInputError as err:
        if len(loaded) > 1:  # find the job at fault: run them one by one
            for item in loaded:
                _run_batch(pipe, [item], settings, summary, on_result, advance)
            return
        job, _ = loaded[0]
        summary.error(f"{job.name}: {err}", job.context)
        advance()
        return
    for i, (job, image) in enumerate(loaded):
        image_id = job.image_id if job.image_id is not None else (job.image.stem if hasattr(job.image, "stem") else i)
        prediction = Prediction(image=image, picture=np.asarray(out.images[i], dtype=np.float32),
                                value=out.prediction[i], task=job.request.task, image_id=image_id)  # fmt: skip
        write_files(prediction, job.files)
        if on_result is not None:
            on_result(job, prediction)
        summary.done += 1
        advance()
