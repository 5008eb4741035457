"""DICEPTION's tasks: one :class:`Task` object per task, found by name or prompt in the registry.

Callers never branch on a task's name: they ask its task object (its prompt, target picture, decoder,
prediction files, scorer, points). ``register(task)`` adds a new one at run time.
"""

from .points import MAX_POINTS, Point
from .registry import (
    COCO_CATEGORIES,
    DEPTH,
    ENTITY,
    NORMAL,
    POSE,
    SEGMENTATION,
    SEMANTIC,
    TASKS,
    TaskRequest,
    cached_prompt_set,
    get,
    register,
    resolve_request,
    task_from_prompt,
    task_names,
    unregister,
)
from .task import GroundTruthOptions, Task, TaskExample

__all__ = [
    "COCO_CATEGORIES",
    "DEPTH",
    "ENTITY",
    "GroundTruthOptions",
    "MAX_POINTS",
    "NORMAL",
    "POSE",
    "Point",
    "SEGMENTATION",
    "SEMANTIC",
    "TASKS",
    "Task",
    "TaskExample",
    "TaskRequest",
    "cached_prompt_set",
    "get",
    "register",
    "resolve_request",
    "task_from_prompt",
    "task_names",
    "unregister",
]
