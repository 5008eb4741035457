"""Running many images through the pipeline and writing their files: the one loop ``predict``, ``batch``,
``eval`` and the demos share."""

from .job import Job, RunSummary, SamplingSettings, pending_jobs, record_rng, record_seed
from .runner import run_jobs

__all__ = ["Job", "RunSummary", "SamplingSettings", "pending_jobs", "record_rng", "record_seed", "run_jobs"]
