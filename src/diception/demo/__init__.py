"""The web demo (``diception demo``): a local Gradio page for every task, click to segment.

:mod:`.views` turns a prediction into what the page shows, :mod:`.callbacks` holds what its events do as plain
functions, :mod:`.app` lays out the page and serves it. gradio is needed only by :mod:`.app`.
"""

from __future__ import annotations

from pathlib import Path

from .callbacks import DemoModel, DemoResult, run


def describe_model(pipe, source: Path | None) -> str:
    """The page's one line about the model: the bundled toy model, or which weights and how big."""
    from ..bundled import bundled_model_path

    params = sum(p.numel() for n, p in pipe.transformer.named_parameters() if "lora_" not in n) / 1e6
    where = f"{pipe.transformer.dtype} on {pipe.device}".replace("torch.", "")
    if pipe.adapters:
        where += f"; task adapters: {', '.join(pipe.adapters)}"
    if source is not None and Path(source).resolve() == bundled_model_path().resolve():
        return (f"the bundled toy model ({params:.1f} M parameters, {where}), trained on a CPU on the synthetic "
                "world: it knows only that world. For real pictures, convert the published weights and pass "
                "--model DIR.")  # fmt: skip
    return f"{source} ({params:,.0f} M-parameter transformer, {where})"


def launch(model: DemoModel, host: str = "127.0.0.1", port: int = 7860, **kwargs):
    """Serve the page (see :func:`.app.launch`)."""
    from .app import launch as serve

    return serve(model, host=host, port=port, **kwargs)


__all__ = ["DemoModel", "DemoResult", "describe_model", "launch", "run"]
