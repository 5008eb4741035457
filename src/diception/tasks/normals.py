"""Surface-normal codec: camera-space unit normals <-> colours ``(n + 1) / 2``.

Axis convention (the one place it is stated; encoder, decoder and docs follow it): OpenGL camera space,
**x right, y up, z toward the camera**. A wall facing the camera is ``(0, 0, 1)``, i.e. colour
``(0.5, 0.5, 1.0)``, the familiar lilac. Ground truth in another convention is converted on the way in with
``convention=``, and predictions on the way out the same way.

Invalid pixels (no ground truth, a zero vector) are encoded black. Black decodes to
``(-1, -1, -1) / sqrt(3)``, a direction facing away from the camera that no visible surface has, so it cannot
be mistaken for a real normal.
"""

from __future__ import annotations

import numpy as np

from ..errors import DiceptionInputError

AXES = "x right, y up, z toward the camera (OpenGL camera space)"

# Sign flips that take a vector from the named convention to ours (and back: each flip is its own inverse).
CONVENTIONS: dict[str, tuple[float, float, float]] = {
    "opengl": (1.0, 1.0, 1.0),  # x right, y up, z toward the camera (ours)
    "opencv": (1.0, -1.0, -1.0),  # x right, y down, z away from the camera
}


def _signs(convention: str) -> np.ndarray:
    try:
        return np.asarray(CONVENTIONS[convention], dtype=np.float32)
    except KeyError:
        raise DiceptionInputError(
            f"unknown normal convention '{convention}'; choose one of: {', '.join(CONVENTIONS)}"
        ) from None


def encode(normals: np.ndarray, valid: np.ndarray | None = None, convention: str = "opengl") -> np.ndarray:
    """Target picture ``(H, W, 3)`` float32 in [0, 1]: ``(n + 1) / 2`` of the renormalised normal.

    Args:
        normals: ``(H, W, 3)`` camera-space normals (need not be unit length).
        valid: ``(H, W)`` bool; default: finite vectors longer than 1e-6. Invalid pixels are black.
        convention: the axis convention of ``normals``, a key of :data:`CONVENTIONS`.
    """
    n = np.asarray(normals, dtype=np.float32)
    if n.ndim != 3 or n.shape[-1] != 3:
        raise DiceptionInputError(f"normals must be an (H, W, 3) array, got shape {n.shape}")
    n = n * _signs(convention)
    with np.errstate(invalid="ignore"):
        norm = np.linalg.norm(n, axis=-1)
    ok = np.isfinite(norm) & (norm > 1e-6)
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    out = np.zeros_like(n)
    out[ok] = (n[ok] / norm[ok, None] + 1.0) / 2.0
    return np.clip(out, 0.0, 1.0)


def decode(rgb: np.ndarray, convention: str = "opengl") -> np.ndarray:
    """Unit normals from ``(n + 1) / 2`` colours, renormalised: ``(H, W, 3) -> (H, W, 3)`` float32.

    ``convention`` names the axis convention of the result (a key of :data:`CONVENTIONS`).
    """
    n = np.asarray(rgb, dtype=np.float32) * 2.0 - 1.0
    n = n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-6)
    return n * _signs(convention)
