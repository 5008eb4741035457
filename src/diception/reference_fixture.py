"""The published code's reference fixture (a tiny model of DICEPTION's architecture plus golden outputs).

``../shared/fixtures/official_tiny`` ships a recipe, not weights; this module materialises it once into a cache
folder (about 30 s and 0.9 GB) and converts it to a self-contained DICEPTION model folder. The faithfulness
tests, most pipeline and command-line tests and ``make bench`` run on it (it has DICEPTION's real architecture,
SD3 VAE and text encoders in miniature); ``make demo`` falls back to it only in an installation without the
bundled model.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

DEFAULT_SOURCE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "official_tiny"
DONE_MARKER = ".materialised"


def find_fixture_source(source: str | os.PathLike | None = None) -> Path:
    """The fixture folder: ``source``, ``$DICEPTION_FIXTURE``, or ``../shared/fixtures/official_tiny``."""
    path = Path(source or os.environ.get("DICEPTION_FIXTURE") or DEFAULT_SOURCE)
    if not (path / "make_weights.py").is_file():
        raise FileNotFoundError(f"reference fixture not found at '{path}' (set DICEPTION_FIXTURE)")
    return path


def _build_once(target: Path, build: Callable[[Path], None]) -> Path:
    """``target``, built by ``build(folder)`` into a ``.partial`` folder and renamed only once complete."""
    if (target / DONE_MARKER).is_file():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    build(partial)
    (partial / DONE_MARKER).write_text("ok\n")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def materialise(cache_dir: str | os.PathLike, source: str | os.PathLike | None = None) -> Path:
    """Generate the tiny SD3 folder and ``DICEPTION_v1.pth`` into ``cache_dir/official_tiny`` (once)."""
    script = find_fixture_source(source) / "make_weights.py"
    return _build_once(
        Path(cache_dir) / "official_tiny",
        lambda folder: subprocess.run(
            [sys.executable, str(script), str(folder)], check=True, stdout=subprocess.DEVNULL
        ),
    )


def converted_model(cache_dir: str | os.PathLike, source: str | os.PathLike | None = None) -> Path:
    """A DICEPTION model folder (``save_pretrained`` layout, prompt cache, no text encoders) of the fixture."""

    def convert(folder: Path) -> None:
        from .pipelines import DiceptionPipeline

        sd3 = materialise(cache_dir, source)
        DiceptionPipeline.from_official(sd3, sd3 / "DICEPTION_v1.pth").save_pretrained(folder)

    return _build_once(Path(cache_dir) / "official_tiny_diception", convert)
