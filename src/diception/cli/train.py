"""``diception train``: train or fine-tune DICEPTION from a YAML config (see ``configs/``).

Examples::

    diception train --config configs/tiny_synthetic.yaml
    diception train --config configs/sd3_medium.yaml --set model.sd3_path=/models/sd3 --resume latest
    accelerate launch --multi_gpu --num_processes 8 -m diception train --config configs/sd3_medium.yaml
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .command import Command


class TrainCommand(Command):
    """Parse the config and overrides, then hand over to :func:`diception.training.train`."""

    name = "train"
    help = "train or fine-tune a DICEPTION model from a YAML config"
    raw_description = True

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--config", required=True, metavar="FILE.yaml", help="training config (base: inherits)")
        parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                            help="override a config key, e.g. --set optim.lr=1e-4 (repeatable)")  # fmt: skip
        parser.add_argument("--resume", metavar="latest|DIR", help="continue from the newest checkpoint or a folder")
        parser.add_argument("--output-dir", "--output_dir", dest="output_dir", metavar="DIR",
                            help="run folder (default: the config's output_dir)")  # fmt: skip

    def run(self) -> int:
        from ..jobs.shards import launched_processes
        from ..training import load_config, train  # torch-heavy: imported only when training

        args = self.args
        overrides: Sequence[str] = list(args.overrides)
        if args.resume:
            overrides = [*overrides, f"checkpoint.resume={args.resume}"]
        config = load_config(args.config, overrides, output_dir=args.output_dir)
        folder = train(config)
        if folder is not None and launched_processes()[0] == 0:  # one line per run, not per process
            print(f"model: {folder}")
        return 0
