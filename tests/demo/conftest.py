"""The web demo served once for the module that asks for it: the bundled model on a free port of 127.0.0.1."""

from __future__ import annotations

import socket

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served():
    """The demo on the bundled model, on a free port of 127.0.0.1, for this module's tests."""
    pytest.importorskip("gradio")
    from diception import DiceptionPipeline
    from diception.bundled import bundled_model_path
    from diception.demo import DemoModel, describe_model, launch

    pipe = DiceptionPipeline.from_pretrained(bundled_model_path())
    port = _free_port()
    demo = launch(DemoModel(pipe, describe_model(pipe, bundled_model_path())), port=port, prevent_thread_lock=True,
                  quiet=True)  # fmt: skip
    yield f"http://127.0.0.1:{port}/"
    demo.close()
