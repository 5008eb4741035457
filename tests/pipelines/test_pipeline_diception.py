"""The pipeline's public contract: inputs, batching, outputs, defaults and clear errors."""

from __future__ import annotations

import numpy as np
import PIL.Image
import pytest
import torch

from diception import DiceptionInputError, DiceptionPipeline, tasks
from diception.tasks import TASKS

FAST = dict(num_inference_steps=1, guidance_scale=1.0, processing_resolution=64)


def picture(height: int = 48, width: int = 80, seed: int = 0) -> np.ndarray:
    """A uint8 test picture with some structure."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, 3), np.uint8)
    img[: height // 2] = (40, 90, 200)
    img[height // 2 :] = (120, 100, 60)
    img[height // 3 : 2 * height // 3, width // 4 : width // 2] = (230, 40, 40)
    return np.clip(img + rng.integers(0, 20, img.shape), 0, 255).astype(np.uint8)


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_every_task_runs_and_returns_input_sized_outputs(pipe, task):
    spec = TASKS[task]
    kwargs = {"category": "person"} if spec.needs_category else {}
    if spec.accepts_points:
        kwargs["points"] = [(20, 24)]
    out = pipe(picture(), task, generator=generator(), **kwargs, **FAST)
    assert out.images.shape == (1, 48, 80, 3)
    assert out.images.min() >= 0.0 and out.images.max() <= 1.0
    assert out.prompts == [spec.full_prompt(kwargs.get("category"))]
    assert len(out.prediction) == 1


def test_predictions_have_the_documented_structure(pipe):
    img = picture()
    out = pipe([img, img, img], ["depth", "normal", "segmentation"], points=[None, None, [(10, 10)]],
               generator=generator(), **FAST)  # fmt: skip
    depth, normals, mask = out.prediction
    assert depth.shape == (48, 80) and depth.dtype == np.float32
    assert depth.min() >= 0.0 and depth.max() <= 1.0
    np.testing.assert_allclose(depth, out.images[0].mean(-1), atol=1e-6)
    assert normals.shape == (48, 80, 3)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=-1), 1.0, atol=1e-5)
    assert mask.mask.shape == (48, 80) and mask.mask.dtype == bool
    assert 0.0 <= mask.score <= 1.0 and mask.rle["size"] == [48, 80]


def test_batch_with_mixed_tasks_equals_single_runs(pipe):
    images = [picture(seed=1), picture(seed=2)]
    noise = torch.randn(2, 16, 8, 8, generator=generator(3))
    batched = pipe(images, ["depth", "semantic"], category=[None, "cat"], latents=noise, **FAST)
    first = pipe(images[0], "depth", latents=noise[:1], **FAST)
    second = pipe(images[1], "semantic", category="cat", latents=noise[1:], **FAST)
    np.testing.assert_allclose(batched.images[0], first.images[0], atol=1e-5)
    np.testing.assert_allclose(batched.images[1], second.images[0], atol=1e-5)


def test_same_seed_same_output_and_other_seed_differs(pipe):
    a = pipe(picture(), "depth", generator=generator(7), **FAST).images
    b = pipe(picture(), "depth", generator=generator(7), **FAST).images
    c = pipe(picture(), "depth", generator=generator(8), **FAST).images
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-4


def test_input_types_agree(pipe, tmp_path):
    img = picture()
    path = tmp_path / "in.png"
    PIL.Image.fromarray(img).save(path)
    as_float = img.astype(np.float32) / 255
    variants = [img, as_float, PIL.Image.fromarray(img), str(path), torch.from_numpy(as_float).permute(2, 0, 1)]
    outs = [pipe(v, "depth", generator=generator(), **FAST).images for v in variants]
    for out in outs[1:]:
        np.testing.assert_allclose(out, outs[0], atol=1e-5)


def test_output_types(pipe):
    images = [picture(), picture(seed=4)]
    np_out = pipe(images, "normal", generator=generator(), **FAST)
    pt_out = pipe(images, "normal", generator=generator(), output_type="pt", **FAST)
    pil_out = pipe(images, "normal", generator=generator(), output_type="pil", **FAST)
    latent_out = pipe(images, "normal", generator=generator(), output_type="latent", **FAST)
    assert pt_out.images.shape == (2, 3, 48, 80)
    np.testing.assert_allclose(pt_out.images.permute(0, 2, 3, 1).numpy(), np_out.images, atol=1e-6)
    assert isinstance(pt_out.prediction[0], torch.Tensor)
    assert all(isinstance(im, PIL.Image.Image) and im.size == (80, 48) for im in pil_out.images)
    assert latent_out.latents.shape == (2, 16, 8, 8) and latent_out.images is None
    images_only, prediction = pipe(images, "normal", generator=generator(), return_dict=False, **FAST)
    np.testing.assert_allclose(images_only, np_out.images, atol=1e-6)


def test_inputs_of_different_sizes_come_back_at_their_own_size(pipe):
    out = pipe([picture(32, 32), picture(64, 48)], "depth", generator=generator(), processing_resolution=0,
               num_inference_steps=1, guidance_scale=1.0)  # fmt: skip
    assert [im.shape for im in out.images] == [(32, 32, 3), (64, 48, 3)]


def test_keeping_the_input_size_pads_odd_sizes_and_crops_back(pipe):
    img = picture(40, 56)  # neither side a multiple of 16
    latents = pipe(img, "depth", processing_resolution=0, num_inference_steps=1, guidance_scale=1.0,
                   output_type="latent", generator=generator()).latents  # fmt: skip
    assert latents.shape == (1, 16, 6, 8)  # padded to 48 x 64
    out = pipe(img, "depth", processing_resolution=0, num_inference_steps=1, guidance_scale=1.0, latents=latents)
    assert out.images.shape == (1, 40, 56, 3) and out.prediction[0].shape == (40, 56)
    padded = np.pad(img, ((0, 8), (0, 8), (0, 0)), mode="edge")  # what the pipeline feeds the model
    full = pipe(padded, "depth", processing_resolution=0, num_inference_steps=1, guidance_scale=1.0, latents=latents)
    np.testing.assert_allclose(out.images[0], full.images[0][:40, :56], atol=1e-6)


def test_a_task_request_runs_as_its_parts_do(pipe):
    noise = torch.randn(2, 16, 8, 8, generator=generator(4))
    request = tasks.resolve_request(task="segmentation", points=[(0.25, 0.5)])  # normalised (x, y)
    by_request = pipe([picture(), picture()], task=[request, tasks.get("depth")], latents=noise, **FAST)
    by_parts = pipe([picture(), picture()], task=["segmentation", "depth"], points=[[(20, 24)], None], latents=noise,
                    **FAST)  # fmt: skip
    np.testing.assert_array_equal(by_request.images, by_parts.images)
    assert by_request.prompts == by_parts.prompts
    with pytest.raises(DiceptionInputError, match="carries its own prompt"):
        pipe(picture(), task=request, points=[(1, 1)], **FAST)


def test_callback_gets_the_tensors_it_asks_for_and_may_replace_them(pipe):
    seen = []

    def callback(p, step, t, kwargs):
        seen.append(sorted(kwargs))
        return {"latents": torch.zeros_like(kwargs["latents"])}

    out = pipe(picture(), "depth", num_inference_steps=2, guidance_scale=2.0, processing_resolution=32,
               callback_on_step_end=callback, callback_on_step_end_tensor_inputs=["latents", "prompt_embeds"],
               output_type="latent")  # fmt: skip
    assert seen == [["latents", "prompt_embeds"]] * 2 and not out.latents.any()
    with pytest.raises(DiceptionInputError, match="not among"):
        pipe(picture(), "depth", callback_on_step_end=callback, callback_on_step_end_tensor_inputs=["noise"], **FAST)


def test_raw_prompt_equals_task_and_category(pipe):
    noise = torch.randn(1, 16, 8, 8, generator=generator(5))
    a = pipe(picture(), prompt="[[image2semantic]] dog", latents=noise, **FAST).images
    b = pipe(picture(), "semantic", category="dog", latents=noise, **FAST).images
    np.testing.assert_array_equal(a, b)


def test_defaults_come_from_the_model_config(model_dir):
    pipe = DiceptionPipeline.from_pretrained(model_dir)
    pipe.set_progress_bar_config(disable=True)
    assert (pipe.config.default_num_inference_steps, pipe.config.default_guidance_scale) == (28, 2.0)
    assert pipe.config.default_processing_resolution == 768
    pipe.register_to_config(default_num_inference_steps=2, default_guidance_scale=1.0,
                            default_processing_resolution=32)  # fmt: skip
    steps = []
    out = pipe(picture(), "depth", callback_on_step_end=lambda p, i, t, kw: steps.append(i))
    assert steps == [0, 1] and out.images.shape == (1, 48, 80, 3)


def test_guidance_runs_the_unconditional_branch(pipe):
    calls = []
    hook = pipe.transformer.register_forward_hook(lambda m, args, kw_out: calls.append(kw_out[0].shape[0]))
    try:
        pipe(picture(), "depth", num_inference_steps=1, guidance_scale=2.0, processing_resolution=32)
    finally:
        hook.remove()
    assert calls == [2]  # one batch of [unconditional; conditional]


def test_point_order_config_swaps_the_coordinates(model_dir):
    xy = DiceptionPipeline.from_pretrained(model_dir)
    yx = DiceptionPipeline.from_pretrained(model_dir, point_order="yx")
    assert yx.config.point_order == "yx"
    request = xy._requests(1, "segmentation", None, None, [[(16, 8)]], [(32, 64)])  # x/W = 0.25, y/H = 0.25
    swapped = xy._requests(1, "segmentation", None, None, [[(8, 16)]], [(32, 64)])  # x/W = 0.125, y/H = 0.5
    with torch.no_grad():
        torch.testing.assert_close(
            yx.encode_points(request),
            xy.encode_points([type(request[0])(request[0].task, request[0].prompt, ((0.25, 0.25),))]),
        )
        assert not torch.allclose(xy.encode_points(request), xy.encode_points(swapped))


def test_save_pretrained_is_self_contained_safetensors(pipe, tmp_path):
    pipe.save_pretrained(tmp_path / "model")
    files = [p.name for p in (tmp_path / "model").rglob("*") if p.is_file()]
    weights = [f for f in files if f.endswith((".safetensors", ".bin", ".pth", ".pt", ".ckpt"))]
    assert weights and all(f.endswith(".safetensors") for f in weights)
    assert not any((tmp_path / "model" / name).exists() for name in ("text_encoder", "text_encoder_3"))
    reloaded = DiceptionPipeline.from_pretrained(tmp_path / "model")
    assert reloaded.prompt_cache.prompts == pipe.prompt_cache.prompts


def test_prompt_cache_holds_tasks_and_coco_categories(pipe):
    from diception.tasks import COCO_CATEGORIES, cached_prompt_set

    assert set(cached_prompt_set()) <= set(pipe.prompt_cache.prompts)
    assert "" in pipe.prompt_cache and "[[image2semantic]] traffic light" in pipe.prompt_cache
    assert len(pipe.prompt_cache) == 1 + 5 + len(COCO_CATEGORIES)


def test_uncached_prompt_with_text_encoders_is_encoded_and_can_be_cached(official_dir):
    extra = ["[[image2semantic]] zebra crossing"]
    pipe = DiceptionPipeline.from_official(
        official_dir, official_dir / "DICEPTION_v1.pth", with_text_encoders=True, extra_prompts=extra
    )
    pipe.set_progress_bar_config(disable=True)
    assert "[[image2semantic]] zebra crossing" in pipe.prompt_cache
    out = pipe(picture(), "semantic", category="lamp post", generator=generator(), **FAST)
    assert out.prompts == ["[[image2semantic]] lamp post"]


# ----------------------------------------------------------------------------------------------------------
# Errors name the problem and the fix
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(task="depht"), "unknown task 'depht'; choose one of: depth, normal"),
        (dict(task="semantic"), "needs a category"),
        (dict(task="depth", category="person"), "takes no category"),
        (dict(task="depth", points=[(1, 1)]), "takes no points"),
        (dict(task="segmentation", points=[(1, 1)] * 6), "at most 5"),
        (dict(task="segmentation", points=[(81, 10)]), "outside the 80x48 image"),
        (dict(task="segmentation", points=[(1, 2, 3)]), "pixel pair"),
        (dict(task=["depth", "normal"]), "2 entries for 1 images"),
        (dict(prompt="[[image2nothing]]"), "names no known task"),
        (dict(), "no task given"),
        (dict(task="semantic", category="unicorn"), "not in the model's prompt cache.*--add-prompt"),
        (dict(task="depth", processing_resolution=70), "multiple of 16"),
        (dict(task="depth", output_type="array"), "output_type 'array'"),
        (dict(task="depth", num_inference_steps=0), "at least 1"),
    ],
)
def test_bad_arguments_raise_one_clear_error(pipe, kwargs, message):
    with pytest.raises(DiceptionInputError, match=message):
        pipe(picture(), **{**FAST, **kwargs})


def corrupt_file(path):
    path.write_bytes(b"\x89PNG not really")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.png", "does not exist"),
        (lambda p: corrupt_file(p / "bad.png"), "cannot be read"),
        (lambda p: np.zeros((4, 4, 3), np.float32) + 3.0, r"must lie in \[0, 1\]"),
        (lambda p: np.zeros((4, 4, 5), np.uint8), "5 channels"),
    ],
)
def test_bad_images_raise_one_clear_error(pipe, tmp_path, make, message):
    with pytest.raises(DiceptionInputError, match=message):
        pipe(make(tmp_path), "depth", **FAST)


def test_from_pretrained_rejects_a_folder_that_is_not_a_diception_model(tmp_path, official_dir):
    with pytest.raises(DiceptionInputError, match="not a DICEPTION model folder.*diception convert"):
        DiceptionPipeline.from_pretrained(tmp_path)
    with pytest.raises(DiceptionInputError, match="different pipeline.*from_official"):
        DiceptionPipeline.from_pretrained(official_dir)


def test_from_pretrained_rejects_a_damaged_folder(pipe, tmp_path):
    pipe.save_pretrained(tmp_path / "model")
    weights = tmp_path / "model" / "transformer" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(DiceptionInputError, match="incomplete or corrupt"):
        DiceptionPipeline.from_pretrained(tmp_path / "model")


def test_from_pretrained_names_a_missing_file_and_a_broken_index_apart_from_corruption(pipe, tmp_path):
    pipe.save_pretrained(tmp_path / "model")
    (tmp_path / "model" / "point_encoder" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(DiceptionInputError, match="is incomplete") as missing:
        DiceptionPipeline.from_pretrained(tmp_path / "model")
    assert "point_encoder/" in str(missing.value) and "diffusion_pytorch_model.safetensors" in str(missing.value)
    assert "corrupt" not in str(missing.value)
    (tmp_path / "model" / "model_index.json").write_text("{not json")
    with pytest.raises(DiceptionInputError, match="model_index.json' is not valid JSON"):
        DiceptionPipeline.from_pretrained(tmp_path / "model")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_bf16_matches_float32_loosely(model_dir):
    pipe = DiceptionPipeline.from_pretrained(model_dir, torch_dtype=torch.bfloat16).to("cuda")
    ref = DiceptionPipeline.from_pretrained(model_dir)
    noise = torch.randn(1, 16, 8, 8, generator=generator())
    a = pipe(picture(), "depth", latents=noise, **FAST).images
    b = ref(picture(), "depth", latents=noise, **FAST).images
    assert np.abs(a - b).max() < 0.2  # the fixture README: a bf16 chain lands within ~0.16 of float32
