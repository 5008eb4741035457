"""``diception demo``: the web demo in the browser, all tasks, click to segment.

Serves a local Gradio page (http://127.0.0.1:7860 by default) on the bundled model, or on converted weights
with ``--model DIR`` (or the published pair). One request runs at a time; nothing is sent to the internet.
The prediction is also an HTTP endpoint for ``gradio_client`` (see the README).
"""

from __future__ import annotations

import argparse

from .command import Command
from .model_options import DTYPE_NAMES, add_model_arguments, load_pipeline, resolve_model_source


class DemoCommand(Command):
    """Serve the web demo."""

    name = "demo"
    help = "the web demo: all tasks in the browser, click to segment (needs gradio)"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        add_model_arguments(parser)
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine)")
        parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
        parser.add_argument("--device", help="torch device (default: cuda, else mps, else cpu)")
        parser.add_argument("--dtype", choices=DTYPE_NAMES, help="weight dtype (default: bf16 on cuda, fp32 on cpu)")
        parser.set_defaults(quiet=False)

    def run(self) -> int:
        from ..demo import DemoModel, describe_model, launch

        source = resolve_model_source(self.args)
        pipe = load_pipeline(self.args)
        model = DemoModel(pipe, describe_model(pipe, source.model_dir or source.checkpoint))
        print(f"model: {model.description}")
        launch(model, host=self.args.host, port=self.args.port)
        return 0
