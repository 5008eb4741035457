"""Reading image files: one reader, one clear error for a missing, unreadable or corrupt file."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ..errors import DiceptionInputError


def load_image(path: str | os.PathLike) -> Image.Image:
    """Open an image file as RGB, with a one-line error for a missing, unreadable or corrupt file."""
    path = Path(path)
    if not path.exists():
        raise DiceptionInputError(f"image '{path}' does not exist; check the path")
    if not path.is_file():
        raise DiceptionInputError(f"'{path}' is not a file; pass an image file (PNG, JPEG, ...)")
    try:
        with Image.open(path) as img:
            img.load()
            return img.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        raise DiceptionInputError(
            f"image '{path}' cannot be read ({type(err).__name__}); it is corrupt or not an image: "
            "re-export it as PNG or JPEG"
        ) from None
