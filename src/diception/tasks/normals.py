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

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..atomic_files import write_atomically
from ..data.array_files import load_npy
from ..errors import DiceptionInputError
from . import prediction_files as files
from .task import GroundTruthOptions, Scorer, Task

if TYPE_CHECKING:
    from ..data.sample import Sample

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


class NormalTask(Task):
    """Surface normals: the picture is ``(n + 1) / 2``; the prediction ``(H, W, 3)`` float32 unit vectors.

    Files: ``.npy`` (float32 normals). Ground truth: ``Sample.normals`` and ``valid_mask``, read from ``.npy``
    or ``(n + 1) / 2`` coded ``.png`` files. Scored by the angular error per image.
    """

    name = "normal"
    prompt = "[[image2normal]]"
    description = "surface normals (unit vectors)"
    output = "normal vector n mapped to (n + 1) / 2"
    prediction_kind = "normal"
    fast_preset_ok = True
    files = (("npy", ".npy", files.write_float32_npy),)

    def has_ground_truth(self, sample: Sample) -> bool:
        return sample.normals is not None or super().has_ground_truth(sample)

    def target_picture(self, sample: Sample, rng: np.random.Generator | None = None) -> np.ndarray:
        if sample.normals is None:
            return super().target_picture(sample, rng)
        return encode(sample.normals, sample.valid_mask)

    def read_ground_truth(self, sample: Sample, path: Path, options: GroundTruthOptions) -> list[Sample]:
        from ..data.dense_folder import load_normals

        normals, valid = load_normals(path)
        return [replace(sample, normals=normals, valid_mask=valid, target_path=path)]

    def write_ground_truth(self, sample: Sample, folder: Path, stem: str, rng: np.random.Generator
                           ) -> list[tuple[str, str]]:  # fmt: skip
        name = f"{stem}_normal.npy"
        write_atomically(folder / name, lambda stream: np.save(stream, sample.normals))
        return [(self.full_prompt(), name)]

    def decode(self, picture: np.ndarray) -> np.ndarray:
        return decode(picture)

    def read_prediction(self, base: Path) -> np.ndarray:
        return load_npy(files.existing_file(base, ".npy")).astype(np.float32)

    def published_array(self, prediction: files.Prediction) -> np.ndarray:
        return np.asarray(prediction.value)

    def scorer(self) -> Scorer:
        from ..evaluation.normals import normal_metrics
        from ..evaluation.scorers import PerImageScorer

        return PerImageScorer(lambda p, s: normal_metrics(np.asarray(p), s.normals, valid=s.valid_mask))

    def baseline(self, sample: Sample) -> np.ndarray:
        """Every pixel facing up, ``(0, 1, 0)`` in our OpenGL camera axes."""
        height, width = sample.image_size()
        return np.broadcast_to(np.array([0.0, 1.0, 0.0], np.float32), (height, width, 3)).copy()

    def picture_metrics(self, predicted: np.ndarray, target: np.ndarray) -> dict[str, float]:
        """Mean angular error and the share within 11.25 degrees, against the target picture's normals."""
        from ..evaluation.normals import normal_metrics

        metrics = normal_metrics(decode(predicted), decode(target))
        return {"normal_mean_deg": metrics["mean"], "normal_within_11_25": metrics["within_11.25"]}
