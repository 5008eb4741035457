"""Helpers of the command-line tests: tiny images, running ``main`` in-process, checking the one error line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from diception.cli.main import main

FAST = ["--steps", "1", "--processing-resolution", "64", "--quiet"]
H, W = 40, 56  # deliberately not the processing size


def make_image(path: Path, seed: int = 0, size: tuple[int, int] = (H, W)) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    return lines[0]


def read_png(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.array(img)
