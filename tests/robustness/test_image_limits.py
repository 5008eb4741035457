"""A decompression bomb (a tiny file claiming a huge picture) is refused from its header, before decoding;
the limit is configurable."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from diception.data.image_files import load_image
from diception.errors import DiceptionInputError


def png_claiming(path, width: int, height: int) -> None:
    """A valid-looking PNG header for ``width x height`` with almost no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
                     + chunk(b"IEND", b""))  # fmt: skip


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path):
    bomb = tmp_path / "bomb.png"
    png_claiming(bomb, 50_000, 50_000)  # 2.5 G pixels in a ~100-byte file
    assert bomb.stat().st_size < 200
    with pytest.raises(DiceptionInputError, match="claims 50000 x 50000 = 2500 MP, over the limit of 100 MP"):
        load_image(bomb)


def test_the_pixel_limit_is_configurable(tmp_path, monkeypatch):
    picture = tmp_path / "small.png"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(picture)
    assert load_image(picture).size == (30, 20)
    monkeypatch.setenv("DICEPTION_MAX_PIXELS", "500")
    with pytest.raises(DiceptionInputError, match="over the limit"):
        load_image(picture)
    monkeypatch.setenv("DICEPTION_MAX_PIXELS", "many")
    with pytest.raises(DiceptionInputError, match="is not a whole number"):
        load_image(picture)
