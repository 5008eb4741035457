"""``diception``: registers the subcommands and dispatches to them.

User errors (:class:`~diception.errors.DiceptionInputError`, bad flags) print one ``error: ...`` line and exit
with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..errors import DiceptionInputError
from .batch import BatchCommand
from .convert import ConvertCommand
from .data import DataCommand
from .demo import DemoCommand
from .evaluate import EvalCommand
from .finetune import FinetuneCommand
from .model_options import register_adapter_tasks
from .predict import PredictCommand
from .train import TrainCommand

COMMANDS = (
    PredictCommand,
    BatchCommand,
    ConvertCommand,
    EvalCommand,
    DataCommand,
    TrainCommand,
    FinetuneCommand,
    DemoCommand,
)
USER_ERROR, INTERRUPTED = 2, 130


class UsageError(Exception):
    """A command-line mistake argparse found."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of printing the usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see --help)")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="diception", description="DICEPTION: one diffusion model for six perception tasks")
    subparsers = parser.add_subparsers(title="commands", dest="command_name", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (callers and tests may swap it)."""

    @property
    def stream(self):  # noqa: D102
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def show_warnings() -> None:
    """The package's warnings (e.g. what the checkpoint lacked) as one ``warning: ...`` line each on stderr."""
    package = logging.getLogger("diception")
    if not any(isinstance(h, _StderrHandler) for h in package.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("warning: %(message)s"))
        package.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``diception`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    show_warnings()
    try:
        register_adapter_tasks(list(sys.argv[1:] if argv is None else argv))
        args = build_parser().parse_args(argv)
        return args.command(args).run()
    except (DiceptionInputError, UsageError) as err:
        print("error: " + " ".join(str(err).split("\n")), file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return INTERRUPTED
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
