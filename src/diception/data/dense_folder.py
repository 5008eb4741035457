"""Depth and surface-normal evaluation sets stored as a folder of matching file names.

The layout (one name stem shared by an image and its ground truth)::

    ROOT/
      rgb/<name>.png | .jpg | .jpeg       input image
      depth/<name>.npy                    (H, W) float depth in metres; 0, negative or non-finite = no data
      depth/<name>.png                    (H, W) uint16; metres = value * depth_scale (NYUv2 and ScanNet
                                          ship 1/1000, KITTI 1/256); 0 = no data
      normal/<name>.npy                   (H, W, 3) float unit normals; zero vectors = no data
      normal/<name>.png                   RGB coded (n + 1) / 2, 8- or 16-bit; black (0, 0, 0) = no data
      valid_mask/<name>.png | .npy        optional; non-zero = valid (combined with the "no data" rule)
      split.txt (any name, optional)      one name per line: a stem, or a path like rgb/<name>.png;
                                          blank lines and lines starting with '#' are skipped

This is the shape Marigold's evaluation sets take once unpacked (an rgb image, a depth or normal map
and an optional mask per frame). Pillow reads 16-bit RGB PNGs at 8-bit precision (it keeps the high
byte), so store normals as ``.npy`` where full precision matters.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from .. import tasks
from ..errors import DiceptionInputError
from ..tasks.task import GroundTruthOptions
from .array_files import load_npy
from .sample import Sample

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# task -> the folder of its ground truth (each task reads its own files: Task.read_ground_truth)
DENSE_FOLDERS = {tasks.DEPTH.name: "depth", tasks.NORMAL.name: "normal"}


def load_depth(path: str | Path, depth_scale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Depth in metres and its valid mask, ``((H, W) float32, (H, W) bool)``, from ``.npy`` or 16-bit ``.png``.

    ``depth_scale`` (metres per PNG unit) is required for ``.png`` and ignored for ``.npy``.
    """
    path = Path(path)
    if path.suffix == ".npy":
        depth = load_npy(path).astype(np.float32)
    elif path.suffix == ".png":
        if depth_scale is None:
            raise DiceptionInputError(
                f"{path} is a PNG depth map; pass depth_scale (metres per unit: 1/1000 for NYUv2 and "
                "ScanNet, 1/256 for KITTI)"
            )
        depth = np.asarray(Image.open(path), dtype=np.float32) * np.float32(depth_scale)
    else:
        raise DiceptionInputError(f"{path}: depth maps must be .npy (metres) or 16-bit .png")
    depth = np.squeeze(depth)
    if depth.ndim != 2:
        raise DiceptionInputError(f"{path}: depth map has shape {depth.shape}; expected (H, W)")
    return depth, np.isfinite(depth) & (depth > 0)


def load_normals(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals and their valid mask, ``((H, W, 3) float32, (H, W) bool)``, from ``.npy`` or ``.png``.

    PNG colours ``c`` in [0, 1] decode as ``n = 2 c - 1`` and are renormalised.
    """
    path = Path(path)
    if path.suffix == ".npy":
        n = load_npy(path).astype(np.float32)
        if n.ndim == 3 and n.shape[0] == 3 and n.shape[-1] != 3:
            n = np.moveaxis(n, 0, -1)  # (3, H, W) -> (H, W, 3)
        present = np.all(np.isfinite(n), axis=-1)
    elif path.suffix == ".png":
        raw = np.asarray(Image.open(path).convert("RGB"))  # 16-bit files arrive as 8-bit here
        present = raw.any(axis=-1)
        n = raw.astype(np.float32) / np.float32(np.iinfo(raw.dtype).max) * 2.0 - 1.0
    else:
        raise DiceptionInputError(f"{path}: normal maps must be .npy (H, W, 3) or RGB .png")
    if n.ndim != 3 or n.shape[-1] != 3:
        raise DiceptionInputError(f"{path}: normal map has shape {n.shape}; expected (H, W, 3)")
    n = np.nan_to_num(n)
    norm = np.linalg.norm(n, axis=-1, keepdims=True)
    valid = present & (norm[..., 0] > 1e-6)
    return np.where(valid[..., None], n / np.maximum(norm, 1e-6), 0.0).astype(np.float32), valid


def load_valid_mask(path: str | Path) -> np.ndarray:
    """``(H, W)`` bool from a ``.npy`` or image mask; non-zero means valid."""
    path = Path(path)
    arr = load_npy(path) if path.suffix == ".npy" else np.asarray(Image.open(path))
    if arr.ndim == 3:
        arr = arr.any(axis=-1)
    return arr.astype(bool)


def _find(folder: Path, stem: str, suffixes: tuple[str, ...]) -> Path | None:
    for suffix in suffixes:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _read_split(path: Path) -> list[str]:
    if not path.is_file():
        raise DiceptionInputError(f"split file {path} does not exist")
    names = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.append(Path(line.split()[0]).stem)  # "rgb/000123.png depth/..." -> "000123"
    return names


def iter_dense_folder(
    root: str | Path,
    task: str = tasks.DEPTH.name,
    split: str | Path | None = None,
    depth_scale: float | None = None,
) -> Iterator[Sample]:
    """Yield depth or normal samples from a folder in the layout of this module's docstring.

    Args:
        root: the folder holding ``rgb/`` and ``depth/`` or ``normal/``.
        task: a task of :data:`DENSE_FOLDERS` (depth or normal).
        split: optional file listing the names to read, in order (relative paths resolve against ``root``);
            without it every image in ``rgb/`` is read, sorted by name.
        depth_scale: metres per unit for 16-bit PNG depth maps (required only for those).

    Raises:
        DiceptionInputError: a missing folder, image or ground-truth file, or a mask of the wrong size.
    """
    if task not in DENSE_FOLDERS:
        raise DiceptionInputError(f"task='{task}' has no folder reader; choose one of: {', '.join(DENSE_FOLDERS)}")
    root = Path(root)
    spec, target_dir_name = tasks.get(task), DENSE_FOLDERS[task]
    rgb_dir, target_dir, mask_dir = root / "rgb", root / target_dir_name, root / "valid_mask"
    for folder in (rgb_dir, target_dir):
        if not folder.is_dir():
            raise DiceptionInputError(f"{folder} is missing; the layout is ROOT/rgb/ and ROOT/{target_dir_name}/")
    if split is not None:
        split_path = Path(split) if Path(split).is_absolute() else root / split
        names = _read_split(split_path)
    else:
        names = sorted(p.stem for p in rgb_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)

    for name in names:
        image = _find(rgb_dir, name, IMAGE_SUFFIXES)
        if image is None:
            raise DiceptionInputError(f"no image {rgb_dir}/{name}.png|.jpg|.jpeg")
        target = _find(target_dir, name, (".npy", ".png"))
        if target is None:
            raise DiceptionInputError(f"no ground truth {target_dir}/{name}.npy|.png for image {image.name}")
        base = Sample(image_path=image, task=spec.name, prompt=spec.full_prompt(), sample_id=name)
        (sample,) = spec.read_ground_truth(base, target, GroundTruthOptions(depth_scale=depth_scale))
        valid = sample.valid_mask
        mask_file = _find(mask_dir, name, (".png", ".npy")) if mask_dir.is_dir() else None
        if mask_file is not None:
            extra = load_valid_mask(mask_file)
            if extra.shape != valid.shape:
                raise DiceptionInputError(f"{mask_file} has shape {extra.shape}; ground truth is {valid.shape}")
            valid &= extra
        sample.valid_mask = valid
        yield sample
