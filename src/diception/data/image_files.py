"""Reading image files: one reader, one clear error for a missing, unreadable, corrupt or oversized file.

The pixel count is checked from the file's header before any pixel is decoded, so a decompression bomb (a
small file that claims billions of pixels) is refused without the memory it would take. The limit is
:data:`MAX_PIXELS`, or the ``DICEPTION_MAX_PIXELS`` environment variable.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ..errors import DiceptionInputError

MAX_PIXELS = 100_000_000  # 100 MP: above any camera picture, far below what would exhaust memory
Image.MAX_IMAGE_PIXELS = None  # the limit is enforced here, before decoding, as one clear error


def max_pixels() -> int:
    """The pixel limit in force: ``DICEPTION_MAX_PIXELS`` when set, else :data:`MAX_PIXELS`."""
    value = os.environ.get("DICEPTION_MAX_PIXELS")
    try:
        return int(value) if value else MAX_PIXELS
    except ValueError:
        raise DiceptionInputError(f"DICEPTION_MAX_PIXELS='{value}' is not a whole number of pixels") from None


def load_image(path: str | os.PathLike) -> Image.Image:
    """Open an image file as RGB, with a one-line error for a missing, unreadable or corrupt file."""
    path = Path(path)
    if not path.exists():
        raise DiceptionInputError(f"image '{path}' does not exist; check the path")
    if not path.is_file():
        raise DiceptionInputError(f"'{path}' is not a file; pass an image file (PNG, JPEG, ...)")
    try:
        with Image.open(path) as img:
            width, height = img.size
            if width * height > max_pixels():
                raise DiceptionInputError(
                    f"image '{path}' claims {width} x {height} = {width * height / 1e6:.0f} MP, over the limit of "
                    f"{max_pixels() / 1e6:.0f} MP; downscale it, or raise DICEPTION_MAX_PIXELS if it is genuine"
                )
            img.load()
            return img.convert("RGB")
    except DiceptionInputError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        raise DiceptionInputError(
            f"image '{path}' cannot be read ({type(err).__name__}); it is corrupt or not an image: "
            "re-export it as PNG or JPEG"
        ) from None
