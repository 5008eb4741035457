"""What :class:`DiceptionPipeline` returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import PIL.Image
import torch
from diffusers.utils import BaseOutput


@dataclass
class DiceptionOutput(BaseOutput):
    """Output of :class:`~diception.DiceptionPipeline`.

    Args:
        images: the model's RGB pictures in [0, 1], resized back to each input's size: a ``(B, H, W, 3)`` array
            (``output_type="np"``; a list of ``(H, W, 3)`` arrays when the inputs differ in size), a ``(B, 3, H, W)``
            tensor or list (``"pt"``), or a list of PIL images (``"pil"``). ``None`` for ``"latent"``.
        prediction: one structured prediction per image, what its task's ``decode`` returns: depth an ``(H, W)``
            float32 disparity in [0, 1] (near = 1); normal ``(H, W, 3)`` float32 unit vectors; segmentation a
            :class:`~diception.tasks.point_seg.MaskPrediction` (bool mask, score, COCO RLE); semantic and entity a
            list of :class:`~diception.tasks.instances.Instance`; pose a list of
            :class:`~diception.tasks.pose.PersonPose`; a registered task its own structure (the default: the
            ``(H, W, 3)`` picture). With ``"pt"`` the array predictions are tensors. ``None`` for ``"latent"``.
        prompts: the exact prompt each image was run with.
        latents: the final ``(B, C, h, w)`` latents, only for ``output_type="latent"``.
    """

    images: np.ndarray | torch.Tensor | list[np.ndarray] | list[torch.Tensor] | list[PIL.Image.Image] | None
    prediction: list | None
    prompts: list[str]
    latents: torch.Tensor | None = None
