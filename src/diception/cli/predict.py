"""``diception predict``: one task on image files or folders, files per image into ``--output-dir``.

Per image ``<stem>`` and task ``<task>`` (see :mod:`diception.prediction_files`): ``<stem>_<task>.png``
(input | output), then by the task's prediction kind ``<stem>_depth.npy``, ``<stem>_depth_16bit.png``,
``<stem>_depth_color.png`` (depth), ``<stem>_normal.npy`` (normal), ``<stem>_segmentation_mask.png`` (mask) or
``<stem>_<task>_output.png`` (rgb); ``--save-npy`` adds ``<stem>_<task>_raw.npy``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import tasks
from ..errors import DiceptionInputError
from ..prediction_files import OutputFile, prediction_files, with_suffix, write_raw_npy
from ..tasks.registry import TaskSpec
from .command import Command
from .inputs import IMAGE_SUFFIXES, expand_images, parse_points
from .job_runner import Job, RunSummary, pending_jobs, run_jobs
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
    return "; ".join(f"{spec.name}: {spec.description}" for spec in tasks.TASKS.values())


def _names(flag: str) -> str:
    return ", ".join(spec.name for spec in tasks.TASKS.values() if getattr(spec, flag))


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
        parser.add_argument("--prompt", help="the raw prompt instead of --task, e.g. '[[image2semantic]] person'")
        parser.add_argument("--category", help=f"category for {_names('needs_category')}, e.g. person")
        parser.add_argument("--points", metavar='"y,x;y,x"',
                            help=f"1-{tasks.registry.MAX_POINTS} normalised (row, column) points in [0, 1] for "
                            f"{_names('accepts_points')}")  # fmt: skip
        add_model_arguments(parser)
        add_sampling_arguments(parser)
        files = parser.add_argument_group("output files")
        files.add_argument("--output-dir", "--output_dir", dest="output_dir", default=DEFAULT_OUTPUT_DIR,
                           metavar="DIR", help=f"where files go (default ./{DEFAULT_OUTPUT_DIR})")  # fmt: skip
        files.add_argument("--save-npy", "--save_npy", dest="save_npy", action="store_true",
                           help="also write the raw RGB output as float32 <stem>_<task>_raw.npy")  # fmt: skip
        files.add_argument("--overwrite", action="store_true", help="redo images whose files already exist")

    def output_files(self, image: Path, task: TaskSpec) -> list[OutputFile]:
        base = Path(self.args.output_dir) / f"{image.stem}_{task.name}"
        files = prediction_files(task.prediction_kind, base)
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
        points = parse_points(args.points) if args.points is not None else ()
        request = tasks.resolve_request(task=args.task, prompt=args.prompt, category=args.category,
                                        points=[(x, y) for y, x in points])  # fmt: skip
        settings = sampling_settings(args)

        jobs = [Job(image, request.task, request.prompt, self.output_files(image, request.task), points)
                for image in dict.fromkeys(expand_images(sources))]  # fmt: skip
        owners: dict[Path, Path] = {}
        for job in jobs:
            first = owners.setdefault(job.files[0].path, job.image)
            if first != job.image:
                raise DiceptionInputError(
                    f"'{first}' and '{job.image}' would both write '{job.files[0].path}'; rename one of them"
                )

        summary = RunSummary()
        pending = pending_jobs(jobs, summary, args.overwrite, args.quiet)
        if pending:
            pipe = load_pipeline(args, prompts=[request.prompt])
            check_prompt_available(pipe, request.prompt)
            run_jobs(pipe, pending, settings, summary, args.quiet)
        print(summary.line())
        return summary.exit_code
