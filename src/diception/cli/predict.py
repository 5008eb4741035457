"""``diception predict``: one task on image files or folders, files per image into ``--output-dir``.

Per image ``<stem>`` and task ``<task>``: ``<stem>_<task>.png`` (input | output), then the task's own files
(``Task.files``, see :mod:`diception.tasks.prediction_files`): ``.npy``, ``_16bit.png`` and ``_color.png`` for
depth, ``.npy`` for normals, ``_mask.png`` and ``_masks.json`` for segmentation, ``_output.png`` and
``_masks.json`` for semantic and entity, ``_output.png`` and ``_keypoints.json`` for pose, all named
``<stem>_<task><suffix>``; ``--save-npy`` adds ``<stem>_<task>_raw.npy``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import tasks
from ..errors import DiceptionInputError
from ..jobs import Job, RunSummary, existing_images, run_jobs
from ..tasks.points import MAX_POINTS, parse_published_points
from ..tasks.prediction_files import OutputFile, with_suffix, write_raw_npy
from ..tasks.registry import TaskRequest
from .command import Command
from .inputs import IMAGE_SUFFIXES, expand_images, output_help, parse_outputs
from .model_options import (
    add_model_arguments,
    add_sampling_arguments,
    check_prompt_available,
    load_pipeline,
    sampling_settings,
)

DEFAULT_OUTPUT_DIR = "outputs"


def task_help() -> str:
    """``--task`` help text from the registry."""
    return "; ".join(f"{task.name}: {task.description}" for task in tasks.TASKS.values())


def _names(flag: str) -> str:
    return ", ".join(task.name for task in tasks.TASKS.values() if getattr(task, flag))


class PredictCommand(Command):
    """Run one task on images and write the results."""

    name = "predict"
    help = "run one perception task on images or folders of images"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("inputs", nargs="*", metavar="IMAGE_OR_DIR",
                            help=f"image files or folders of images ({' '.join(IMAGE_SUFFIXES)})")  # fmt: skip
        parser.add_argument("--image", action="append", default=[], metavar="PATH",
                            help="an input image (the published flag; repeatable)")  # fmt: skip
        parser.add_argument("--task", choices=tasks.task_names(), help=task_help())
        example = tasks.SEMANTIC.full_prompt("person")
        parser.add_argument("--prompt", help=f"the raw prompt instead of --task, e.g. '{example}'")
        parser.add_argument("--category", help=f"category for {_names('needs_category')}, e.g. person")
        parser.add_argument("--points", metavar='"y,x;y,x"',
                            help=f"1-{MAX_POINTS} normalised (row, column) points in [0, 1] for "
                            f"{_names('accepts_points')}")  # fmt: skip
        add_model_arguments(parser)
        add_sampling_arguments(parser)
        files = parser.add_argument_group("output files")
        files.add_argument("--output-dir", "--output_dir", dest="output_dir", default=DEFAULT_OUTPUT_DIR,
                           metavar="DIR", help=f"where files go (default ./{DEFAULT_OUTPUT_DIR})")  # fmt: skip
        files.add_argument("--save-npy", "--save_npy", dest="save_npy", action="store_true",
                           help="also write the raw RGB output as float32 <stem>_<task>_raw.npy")  # fmt: skip
        files.add_argument("--outputs", metavar="NAME,NAME", help="write only these files (default all): "
                           + output_help())  # fmt: skip
        files.add_argument("--overwrite", action="store_true", help="redo images whose files already exist")

    def output_files(self, image: Path, request: TaskRequest) -> list[OutputFile]:
        base = Path(self.args.output_dir) / f"{image.stem}_{request.task.name}"
        files = request.task.output_files(base, outputs=parse_outputs(self.args.outputs))
        if self.args.save_npy:
            files.append(OutputFile(with_suffix(base, "_raw.npy"), write_raw_npy))
        return files

    def run(self) -> int:
        args = self.args
        sources = list(args.inputs) + list(args.image)
        if not sources:
            raise DiceptionInputError("no images given; pass image files or folders (or --image PATH)")
        if args.task is None and args.prompt is None:
            raise DiceptionInputError(f"pass --task (one of: {', '.join(tasks.task_names())}) or --prompt TEXT")
        points = parse_published_points(args.points) if args.points is not None else ()
        request = tasks.resolve_request(task=args.task, prompt=args.prompt, category=args.category, points=points)
        settings = sampling_settings(args)

        jobs = [Job(image, request, self.output_files(image, request))
                for image in dict.fromkeys(expand_images(sources))]  # fmt: skip
        if any(not job.files for job in jobs):
            raise DiceptionInputError(f"--outputs '{args.outputs}' names no file of task '{request.task.name}'; its "
                                      f"files: {' '.join(request.task.output_names())}")  # fmt: skip
        owners: dict[Path, Path] = {}
        for job in jobs:
            first = owners.setdefault(job.files[0].path, job.image)
            if first != job.image:
                raise DiceptionInputError(
                    f"'{first}' and '{job.image}' would both write '{job.files[0].path}'; rename one of them"
                )

        summary = RunSummary()
        jobs = existing_images(jobs, summary)
        if any(args.overwrite or not job.is_done for job in jobs):
            pipe = load_pipeline(args, prompts=[request.prompt])
            check_prompt_available(pipe, request.prompt)
        else:
            pipe = None  # every job is done: each is skipped, the model is not needed
        run_jobs(pipe, jobs, settings, summary, args.quiet, skip_done=not args.overwrite)
        print(summary.line())
        return summary.exit_code
