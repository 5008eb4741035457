"""The published code's reference fixture (a tiny model of DICEPTION's architecture plus golden outputs).

``../shared/fixtures/official_tiny`` ships a recipe, not weights; this module materialises it once into a cache
folder (about 30 s and 0.9 GB) and converts it to a self-contained DICEPTION model folder. Tests, benchmarks and
the demo use it until a trained bundled model exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

DEFAULT_SOURCE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "official_tiny"
DONE_MARKER = ".materialised"


def find_fixture_source(source: str | os.PathLike | None = None) -> Path:
    """The fixture folder: ``source``, ``$DICEPTION_FIXTURE``, or ``../shared/fixtures/official_tiny``."""
    path = Path(source or os.environ.get("DICEPTION_FIXTURE") or DEFAULT_SOURCE)
    if not (path / "make_weights.py").is_file():
        raise FileNotFoundError(f"reference fixture not found at '{path}' (set DICEPTION_FIXTURE)")
    return path


def materialise(cache_dir: str | os.PathLike, source: str | os.PathLike | None = None) -> Path:
    """Generate the tiny SD3 folder and ``DICEPTION_v1.pth`` into ``cache_dir/official_tiny`` (once)."""
    src = find_fixture_source(source)
    target = Path(cache_dir) / "official_tiny"
    if (target / DONE_MARKER).is_file():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run([sys.executable, str(src / "make_weights.py"), str(partial)], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    (partial / DONE_MARKER).write_text("ok\n")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def converted_model(cache_dir: str | os.PathLike, source: str | os.PathLike | None = None) -> Path:
    """A DICEPTION model folder (``save_pretrained`` layout, prompt cache, no text encoders) of the fixture."""
    target = Path(cache_dir) / "official_tiny_diception"
    if (target / DONE_MARKER).is_file():
        return target
    from .pipelines import DiceptionPipeline

    sd3 = materialise(cache_dir, source)
    pipe = DiceptionPipeline.from_official(sd3, sd3 / "DICEPTION_v1.pth")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    pipe.save_pretrained(partial)
    (partial / DONE_MARKER).write_text("ok\n")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target
