"""The task registry: one place for each task's name, prompt, defaults and output handling."""

from .registry import (
    COCO_CATEGORIES,
    TASKS,
    TaskRequest,
    TaskSpec,
    cached_prompt_set,
    get,
    resolve_request,
    task_names,
)

__all__ = [
    "COCO_CATEGORIES",
    "TASKS",
    "TaskRequest",
    "TaskSpec",
    "cached_prompt_set",
    "get",
    "resolve_request",
    "task_names",
]
