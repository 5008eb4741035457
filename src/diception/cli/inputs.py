"""What the commands read from the user besides flags: image paths (files or folders of them), and which output
files to write.

Point prompts (``--points "y,x;y,x"``, the published normalised form) are parsed by
:func:`diception.tasks.points.parse_published_points`, the one place points are converted.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import DiceptionInputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


def expand_images(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """Files as given; folders replaced by their image files (sorted, not recursive).

    Paths that do not exist are kept: the run reports them as failed images.
    """
    images: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise DiceptionInputError(
                    f"folder '{path}' holds no images ({', '.join(IMAGE_SUFFIXES)}); pass image files or a folder "
                    "of images"
                )
            images += found
        else:
            images.append(path)
    return images


def output_help() -> str:
    """``--outputs`` help: every task's file names."""
    from .. import tasks

    return "; ".join(f"{t.name}: {' '.join(t.output_names())}" for t in tasks.TASKS.values())


def parse_outputs(text: str | None) -> set[str] | None:
    """``"npy,side"`` -> the names of the files to write (``None``: all); a name no task writes is an error."""
    from .. import tasks

    if text is None:
        return None
    names = {n.strip() for n in text.split(",") if n.strip()}
    known = {n for t in tasks.TASKS.values() for n in t.output_names()}
    unknown = sorted(names - known)
    if unknown or not names:
        raise DiceptionInputError(
            f"--outputs '{text}' names no file {'called ' + ', '.join(unknown) if unknown else ''}; the files are, "
            f"per task: {output_help()}"
        )
    return names


def add_outside_root_argument(parser: argparse.ArgumentParser) -> None:
    """``--allow-outside-root``: a manifest's paths may leave its data root (refused by default)."""
    parser.add_argument("--allow-outside-root", action="store_true",
                        help="accept manifest paths that resolve outside the data root (.., absolute paths, "
                        "symlinks); refused by default so a manifest cannot make the job read other files")  # fmt: skip
