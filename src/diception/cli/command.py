"""What every ``diception`` subcommand shares: its parser is made from its name, help and module docstring."""

from __future__ import annotations

import argparse
import sys


class Command:
    """One subcommand. Subclasses set ``name`` and ``help``, declare their flags in :meth:`add_arguments` and do
    the work in :meth:`run`; the subcommand's ``--help`` shows its module's docstring."""

    name: str
    help: str
    raw_description = False  # keep the docstring's line breaks (for multi-line examples)

    def __init__(self, args: argparse.Namespace):
        self.args = args

    @classmethod
    def register(cls, subparsers: argparse._SubParsersAction) -> None:
        """Add this command's parser to ``subparsers``; parsing it selects this class as ``args.command``."""
        extra = {"formatter_class": argparse.RawDescriptionHelpFormatter} if cls.raw_description else {}
        parser = subparsers.add_parser(cls.name, help=cls.help, description=sys.modules[cls.__module__].__doc__,
                                       **extra)  # fmt: skip
        cls.add_arguments(parser)
        parser.set_defaults(command=cls)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        raise NotImplementedError

    def run(self) -> int:
        raise NotImplementedError
