"""DICEPTION inference: one SD3-based model, six perception tasks chosen by prompt."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import PIL.Image
import torch
import torch.nn.functional as F
from diffusers import DiffusionPipeline, FlowMatchEulerDiscreteScheduler
from diffusers.utils.torch_utils import randn_tensor
from safetensors import SafetensorError

from .. import tasks
from ..errors import DiceptionInputError
from ..modeling import DiceptionTransformer, PointPromptEncoder
from ..tasks.points import POINT_ORDERS, point_slots, points_from_pixels
from ..tasks.registry import TaskRequest
from ..tasks.user_tasks import is_taught
from .image_processing import ImageInput, resize, to_tensor
from .model_folder import check_model_folder
from .pipeline_output import DiceptionOutput
from .prompt_cache import PromptEmbeddingCache, encode_with_text_encoders
from .published_loader import TEXT_COMPONENTS, load_published

OUTPUT_TYPES = ("np", "pt", "pil", "latent")


class DiceptionPipeline(DiffusionPipeline):
    """Generalist perception with DICEPTION (SD3 MMDiT, rectified flow, task chosen by prompt).

    Components: ``transformer`` (:class:`DiceptionTransformer`), ``point_encoder`` (:class:`PointPromptEncoder`),
    ``vae`` (``AutoencoderKL``, or :class:`PixelShuffleAutoencoder` for small models), ``scheduler``
    (``FlowMatchEulerDiscreteScheduler``), ``prompt_cache`` (:class:`PromptEmbeddingCache`), and optionally SD3's
    three tokenizers and text encoders for prompts outside the cache.

    Config (saved in ``model_index.json``):
        default_num_inference_steps: Euler steps when ``num_inference_steps`` is None (28 as published).
        default_guidance_scale: CFG scale when ``guidance_scale`` is None (2.0 as published; 1.0 disables CFG).
        default_processing_resolution: square side the image is resized to (768 as published).
        point_order: which normalised coordinate the model reads first: ``"xy"`` (x = column / width first, as
            the published single-image script feeds it) or ``"yx"`` (the published batch collator's order).
    """

    model_cpu_offload_seq = "text_encoder->text_encoder_2->text_encoder_3->transformer->vae"
    _optional_components = list(TEXT_COMPONENTS)
    _callback_tensor_inputs = ["latents", "prompt_embeds", "pooled_prompt_embeds"]

    def __init__(
        self,
        transformer: DiceptionTransformer,
        point_encoder: PointPromptEncoder,
        vae,
        scheduler: FlowMatchEulerDiscreteScheduler,
        prompt_cache: PromptEmbeddingCache,
        tokenizer=None,
        tokenizer_2=None,
        tokenizer_3=None,
        text_encoder=None,
        text_encoder_2=None,
        text_encoder_3=None,
        default_num_inference_steps: int = 28,
        default_guidance_scale: float = 2.0,
        default_processing_resolution: int = 768,
        point_order: str = "xy",
    ):
        super().__init__()
        if point_order not in POINT_ORDERS:
            raise ValueError(f"point_order must be one of {POINT_ORDERS}, got {point_order!r}")
        self.register_modules(
            transformer=transformer, point_encoder=point_encoder, vae=vae, scheduler=scheduler,
            prompt_cache=prompt_cache, tokenizer=tokenizer, tokenizer_2=tokenizer_2, tokenizer_3=tokenizer_3,
            text_encoder=text_encoder, text_encoder_2=text_encoder_2, text_encoder_3=text_encoder_3,
        )  # fmt: skip
        self.register_to_config(
            default_num_inference_steps=default_num_inference_steps,
            default_guidance_scale=default_guidance_scale,
            default_processing_resolution=default_processing_resolution,
            point_order=point_order,
        )
        self.vae_scale_factor = spatial_scale(self.vae)
        self._adapters: dict[str, str] = {}  # task name -> the LoRA adapter (of the transformer) it runs with
        self._fused: str | None = None

    # ------------------------------------------------------------------------------------------------------
    # Loading
    # ------------------------------------------------------------------------------------------------------
    @classmethod
    def from_official(
        cls,
        sd3_dir: str | os.PathLike,
        diception_pth: str | os.PathLike,
        torch_dtype: torch.dtype | None = None,
        with_text_encoders: bool = False,
        extra_prompts: Sequence[str] = (),
        trust_checkpoint: bool = False,
        **config,
    ) -> DiceptionPipeline:
        """Build the pipeline from the SD3-medium diffusers folder and the published ``DICEPTION_v1.pth``.

        The checkpoint is read with ``weights_only=True``. As the published loader does, transformer weights it
        lacks (very likely the positional table) keep the SD3 folder's values; we name them in a warning.
        Weights of the wrong shape are an error, unknown keys a warning. SD3's text encoders are loaded once to
        fill the prompt cache (the six task prompts, the 80 COCO semantic prompts, ``extra_prompts`` and the empty
        prompt) and dropped unless ``with_text_encoders``. The loading itself lives in :mod:`.published_loader`.

        Args:
            sd3_dir: folder of ``stabilityai/stable-diffusion-3-medium-diffusers``.
            diception_pth: the published checkpoint.
            torch_dtype: dtype of all weights (default float32).
            with_text_encoders: keep the tokenizers and text encoders for uncached prompts.
            extra_prompts: further prompts to cache.
            trust_checkpoint: unpickle a checkpoint that holds Python objects besides tensors (unsafe: it runs
                whatever the file holds; only for files you trust).
            config: overrides of the pipeline config (``default_num_inference_steps``, ``point_order``, ...).
        """
        return load_published(cls, sd3_dir, diception_pth, torch_dtype, with_text_encoders, extra_prompts,
                              trust_checkpoint, **config)  # fmt: skip

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs) -> DiceptionPipeline:
        """Load a folder written by :meth:`save_pretrained` (or ``diception convert``). Local folders only, and
        safetensors only (a ``.bin`` is never unpickled). The folder is checked first, on the meta device
        (:func:`.model_folder.check_model_folder`): a damaged one is one error naming the file."""
        folder = Path(pretrained_model_name_or_path)
        index = folder / "model_index.json"
        if not index.is_file():
            raise DiceptionInputError(
                f"'{folder}' is not a DICEPTION model folder (no model_index.json); create one with "
                "`diception convert --sd3 SD3_DIR --checkpoint DICEPTION_v1.pth --out DIR`"
            )
        try:
            config = json.loads(index.read_text(encoding="utf-8"))
            class_name = config.get("_class_name")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            raise DiceptionInputError(
                f"'{index}' is not valid JSON; the model folder is damaged: convert it again with `diception convert`"
            ) from None
        if class_name != cls.__name__:
            raise DiceptionInputError(
                f"'{folder}' holds a different pipeline; for the SD3 folder plus DICEPTION_v1.pth use "
                "--pretrained_model_path SD3_DIR --diception_path PTH (Python: DiceptionPipeline.from_official)"
            )
        check_model_folder(folder, cls, config, skip=kwargs)  # components passed in are not loaded from the folder
        kwargs.setdefault("local_files_only", True)
        kwargs.setdefault("use_safetensors", True)  # never fall back to unpickling .bin files
        try:
            return super().from_pretrained(folder, **kwargs)
        except DiceptionInputError:
            raise
        except (OSError, ValueError, RuntimeError, KeyError, SafetensorError) as err:
            raise loading_error(folder, err) from None

    # ------------------------------------------------------------------------------------------------------
    # Conditioning
    # ------------------------------------------------------------------------------------------------------
    @property
    def has_text_encoders(self) -> bool:
        return all(getattr(self, name, None) is not None for name in ("text_encoder", "text_encoder_2"))

    def encode_prompt(self, prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, S, D)`` text and ``(B, P)`` pooled embeddings: from the cache, else from the text encoders."""
        if all(p in self.prompt_cache for p in prompts) or not self.has_text_encoders:
            return self.prompt_cache.lookup(prompts)
        components = {name: getattr(self, name, None) for name in TEXT_COMPONENTS}
        return encode_with_text_encoders(components, prompts, self._execution_device)

    def encode_points(self, requests: Sequence[TaskRequest]) -> torch.Tensor:
        """``(B, 5, inner_dim)`` point tokens; coordinates are ordered as ``config.point_order`` says."""
        coords, is_point = point_slots([r.points for r in requests], self.config.point_order)
        device = self._execution_device
        return self.point_encoder(coords.to(device), is_point.to(device))

    def encode_condition(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` images in [0, 1] -> shifted and scaled VAE posterior means ``(B, C, H/8, W/8)``."""
        posterior = self.vae.encode((images * 2.0 - 1.0).to(self.vae.dtype)).latent_dist
        latents = posterior.mode()
        shift = self.vae.config.shift_factor or 0.0
        return (latents - shift) * self.vae.config.scaling_factor

    def decode_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """``(B, C, h, w)`` latents -> ``(B, 3, 8h, 8w)`` pictures in [0, 1]."""
        shift = self.vae.config.shift_factor or 0.0
        raw = self.vae.decode((latents / self.vae.config.scaling_factor + shift).to(self.vae.dtype)).sample
        return (raw.float() / 2 + 0.5).clamp(0, 1)

    # ------------------------------------------------------------------------------------------------------
    # Input checking
    # ------------------------------------------------------------------------------------------------------
    def _requests(self, batch: int, task, prompt, category, points, sizes: list[tuple[int, int]]
                  ) -> list[TaskRequest]:  # fmt: skip
        """One :class:`TaskRequest` per image: given ones as they are, the rest resolved from task / prompt /
        category and pixel points."""

        def per_image(value, name: str, is_scalar: Callable[[object], bool]) -> list:
            if is_scalar(value):
                return [value] * batch
            if len(value) != batch:
                raise DiceptionInputError(f"{name} has {len(value)} entries for {batch} images; give one per image")
            return list(value)

        def is_point(value) -> bool:
            return isinstance(value, (list, tuple, np.ndarray)) and len(value) > 0 and np.isscalar(value[0])

        def scalar_points(value) -> bool:  # None, or one image's list of (x, y) pairs
            return value is None or len(value) == 0 or is_point(value[0])

        tasks_ = per_image(task, "task", lambda v: v is None or isinstance(v, (str, tasks.Task, TaskRequest)))
        prompts = per_image(prompt, "prompt", lambda v: v is None or isinstance(v, str))
        categories = per_image(category, "category", lambda v: v is None or isinstance(v, str))
        points_ = per_image(points, "points", scalar_points)
        requests = []
        for t, p, c, pts, size in zip(tasks_, prompts, categories, points_, sizes):
            if isinstance(t, TaskRequest):
                if p is not None or c is not None or (pts is not None and len(pts) > 0):
                    raise DiceptionInputError(
                        "a TaskRequest carries its own prompt and points; do not pass prompt=, category= or points="
                    )
                requests.append(t)
            else:
                pixels = points_from_pixels(pts, size, "points")
                requests.append(tasks.resolve_request(task=t, prompt=p, category=c, points=pixels))
        return requests

    def _processing_size(self, size: tuple[int, int], resolution: int) -> tuple[int, int]:
        """The square ``resolution``, or with 0 the input ``size`` padded up to the latent grid's multiple."""
        multiple = self.vae_scale_factor * self.transformer.config.patch_size
        if resolution == 0:
            target = (-(-size[0] // multiple) * multiple, -(-size[1] // multiple) * multiple)
        else:
            if resolution % multiple:
                raise DiceptionInputError(
                    f"processing size {resolution}x{resolution} is not a multiple of {multiple}; use a multiple of "
                    f"{multiple} (or 0 to keep the input size)"
                )
            target = (resolution, resolution)
        limit = self.transformer.config.pos_embed_max_size * multiple
        if max(target) > limit:
            raise DiceptionInputError(
                f"processing size {target[1]}x{target[0]} exceeds the model's {limit}x{limit} positional table; "
                "use a smaller processing_resolution"
            )
        return target

    # ------------------------------------------------------------------------------------------------------
    # Inference
    # ------------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def __call__(
        self,
        image: ImageInput | Sequence[ImageInput],
        task: str | tasks.Task | TaskRequest | Sequence[str | tasks.Task | TaskRequest] | None = None,
        *,
        prompt: str | Sequence[str] | None = None,
        category: str | Sequence[str] | None = None,
        points: Sequence | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        generator: torch.Generator | list[torch.Generator] | None = None,
        latents: torch.Tensor | None = None,
        processing_resolution: int | None = None,
        output_type: str = "np",
        return_dict: bool = True,
        callback_on_step_end: Callable | None = None,
        callback_on_step_end_tensor_inputs: Sequence[str] = ("latents",),
    ) -> DiceptionOutput | tuple:
        """Run DICEPTION on one image or a batch.

        Args:
            image: a path, PIL image, numpy array (HxWx3; uint8 in [0, 255] or float in [0, 1]), CxHxW tensor, or
                a list of these (a batch), or a ``(B, 3, H, W)`` tensor.
            task: a task name (``"depth"``, ``"normal"``, ``"pose"``, ``"segmentation"``, ``"semantic"``,
                ``"entity"`` or a registered one), a :class:`~diception.tasks.Task`, or a ready
                :class:`~diception.tasks.TaskRequest` (task, prompt and normalised points in one); a list gives
                one per image (one batch can mix tasks).
            prompt: the raw prompt instead of ``task`` (a task's prompt, then its category if it takes one);
                str or list.
            category: the category for a task that takes one (``task="semantic"``: ``"person"``); str or list.
            points: for a task that reads points (``"segmentation"``), up to 5 pixel ``(x, y)`` points of the input
                image (SAM's convention) on one object; for a batch, a list of such lists.
            num_inference_steps: Euler steps (default: ``config.default_num_inference_steps``, 28).
            guidance_scale: CFG scale; > 1 runs the unconditional branch too (default 2.0).
            generator: seeds the starting noise (drawn on the generator's device); a list gives one generator per
                image, so an image's noise does not depend on the batch it runs in.
            latents: ``(B, 16, h, w)`` starting noise instead of drawing it.
            processing_resolution: square side the image is resized to (default 768); 0 keeps the input size,
                padded (edge pixels repeated) up to a multiple of 16 and cropped back afterwards.
            output_type: ``"np"``, ``"pt"``, ``"pil"`` or ``"latent"``.
            return_dict: return a :class:`DiceptionOutput` (else a tuple ``(images, prediction)``).
            callback_on_step_end: ``fn(pipe, step, timestep, callback_kwargs) -> dict`` after every step,
                diffusers-style (a ``PipelineCallback`` works too); the returned tensors replace the pipeline's.
            callback_on_step_end_tensor_inputs: which tensors ``callback_kwargs`` holds, from
                ``"latents"``, ``"prompt_embeds"`` and ``"pooled_prompt_embeds"`` (default ``["latents"]``).

        Returns:
            :class:`DiceptionOutput` with ``images`` (the model's RGB outputs at input size), ``prediction`` (one
            decoded structure per image, by its task) and ``prompts``.
        """
        # 1. Defaults come from the model's config; check what can be checked before any work.
        steps = num_inference_steps if num_inference_steps is not None else self.config.default_num_inference_steps
        guidance = guidance_scale if guidance_scale is not None else self.config.default_guidance_scale
        resolution = (
            processing_resolution if processing_resolution is not None else self.config.default_processing_resolution
        )
        if output_type not in OUTPUT_TYPES:
            raise DiceptionInputError(f"output_type '{output_type}' is not one of {', '.join(OUTPUT_TYPES)}")
        if int(steps) < 1:
            raise DiceptionInputError(f"num_inference_steps must be at least 1, got {steps}")
        if resolution < 0:
            raise DiceptionInputError(f"processing_resolution must be >= 0, got {resolution}")
        tensor_inputs = list(getattr(callback_on_step_end, "tensor_inputs", callback_on_step_end_tensor_inputs))
        unknown = [name for name in tensor_inputs if name not in self._callback_tensor_inputs]
        if unknown:
            raise DiceptionInputError(
                f"callback_on_step_end_tensor_inputs {unknown} are not among {self._callback_tensor_inputs}"
            )

        # 2. Images to (3, H, W) tensors in [0, 1]; tasks, prompts and points to validated requests.
        if isinstance(image, torch.Tensor) and image.ndim == 4:
            image = list(image)
        images = [to_tensor(im) for im in (image if isinstance(image, (list, tuple)) else [image])]
        if not images:
            raise DiceptionInputError("no images given")
        sizes = [tuple(im.shape[-2:]) for im in images]
        requests = self._requests(len(images), task, prompt, category, points, sizes)

        # 3. Images that share a processing size run as one batch (resized, or padded when keeping their size).
        #    A task taught by an adapter runs in its own batch, with that adapter switched on.
        groups: dict[tuple[tuple[int, int], str | None], list[int]] = {}
        for i, size in enumerate(sizes):
            key = (self._processing_size(size, resolution), self._adapters.get(requests[i].task.name))
            groups.setdefault(key, []).append(i)
        if latents is not None and len(groups) > 1:
            raise DiceptionInputError("latents= needs all images at one processing size and of tasks of one adapter")
        if isinstance(generator, list) and len(generator) != len(images):
            raise DiceptionInputError(f"generator has {len(generator)} entries for {len(images)} images; give one each")

        def fit(im: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
            if resolution:
                return resize(im[None], size)
            pad = (0, size[1] - im.shape[-1], 0, size[0] - im.shape[-2])
            return F.pad(im[None], pad, mode="replicate") if any(pad) else im[None]

        results: list[torch.Tensor | None] = [None] * len(images)
        for (size, adapter), members in groups.items():
            batch = torch.cat([fit(images[i], size) for i in members])
            group_generator = [generator[i] for i in members] if isinstance(generator, list) else generator
            self._switch_adapter(adapter)
            out = self._denoise(batch, [requests[i] for i in members], steps, guidance, group_generator, latents,
                                callback_on_step_end, tensor_inputs)  # fmt: skip
            for k, i in enumerate(members):
                results[i] = out[k]

        if output_type == "latent":
            return DiceptionOutput(images=None, prediction=None, prompts=[r.prompt for r in requests],
                                   latents=torch.stack(results))  # fmt: skip

        # 4. Decode the latents, back to each input's size (cropped or resized), read out each task's structure.
        pictures: list[torch.Tensor | None] = [None] * len(images)
        for members in groups.values():
            decoded = self.decode_latents(torch.stack([results[i] for i in members]))
            for k, i in enumerate(members):
                picture = decoded[k : k + 1].cpu()
                if not resolution:
                    picture = picture[..., : sizes[i][0], : sizes[i][1]]
                pictures[i] = resize(picture, sizes[i])[0]
        self.maybe_free_model_hooks()
        return self._format(pictures, requests, output_type, return_dict)

    # ------------------------------------------------------------------------------------------------------
    # Task adapters
    # ------------------------------------------------------------------------------------------------------
    def load_adapter(self, folder: str | os.PathLike) -> tasks.Task:
        """Teach the pipeline the task an adapter folder (``diception finetune --out DIR``) holds: register the
        task, cache its prompt's embedding and load its LoRA beside any loaded before. Returns the task, so
        ``pipe(image, task=task.name)`` runs it; other tasks run without it. Nothing is unpickled."""
        from .task_adapter import LORA_WEIGHTS_NAME, read_task_adapter

        adapter = read_task_adapter(folder)
        if self._fused is not None:
            raise DiceptionInputError(f"adapter '{self._fused}' is fused; unfuse_adapter() before loading another")
        reloading = adapter.name in self._adapters
        previous = tasks.TASKS.get(adapter.name)
        task = tasks.register(adapter.task(), replace=reloading or is_taught(previous))
        try:
            cache = self.prompt_cache.with_prompt(adapter.prompt, adapter.prompt_embeds, adapter.pooled_prompt_embeds)
            if reloading:
                self.transformer.delete_adapters(adapter.name)
            self.transformer.load_lora_adapter(str(adapter.folder), adapter_name=adapter.name, prefix=None,
                                               use_safetensors=True, weight_name=LORA_WEIGHTS_NAME)  # fmt: skip
        except Exception:
            tasks.unregister(task.name)
            if previous is not None:
                tasks.register(previous)
            raise
        self.register_modules(prompt_cache=cache)
        self._adapters[task.name] = adapter.name
        return task

    @property
    def adapters(self) -> list[str]:
        """The task adapters loaded (each named as its task)."""
        return list(self._adapters.values())

    def fuse_adapter(self, name: str) -> None:
        """Fold adapter ``name`` into the transformer's weights (faster); until :meth:`unfuse_adapter`, only its
        task runs."""
        if name not in self._adapters.values():
            raise DiceptionInputError(f"no adapter '{name}' is loaded; loaded: {', '.join(self.adapters) or 'none'}")
        self.unfuse_adapter()
        self.transformer.enable_lora()
        self.transformer.set_adapters([name])
        self.transformer.fuse_lora(adapter_names=[name])
        self._fused = name

    def unfuse_adapter(self) -> None:
        """Undo :meth:`fuse_adapter` (the base weights come back exactly as they were)."""
        if self._fused is not None:
            self.transformer.unfuse_lora()
            self._fused = None

    def _switch_adapter(self, name: str | None) -> None:
        """Run the next batch with adapter ``name`` on, or with none (a base task)."""
        if not self._adapters:
            return
        if self._fused is not None:
            if name != self._fused:
                what = f"task adapter '{name}'" if name else "a task of the base model"
                raise DiceptionInputError(f"adapter '{self._fused}' is fused into the weights, so {what} cannot run; "
                                          "call unfuse_adapter() first")  # fmt: skip
            return
        if name is None:
            self.transformer.disable_lora()
        else:
            self.transformer.enable_lora()
            self.transformer.set_adapters([name])

    def _denoise(self, images, requests, steps, guidance, generator, latents, callback, tensor_inputs):
        """Flow-matching Euler sampling for one same-size batch; returns the final latents (float32)."""
        device = self._execution_device
        dtype = self.transformer.dtype
        batch = len(requests)
        do_cfg = guidance > 1.0

        cond = self.encode_condition(images.to(device)).to(dtype)  # (B, C, h, w)
        text, pooled = self.encode_prompt([r.prompt for r in requests])
        point_tokens = self.encode_points(requests)  # (B, 5, D)
        if do_cfg:
            empty_text, empty_pooled = self.encode_prompt([""] * batch)
            text = torch.cat([empty_text, text])
            pooled = torch.cat([empty_pooled, pooled])
            point_tokens = torch.cat([torch.zeros_like(point_tokens), point_tokens])
            cond = torch.cat([cond, cond])
        text, pooled, point_tokens = (t.to(device, dtype) for t in (text, pooled, point_tokens))

        shape = (batch, self.transformer.config.in_channels, *cond.shape[-2:])
        if latents is None:
            latents = randn_tensor(shape, generator=generator, device=device, dtype=torch.float32)
        elif tuple(latents.shape) != shape:
            raise DiceptionInputError(f"latents have shape {tuple(latents.shape)}; expected {shape}")
        latents = latents.to(device, torch.float32)

        self.scheduler.set_timesteps(steps, device=device)
        for i, t in enumerate(self.progress_bar(self.scheduler.timesteps)):
            model_in = torch.cat([latents, latents]) if do_cfg else latents
            velocity = self.transformer(
                hidden_states=model_in.to(dtype),
                encoder_hidden_states=text,
                pooled_projections=pooled,
                timestep=t.expand(model_in.shape[0]),
                cond_latents=cond,
                point_tokens=point_tokens,
                return_dict=False,
            )[0].float()
            if do_cfg:
                uncond, cond_v = velocity.chunk(2)
                velocity = uncond + guidance * (cond_v - uncond)
            latents = self.scheduler.step(velocity, t, latents, return_dict=False)[0]
            if callback is not None:
                current = {"latents": latents, "prompt_embeds": text, "pooled_prompt_embeds": pooled}
                updates = callback(self, i, t, {name: current[name] for name in tensor_inputs}) or {}
                latents = updates.get("latents", latents)
                text = updates.get("prompt_embeds", text)
                pooled = updates.get("pooled_prompt_embeds", pooled)
        return latents

    def _format(self, pictures: list[torch.Tensor], requests: list[TaskRequest], output_type: str,
                return_dict: bool):  # fmt: skip
        arrays = [p.permute(1, 2, 0).numpy() for p in pictures]  # (H, W, 3) each
        prediction = [r.task.decode(a) for r, a in zip(requests, arrays)]
        same_size = len({a.shape for a in arrays}) == 1
        if output_type == "pt":
            images = torch.stack(pictures) if same_size else pictures
            prediction = [torch.from_numpy(np.ascontiguousarray(p)) if isinstance(p, np.ndarray) else p
                          for p in prediction]  # fmt: skip
        elif output_type == "pil":
            images = [PIL.Image.fromarray((a * 255).round().astype(np.uint8)) for a in arrays]
        else:
            images = np.stack(arrays) if same_size else arrays
        if not return_dict:
            return images, prediction
        return DiceptionOutput(images=images, prediction=prediction, prompts=[r.prompt for r in requests])


def spatial_scale(vae) -> int:
    """How many pixels one latent cell spans: ``downscale_factor`` of a pixel-shuffle autoencoder, else 2 per
    down block of an ``AutoencoderKL`` (8 for SD3's VAE)."""
    factor = getattr(vae.config, "downscale_factor", None)
    return int(factor) if factor else 2 ** (len(vae.config.block_out_channels) - 1)


def loading_error(folder: Path, err: Exception) -> DiceptionInputError:
    """What went wrong loading a model folder, in one line with the fix: a missing file, a damaged weights
    file, or weights that do not fit the folder's configs."""
    first = (str(err).strip().splitlines() or [type(err).__name__])[0]
    text = str(err).lower()
    if isinstance(err, FileNotFoundError) or "no file named" in text or "does not appear to have a file" in text:
        what = f"is incomplete ({first})"
    elif "safetensor" in text or "header" in text or "deserializ" in text or type(err).__name__ == "SafetensorError":
        what = f"is incomplete or corrupt: a weights file cannot be read ({first})"
    elif "size mismatch" in text or "shape" in text or "missing" in text or "unexpected" in text:
        what = f"holds weights that do not fit its configs ({first})"
    else:
        what = f"cannot be loaded ({type(err).__name__}: {first})"
    return DiceptionInputError(f"model folder '{folder}' {what}; convert it again with `diception convert`")
