"""Text-to-image pretraining: the generative prior DICEPTION starts from, grown here on synthetic scenes.

With ``objective.generative: true`` the trainer teaches the transformer to draw a scene picture from its caption
(:mod:`diception.data.synthetic.captions`, ``data.kind: scene_captions``) with SD3's own objective: no condition
tokens, no point tokens, flow matching on the picture's latents. Fine-tuning that model for perception
(``model.init: pretrained``) is then DICEPTION's recipe in miniature. :func:`generate_pictures` samples the
generator, so a run can show what its prior draws.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler
from PIL import Image, ImageDraw

from ..atomic_files import write_atomically

GENERATION_TASK = "text2image"  # the task name a generative run logs its loss under


@torch.no_grad()
def generate_pictures(pipe, prompts: Sequence[str], size: int, num_inference_steps: int = 16,
                      guidance_scale: float = 2.0, seed: int = 0) -> np.ndarray:  # fmt: skip
    """``(N, size, size, 3)`` float pictures in [0, 1] that ``pipe``'s transformer draws for ``prompts`` (no
    condition image: plain text-to-image), with flow-match Euler and classifier-free guidance against ``""``."""
    device, dtype = pipe.transformer.device, pipe.transformer.dtype
    scheduler = FlowMatchEulerDiscreteScheduler.from_config(pipe.scheduler.config)
    scheduler.set_timesteps(num_inference_steps, device=device)
    text, pooled = pipe.encode_prompt(list(prompts))
    do_cfg = guidance_scale > 1.0
    if do_cfg:
        empty_text, empty_pooled = pipe.encode_prompt([""] * len(prompts))
        text, pooled = torch.cat([empty_text, text]), torch.cat([empty_pooled, pooled])
    text, pooled = text.to(device, dtype), pooled.to(device, dtype)
    side = size // pipe.vae_scale_factor
    generator = torch.Generator().manual_seed(seed)
    latents = torch.randn(len(prompts), pipe.transformer.config.in_channels, side, side, generator=generator)
    latents = latents.to(device)
    for t in scheduler.timesteps:
        model_in = torch.cat([latents, latents]) if do_cfg else latents
        velocity = pipe.transformer(hidden_states=model_in.to(dtype), encoder_hidden_states=text,
                                    pooled_projections=pooled, timestep=t.expand(model_in.shape[0]),
                                    return_dict=False)[0].float()  # fmt: skip
        if do_cfg:
            uncond, cond = velocity.chunk(2)
            velocity = uncond + guidance_scale * (cond - uncond)
        latents = scheduler.step(velocity, t, latents, return_dict=False)[0]
    return pipe.decode_latents(latents).permute(0, 2, 3, 1).cpu().numpy()


def generation_sheet(truths: np.ndarray, generated: np.ndarray, captions: Sequence[str], path, cell: int = 128
                     ) -> None:  # fmt: skip
    """A PNG with one column per caption: the true scene above, the generated picture below, the caption under."""
    sheet = Image.new("RGB", (cell * len(captions), 2 * cell + 40), "white")
    draw = ImageDraw.Draw(sheet)
    for i, caption in enumerate(captions):
        for row, picture in enumerate((truths[i], generated[i])):
            tile = Image.fromarray(np.round(np.clip(picture, 0, 1) * 255).astype(np.uint8)).resize((cell, cell))
            sheet.paste(tile, (i * cell, row * cell))
        for k, word in enumerate(caption.split()[:3]):
            draw.text((i * cell + 2, 2 * cell + 2 + 12 * k), word, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda stream: sheet.save(stream, format="PNG"))
