"""Reading image files: one reader, one clear error for a missing, unreadable, corrupt or oversized file.

The pixel count is checked from the file's header before any pixel is decoded, so a decompression bomb (a
small file that claims billions of pixels) is refused without the memory it would take. The limit is
:data:`MAX_PIXELS`, or the ``DICEPTION_MAX_PIXELS`` environment variable.

What the pixels become: 8-bit RGB, upright. An EXIF orientation tag is applied (a phone picture tagged "rotate
90" loads as it is shown, its height and width swapped); an alpha channel is dropped (the colours stay, as the
published loader's ``convert("RGB")`` keeps them); 16-bit greyscale is scaled to 8 bits and a float image is
read as values in [0, 1] (Pillow alone would clip both to 0..255, turning a 16-bit picture white); an animated
GIF, PNG or WebP gives its first frame.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import DiceptionInputError

MAX_PIXELS = 100_000_000  # 100 MP: above any camera picture, far below what would exhaust memory
Image.MAX_IMAGE_PIXELS = None  # the limit is enforced here, before decoding, as one clear error
_ORIENTATION = 0x0112  # EXIF tag; values 5-8 turn the picture by 90 degrees (height and width swap)
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")  # "I": how some formats hand over 16-bit data


def max_pixels() -> int:
    """The pixel limit in force: ``DICEPTION_MAX_PIXELS`` when set, else :data:`MAX_PIXELS`."""
    value = os.environ.get("DICEPTION_MAX_PIXELS")
    try:
        return int(value) if value else MAX_PIXELS
    except ValueError:
        raise DiceptionInputError(f"DICEPTION_MAX_PIXELS='{value}' is not a whole number of pixels") from None


def load_image(path: str | os.PathLike) -> Image.Image:
    """Open an image file as upright 8-bit RGB, with a one-line error for a missing, unreadable or corrupt file."""
    with _opened(Path(path)) as img:
        width, height = img.size
        if width * height > max_pixels():
            raise DiceptionInputError(
                f"image '{path}' claims {width} x {height} = {width * height / 1e6:.0f} MP, over the limit of "
                f"{max_pixels() / 1e6:.0f} MP; downscale it, or raise DICEPTION_MAX_PIXELS if it is genuine"
            )
        img.load()
        return to_rgb(ImageOps.exif_transpose(img))


def image_file_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(height, width)`` of an image file as :func:`load_image` returns it (EXIF rotation applied), read
    from its header without decoding the pixels."""
    with _opened(Path(path)) as img:
        width, height = img.size
        turned = img.getexif().get(_ORIENTATION) in (5, 6, 7, 8)
    return (width, height) if turned else (height, width)


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[Image.Image]:
    """The image file opened by Pillow; a missing, unreadable or corrupt file (also one found corrupt while the
    caller decodes it) raises one :class:`DiceptionInputError`."""
    if not path.exists():
        raise DiceptionInputError(f"image '{path}' does not exist; check the path")
    if not path.is_file():
        raise DiceptionInputError(f"'{path}' is not a file; pass an image file (PNG, JPEG, ...)")
    try:
        with Image.open(path) as img:
            yield img
    except DiceptionInputError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        raise DiceptionInputError(
            f"image '{path}' cannot be read ({type(err).__name__}); it is corrupt or not an image: "
            "re-export it as PNG or JPEG"
        ) from None


def to_rgb(img: Image.Image) -> Image.Image:
    """``img`` as 8-bit RGB: 16-bit greyscale scaled down (65535 -> 255), a float image read as [0, 1], an
    alpha channel dropped."""
    if img.mode in _SIXTEEN_BIT_MODES:
        grey = np.clip(np.asarray(img, dtype=np.float64), 0, 65535) / 257.0
        img = Image.fromarray(np.round(grey).astype(np.uint8))
    elif img.mode == "F":
        grey = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        img = Image.fromarray(np.round(np.clip(grey, 0.0, 1.0) * 255.0).astype(np.uint8))
    return img.convert("RGB")
