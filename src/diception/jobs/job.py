"""What a run is made of: jobs (an image, its request, its files), the sampling settings, and the tally."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic_files import sweep_stale_temporaries
from ..tasks.prediction_files import OutputFile
from ..tasks.registry import TaskRequest

DEFAULT_SEED = 42


@dataclass(frozen=True)
class SamplingSettings:
    """How the pipeline samples; ``None`` takes the loaded model's config default."""

    num_inference_steps: int | None = None
    guidance_scale: float | None = None
    processing_resolution: int | None = None
    seed: int = DEFAULT_SEED
    batch_size: int = 1


@dataclass
class Job:
    """One image asked one request, and the files its answer goes to.

    Attributes:
        image: the input image file, or its ``(H, W, 3)`` uint8 pixels.
        request: the task, exact prompt and points.
        files: the files to write (all exist = done); may be empty when only ``on_result`` wants the answer.
        context: what messages prefix the job with (``"manifest line 3"``); empty for none.
        image_id: what COCO results files call the image (default: the image file's stem).
        payload: the caller's own (e.g. the ground-truth sample an evaluation scores against).
        key: what identifies the record whatever batch, shard or position it runs in; its starting noise comes
            from the run's seed and this key (default: the image's path).
    """

    image: Path | np.ndarray
    request: TaskRequest
    files: list[OutputFile] = field(default_factory=list)
    context: str = ""
    image_id: str | int | None = None
    payload: Any = None
    key: str = ""

    @property
    def is_done(self) -> bool:
        """It has files and every one of them exists."""
        return bool(self.files) and all(f.path.is_file() for f in self.files)

    @property
    def noise_key(self) -> str:
        return self.key or self.name

    @property
    def name(self) -> str:
        """The image as messages name it."""
        return str(self.image) if isinstance(self.image, Path) else "<image in memory>"


@dataclass
class RunSummary:
    """Counts of a run and its error messages; ``exit_code`` is 1 if anything failed.

    With ``echo`` every error is also printed as one ``error: ...`` line on stderr when it happens.
    """

    done: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    echo: bool = True

    def line(self) -> str:
        return f"{self.done} done, {self.skipped} skipped (already done), {self.failed} failed"

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def error(self, message: str, context: str = "") -> None:
        """Count one failed item and keep (and, with ``echo``, print) its message."""
        from tqdm.auto import tqdm

        self.failed += 1
        text = " ".join(f"{context + ': ' if context else ''}{message}".split())
        self.errors.append(text)
        if self.echo:
            tqdm.write(f"error: {text}", file=sys.stderr)


def note(message: str, quiet: bool) -> None:
    """An informational line on stdout (silenced by ``quiet``)."""
    if not quiet:
        from tqdm.auto import tqdm

        tqdm.write(message, file=sys.stdout)


def existing_images(jobs: list[Job], summary: RunSummary) -> list[Job]:
    """The jobs whose image is in memory or an existing file; the others are reported as failed."""
    kept = []
    for job in jobs:
        if isinstance(job.image, Path) and not job.image.is_file():
            what = "is not a file" if job.image.exists() else "does not exist"
            summary.error(f"image '{job.image}' {what}; check the path", job.context)
        else:
            kept.append(job)
    return kept


def sweep_output_folder(folder: str | Path, quiet: bool) -> int:
    """Before a job resumes in ``folder``: remove the temporary files a killed run of this machine left there
    (see :mod:`diception.atomic_files`), and say how many."""
    removed = sweep_stale_temporaries(folder) if Path(folder).is_dir() else 0
    if removed:
        note(f"removed {removed} temporary file{'s' if removed > 1 else ''} left by an interrupted run in {folder}",
             quiet)  # fmt: skip
    return removed


def record_seed(seed: int, key: str) -> int:
    """A 63-bit seed for one record, from the run's seed and the record's own key (not its position), so what
    it seeds does not depend on batching, sharding or order."""
    digest = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def record_rng(seed: int, key: str) -> np.random.Generator:
    """A numpy generator for one record's random choices (see :func:`record_seed`)."""
    return np.random.default_rng(record_seed(seed, key))
