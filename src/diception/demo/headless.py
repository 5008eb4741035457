"""Driving the web demo without a person: serve it on a free local port and open it in headless Chromium.

The browser test (``tests/demo/test_browser.py``) and the README's screenshot (``scripts/screenshot_web_demo.py``)
both use this. Chromium is the system's (``apt-get install chromium``), driven through the ``playwright`` package;
nothing is downloaded (never ``playwright install``).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

# No sandbox (containers run as root), no GPU, and none of the background traffic an offline machine cannot serve.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def find_chromium() -> str | None:
    """The system's Chromium executable, or None when it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(pipe, source: Path | None, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve the demo on ``pipe`` (loaded from ``source``) on a free port of ``host``; yield its URL, stop on exit."""
    from . import DemoModel, describe_model, launch

    port = free_port(host)
    demo = launch(DemoModel(pipe, describe_model(pipe, source)), host=host, port=port, prevent_thread_lock=True,
                  quiet=True)  # fmt: skip
    try:
        yield f"http://{host}:{port}/"
    finally:
        demo.close()
