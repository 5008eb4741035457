"""The web demo served once for the module that asks for it: the bundled model on a free port of 127.0.0.1."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def served():
    """The demo on the bundled model, on a free port of 127.0.0.1, for this module's tests."""
    pytest.importorskip("gradio")
    from diception import DiceptionPipeline
    from diception.bundled import bundled_model_path
    from diception.demo.headless import serving

    with serving(DiceptionPipeline.from_pretrained(bundled_model_path()), bundled_model_path()) as url:
        yield url
