"""Read the model's RGB picture back into a structure (depth map, unit normals, mask).

These are the engine's first decoders; the codecs of each task extend them.
"""

from __future__ import annotations

import numpy as np

MASK_THRESHOLD = 0.5  # mean brightness above which a pixel belongs to the mask


def decode_depth(rgb: np.ndarray) -> np.ndarray:
    """Relative disparity in [0, 1] (near = 1): the mean of the three channels. ``(H, W, 3) -> (H, W)``."""
    return rgb.mean(axis=-1).astype(np.float32)


def decode_normals(rgb: np.ndarray) -> np.ndarray:
    """Unit normals from ``(n + 1) / 2`` colours: ``(H, W, 3) -> (H, W, 3)``, renormalised."""
    n = rgb.astype(np.float32) * 2.0 - 1.0
    norm = np.linalg.norm(n, axis=-1, keepdims=True)
    return n / np.maximum(norm, 1e-6)


def decode_mask(rgb: np.ndarray) -> np.ndarray:
    """Boolean mask: pixels whose mean brightness exceeds :data:`MASK_THRESHOLD`. ``(H, W, 3) -> (H, W)``."""
    return rgb.mean(axis=-1) > MASK_THRESHOLD


def decode_rgb(rgb: np.ndarray) -> np.ndarray:
    """The picture itself (tasks whose structured decoder has not landed yet)."""
    return rgb.astype(np.float32)
