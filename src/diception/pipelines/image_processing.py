"""Images in and out of the pipeline: loading, conversion to tensors, resizing.

Accepted inputs: a path, a PIL image, a numpy array (HxW or HxWxC; uint8 in [0, 255] or float in [0, 1]) or a
torch tensor (CxHxW or HxW; same value conventions). Everything becomes a float32 ``(3, H, W)`` tensor in [0, 1].
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..data.image_files import load_image, to_rgb
from ..errors import DiceptionInputError

ImageInput = str | os.PathLike | Image.Image | np.ndarray | torch.Tensor


def to_tensor(image: ImageInput) -> torch.Tensor:
    """Any accepted image -> float32 ``(3, H, W)`` tensor in [0, 1]."""
    if isinstance(image, (str, os.PathLike)):
        image = load_image(image)
    if isinstance(image, Image.Image):
        image = np.array(to_rgb(image))
    if isinstance(image, np.ndarray):
        if image.ndim == 2:
            image = image[..., None]
        if image.ndim != 3:
            raise DiceptionInputError(f"image array has shape {image.shape}; expected HxW or HxWxC")
        tensor = torch.from_numpy(np.array(image)).permute(2, 0, 1)  # a copy: inputs may be read-only
    elif isinstance(image, torch.Tensor):
        tensor = image.detach().cpu()
        if tensor.ndim == 2:
            tensor = tensor[None]
        if tensor.ndim != 3:
            raise DiceptionInputError(f"image tensor has shape {tuple(tensor.shape)}; expected CxH xW or HxW")
    else:
        raise DiceptionInputError(
            f"unsupported image type {type(image).__name__}; pass a path, PIL image, numpy array or torch tensor"
        )
    if tensor.dtype == torch.uint8:
        tensor = tensor.float() / 255.0
    elif tensor.is_floating_point():
        tensor = tensor.float()
        if tensor.numel() and (tensor.min() < -1e-3 or tensor.max() > 1 + 1e-3):
            raise DiceptionInputError(
                "float image values must lie in [0, 1]; divide 8-bit data by 255 or pass it as uint8"
            )
        tensor = tensor.clamp(0, 1)
    else:
        raise DiceptionInputError(f"image dtype {tensor.dtype} is not supported; use uint8 or float")
    channels = tensor.shape[0]
    if channels == 1:
        tensor = tensor.expand(3, -1, -1)
    elif channels == 4:
        tensor = tensor[:3]
    elif channels != 3:
        raise DiceptionInputError(f"image has {channels} channels; expected 1 (grey), 3 (RGB) or 4 (RGBA)")
    if min(tensor.shape[1:]) < 1:
        raise DiceptionInputError("image is empty")
    return tensor.contiguous()


def resize(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of ``(B, C, H, W)`` to ``size = (H', W')``, antialiased when shrinking (the published
    batch script's ``Resize(BILINEAR)``)."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    shrink = size[0] < images.shape[-2] or size[1] < images.shape[-1]
    out = F.interpolate(images.float(), size=size, mode="bilinear", align_corners=False, antialias=shrink)
    return out.to(images.dtype)
