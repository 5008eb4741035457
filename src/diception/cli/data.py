"""``diception data synth``: render synthetic-world scenes with exact ground truth into the published manifest
layout, so that ``batch``, ``eval`` and training read them like real data."""

from __future__ import annotations

import argparse

from .. import tasks
from ..errors import DiceptionInputError
from ..jobs import sweep_output_folder
from .command import Command


class DataCommand(Command):
    """Dataset tools."""

    name = "data"
    help = "dataset tools: `data synth` renders synthetic scenes with exact ground truth"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="data_action", metavar="ACTION", required=True)
        synth = actions.add_parser("synth", help="render synthetic scenes and write manifest.json")
        synth.add_argument("--out", required=True, metavar="DIR", help="output folder")
        synth.add_argument("--count", required=True, type=int, metavar="N", help="number of scenes")
        synth.add_argument("--split", choices=("train", "validation", "test"), default="test",
                           help="seed range of the scenes (disjoint per split; default test)")  # fmt: skip
        synth.add_argument("--size", type=int, default=128, help="picture side in pixels (default 128)")
        synth.add_argument("--start", type=int, default=0, help="index of the first scene in the split")
        synth.add_argument("--tasks", nargs="+", choices=tasks.task_names(), metavar="TASK",
                           help="tasks to write targets for (default all)")  # fmt: skip

    def run(self) -> int:
        from ..data.synthetic import write_synthetic_dataset

        args = self.args
        if args.count < 1 or args.size < 16:
            raise DiceptionInputError("--count must be >= 1 and --size >= 16")
        sweep_output_folder(args.out, quiet=False)
        manifest = write_synthetic_dataset(args.out, args.count, split=args.split, size=args.size,
                                           tasks=args.tasks, start=args.start)  # fmt: skip
        print(f"wrote {args.count} {args.split} scenes at {args.size} px; manifest: {manifest}")
        return 0
