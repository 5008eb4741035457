"""Running many images through the pipeline and writing their files: the one loop ``predict``, ``batch``,
``eval`` and the demos share."""

from .job import Job, RunSummary, SamplingSettings, existing_images, record_rng, record_seed, sweep_output_folder
from .runner import run_jobs

__all__ = [
    "Job",
    "RunSummary",
    "SamplingSettings",
    "existing_images",
    "record_rng",
    "record_seed",
    "run_jobs",
    "sweep_output_folder",
]
