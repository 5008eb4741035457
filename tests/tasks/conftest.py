"""Degradations a target picture meets between the encoder and the decoder (VAE, resizing, model drift)."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage


def jpeg(rgb: np.ndarray, quality: int = 75) -> np.ndarray:
    """A PIL JPEG round trip (default 4:2:0 chroma subsampling)."""
    buffer = io.BytesIO()
    Image.fromarray((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())), dtype=np.float32) / 255.0


def blur(rgb: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """A Gaussian blur of ``sigma`` pixels, per channel."""
    return ndimage.gaussian_filter(rgb, sigma=(sigma, sigma, 0))


def jitter(rgb: np.ndarray, seed: int = 0, gain: float = 0.1, offset: float = 0.03) -> np.ndarray:
    """Per-channel colour gain in ``1 +- gain`` and offset in ``+- offset``, clipped to [0, 1]."""
    rng = np.random.default_rng(seed)
    g, o = rng.uniform(1 - gain, 1 + gain, 3), rng.uniform(-offset, offset, 3)
    return np.clip(rgb * g + o, 0.0, 1.0).astype(np.float32)


DEGRADATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "jpeg75": jpeg,
    "blur1": blur,
    "jitter": jitter,
    "all": lambda rgb: jpeg(jitter(blur(rgb), seed=1)),
}


@pytest.fixture(params=list(DEGRADATIONS))
def degrade(request) -> Callable[[np.ndarray], np.ndarray]:
    """Each degradation in turn."""
    return DEGRADATIONS[request.param]
