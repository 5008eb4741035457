"""The run-and-write loop: jobs in batches through the pipeline, each answer's files written atomically.

Every job's starting noise comes from the run's seed and the job's key, so its answer is the same whatever
batch, shard or position it runs in. Batches are cut by position in the job list, finished jobs included, so a
resumed run also batches each job with the same companions as an uninterrupted one and writes the same bytes
(batched matrix products round differently with other companions): a batch of which some jobs are done runs
whole, and only the others' files are written.

Jobs stream: they are taken from any iterable as the run goes, so a 100k-image job holds a few batches in memory,
not the dataset. Three threads overlap: a loader reads the next batch's images (and, when resuming, the answers
already on disk) while the model runs the current one, and a writer encodes and writes the previous batch's
files. Answers reach ``on_result`` in job order.

A bad image or a request the model cannot serve is reported for its job alone (the batch is retried one by
one to find it) and the run goes on; a batch that runs out of memory is retried in halves, and a job that
does not fit alone is reported; anything else is a bug and stops the run (after the files of the answers
already given are written).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.image_files import load_image
from ..errors import DiceptionInputError
from ..tasks.prediction_files import Prediction, write_files
from .job import Job, RunSummary, SamplingSettings, note, record_seed

ResultHandler = Callable[[Job, Prediction], None]
ExistingReader = Callable[[Job], Any]
_END = object()


@dataclass
class _Slot:
    """One job of a batch as the loader left it: its pixels, its answer read from disk, or why it failed."""

    job: Job
    image: np.ndarray | None = None
    existing: Any = None
    resumed: bool = False
    error: str = ""


def run_jobs(pipe, jobs: Iterable[Job], settings: SamplingSettings, summary: RunSummary, quiet: bool = False,
             on_result: ResultHandler | None = None, progress: Callable[[int], None] | None = None,
             total: int | None = None, read_existing: ExistingReader | None = None,
             skip_done: bool = False) -> RunSummary:  # fmt: skip
    """Run ``jobs`` in batches of ``settings.batch_size``: write each job's files and hand its
    :class:`~diception.tasks.prediction_files.Prediction` to ``on_result``. ``progress(n)`` is told of every
    ``n`` jobs finished (done, resumed or failed); ``total`` sizes the progress bar when ``jobs`` has no length.

    With ``skip_done``, a job whose files all exist is skipped (counted, and noted unless ``quiet``): an
    interrupted batch resumes where it stopped. With ``read_existing``, such a job is answered by
    ``read_existing(job)`` (the prediction read back from its files) instead of the model, and counted as skipped:
    an interrupted evaluation resumes where it stopped. Its ``Prediction`` has no ``image`` or ``picture``.
    ``pipe`` is not called when every job is done.
    """
    from tqdm.auto import tqdm

    size = len(jobs) if hasattr(jobs, "__len__") else total
    writer = _FileWriter()
    with tqdm(total=size, unit="image", disable=True if quiet else None, desc="diception") as bar:

        def finish(n: int = 1) -> None:
            bar.update(n)
            if progress is not None:
                progress(n)

        try:
            for batch in _prefetched(_load_batches(jobs, settings.batch_size, read_existing, skip_done)):
                runnable = [slot for slot in batch if slot.image is not None]
                answers = _run_batch(pipe, runnable, settings) if runnable else {}
                for slot in batch:  # in job order
                    if slot.resumed:  # (its answer, if the batch ran, is dropped: its files exist)
                        summary.skipped += 1
                        if read_existing is None:
                            note(f"skipped {slot.job.name}: outputs exist (--overwrite to redo)", quiet)
                        elif on_result is not None:
                            on_result(slot.job, Prediction(None, None, slot.existing, slot.job.request.task,
                                                           slot.job.image_id))  # fmt: skip
                    elif slot.error:
                        summary.error(slot.error, slot.job.context)
                    elif id(slot) in answers:
                        prediction = answers[id(slot)]
                        writer.put(prediction, slot.job.files)
                        if on_result is not None:
                            on_result(slot.job, prediction)
                        summary.done += 1
                    finish()
        finally:
            writer.close()
    return summary


def _load_batches(jobs: Iterable[Job], batch_size: int, read_existing: ExistingReader | None,
                  skip_done: bool) -> Iterator[list]:  # fmt: skip
    """Batches of ``batch_size`` consecutive jobs, cut by position whatever is done (see the module doc). A
    batch with a job for the model loads every image it can, the finished jobs' too, so that they keep their
    places in the batch; a batch of finished jobs loads none."""
    for chunk in _chunks(jobs, batch_size):
        batch = [_Slot(job) for job in chunk]
        for slot in batch:
            if read_existing is not None and slot.job.is_done:
                with contextlib.suppress(FileNotFoundError, DiceptionInputError):  # unreadable: predict it again
                    slot.existing, slot.resumed = read_existing(slot.job), True
            elif skip_done and slot.job.is_done:
                slot.resumed = True
        if any(not slot.resumed for slot in batch):
            for slot in batch:
                try:
                    slot.image = (slot.job.image if isinstance(slot.job.image, np.ndarray)
                                  else np.asarray(load_image(slot.job.image)))  # fmt: skip
                except DiceptionInputError as err:
                    if not slot.resumed:
                        slot.error = str(err)
        yield batch


def _chunks(jobs: Iterable[Job], size: int) -> Iterator[list[Job]]:
    chunk: list[Job] = []
    for job in jobs:
        chunk.append(job)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _prefetched(batches: Iterator[list], depth: int = 2) -> Iterator[list]:
    """``batches``, produced by a background thread up to ``depth`` ahead (image decoding overlaps the model).
    An exception in the producer is raised here, in the consumer."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        """Queue ``item`` unless the consumer has stopped (then a full queue would block for ever)."""
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in batches:
                if not offer(batch):
                    return
            offer(_END)
        except BaseException as err:  # handed to the consumer, which raises it
            offer(err)

    thread = threading.Thread(target=produce, name="diception-loader", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


class _FileWriter:
    """Writes answers' files on a background thread, in order; ``close`` waits for every file queued before it
    and raises the first error the thread met (a full disk, a folder that cannot be made)."""

    def __init__(self, depth: int = 64):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="diception-writer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (item := self._queue.get()) is not _END:
            if self._error is None:
                try:
                    write_files(*item)
                except BaseException as err:  # raised on the run's thread by put/close
                    self._error = err

    def put(self, prediction: Prediction, files: list) -> None:
        if self._error is not None:
            self.close()
        if files:
            self._queue.put((prediction, files))

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_END)
            self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def _run_batch(pipe, slots: list[_Slot], settings: SamplingSettings) -> dict[int, Prediction]:
    """The model's answers to ``slots`` by ``id(slot)``; a slot the model cannot serve gets its ``error``."""
    import torch

    noise = [torch.Generator("cpu").manual_seed(record_seed(settings.seed, slot.job.noise_key)) for slot in slots]
    try:
        out = pipe(
            [slot.image for slot in slots],
            task=[slot.job.request for slot in slots],
            num_inference_steps=settings.num_inference_steps,
            guidance_scale=settings.guidance_scale,
            processing_resolution=settings.processing_resolution,
            generator=noise,
            output_type="np",
        )
    except DiceptionInputError as err:
        if len(slots) > 1:  # find the job at fault: run them one by one
            answers: dict[int, Prediction] = {}
            for slot in slots:
                answers.update(_run_batch(pipe, [slot], settings))
            return answers
        slots[0].error = f"{slots[0].job.name}: {err}"
        return {}
    except torch.OutOfMemoryError:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        if len(slots) > 1:  # retry at half the batch, each half on its own
            half = len(slots) // 2
            return {**_run_batch(pipe, slots[:half], settings), **_run_batch(pipe, slots[half:], settings)}
        slots[0].error = (f"{slots[0].job.name}: out of memory even alone; lower --processing-resolution or free "
                          "the device")  # fmt: skip
        return {}
    answers = {}
    for i, slot in enumerate(slots):
        job = slot.job
        image_id = job.image_id if job.image_id is not None else (job.image.stem if hasattr(job.image, "stem") else i)
        answers[id(slot)] = Prediction(image=slot.image, picture=np.asarray(out.images[i], dtype=np.float32),
                                       value=out.prediction[i], task=job.request.task, image_id=image_id)  # fmt: skip
    return answers
