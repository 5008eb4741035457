"""Trivial predictors that any model must beat: each task's own ``Task.baseline``.

They return the same structures as the task decoders, so :func:`diception.evaluation.runner.evaluate` scores
them like a model (``predictor=``). The six DICEPTION tasks':

* depth: a vertical ramp, bright (near) at the bottom of the picture, as a floor seen from above would be;
* normal: every pixel facing up, ``(0, 1, 0)`` in our OpenGL camera axes;
* segmentation: the whole picture;
* entity, semantic: one instance covering the whole picture;
* pose: one standing person of average proportions filling the middle of the picture.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import tasks
from ..data.sample import Sample


def baseline_for(task: str | tasks.Task) -> Callable[[Sample], object]:
    """The trivial predictor of ``task``."""
    return tasks.get(task).baseline
