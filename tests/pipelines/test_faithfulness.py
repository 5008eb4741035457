"""Our pipeline computes what the published DICEPTION inference code computes.

Every golden case of ``../shared/fixtures/official_tiny`` (recorded from the published code on a tiny model of the
same architecture, float32 on the CPU) is reproduced through the public API, both straight from the SD3 folder
plus ``DICEPTION_v1.pth`` (``from_official``) and through ``save_pretrained`` -> ``from_pretrained`` (the
cached-prompt path, no text encoders).
"""

from __future__ import annotations

import pytest
import torch

from diception import DiceptionPipeline
from diception.pipelines.prompt_cache import T5_MAX_SEQUENCE_LENGTH, encode_with_text_encoders

ATOL = 1e-4

# The golden cases as a user would ask for them: task names, categories and pixel (x, y) points.
CASES = {
    "depth": dict(task="depth", num_inference_steps=3, guidance_scale=2.0),
    "seg_points": dict(
        task="segmentation", num_inference_steps=1, guidance_scale=1.0,
        points=[(0.25 * 96, 0.5 * 64), (0.8125 * 96, 0.3125 * 64)],  # stored as (x/W, y/H) in the fixture
    ),
    "batch2": dict(task=["normal", "semantic"], category=[None, "person"], num_inference_steps=2, guidance_scale=2.0),
}  # fmt: skip


@pytest.fixture(scope="module")
def official_pipe(official_dir) -> DiceptionPipeline:
    pipe = DiceptionPipeline.from_official(official_dir, official_dir / "DICEPTION_v1.pth", with_text_encoders=True)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def run_case(pipe: DiceptionPipeline, golden: dict, case: str) -> dict[str, torch.Tensor]:
    """Run one golden case through ``pipe(...)``, recording the step-0 transformer output."""
    seen = []
    hook = pipe.transformer.register_forward_hook(lambda mod, args, out: seen.append(out[0].detach().clone()))
    try:
        images = list(golden[f"{case}.input_images"] / 2 + 0.5)  # the fixture stores [-1, 1] pixels
        common = dict(latents=golden[f"{case}.initial_latents"], processing_resolution=0, **CASES[case])
        latents = pipe(images, output_type="latent", **common).latents
        decoded = pipe(images, output_type="pt", **common).images
    finally:
        hook.remove()
    return {"step0_transformer_out": seen[0], "final_latents": latents, "decoded_image": decoded}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("loader", ["from_official", "from_pretrained"])
def test_golden_case_end_to_end(case, loader, official_pipe, pipe, golden):
    model = official_pipe if loader == "from_official" else pipe
    got = run_case(model, golden, case)
    for name, value in got.items():
        torch.testing.assert_close(value, golden[f"{case}.{name}"], atol=ATOL, rtol=ATOL, msg=f"{case}.{name}")
    assert torch.equal(model.scheduler.timesteps, golden[f"{case}.timesteps"])
    assert torch.equal(model.scheduler.sigmas, golden[f"{case}.sigmas"])


@pytest.mark.parametrize("case", sorted(CASES))
def test_conditioning_matches_reference(case, pipe, golden):
    """Condition latents, point features and point tokens equal the recorded intermediate tensors."""
    images = golden[f"{case}.input_images"] / 2 + 0.5
    with torch.no_grad():
        cond = pipe.encode_condition(images)
        features = pipe.point_encoder.fourier_features(golden[f"{case}.coor_point"])
        tokens = pipe.point_encoder(golden[f"{case}.coor_point"], golden[f"{case}.point_labels"])
    torch.testing.assert_close(cond, golden[f"{case}.cond_latents"], atol=ATOL, rtol=ATOL)
    torch.testing.assert_close(features, golden[f"{case}.point_fourier_features"], atol=ATOL, rtol=ATOL)
    torch.testing.assert_close(tokens, golden[f"{case}.point_embeds"], atol=ATOL, rtol=ATOL)


def test_pixel_points_become_the_reference_point_tokens(pipe, golden):
    """Pixel (x, y) points on the 96x64 image are fed exactly as the published single-image script feeds them."""
    requests = pipe._requests(1, "segmentation", None, None, [CASES["seg_points"]["points"]], [(64, 96)])
    with torch.no_grad():
        tokens = pipe.encode_points(requests)
    torch.testing.assert_close(tokens, golden["seg_points.point_embeds"], atol=ATOL, rtol=ATOL)


@pytest.mark.parametrize("case", sorted(CASES))
def test_prompt_embeddings_cached_and_encoded(case, official_pipe, pipe, golden, fixture_source):
    import json

    meta = {c["name"]: c for c in json.loads((fixture_source / "golden_meta.json").read_text())["cases"]}
    prompts = meta[case]["prompts"]
    components = {
        n: getattr(official_pipe, n)
        for n in ("tokenizer", "tokenizer_2", "tokenizer_3", "text_encoder", "text_encoder_2", "text_encoder_3")
    }
    for embeds, pooled in (pipe.prompt_cache.lookup(prompts), encode_with_text_encoders(components, prompts)):
        torch.testing.assert_close(embeds, golden[f"{case}.prompt_embeds"], atol=ATOL, rtol=ATOL)
        torch.testing.assert_close(pooled, golden[f"{case}.pooled_prompt_embeds"], atol=ATOL, rtol=ATOL)
    if f"{case}.negative_prompt_embeds" in golden:
        embeds, pooled = pipe.prompt_cache.lookup([""] * len(prompts))
        torch.testing.assert_close(embeds, golden[f"{case}.negative_prompt_embeds"], atol=ATOL, rtol=ATOL)
        torch.testing.assert_close(pooled, golden[f"{case}.negative_pooled_prompt_embeds"], atol=ATOL, rtol=ATOL)


@pytest.mark.parametrize("case", sorted(CASES))
def test_token_ids_match_reference(case, official_pipe, golden, fixture_source):
    """The tokenizers the cache was built with produce the reference ids, padded as SD3 pads them."""
    import json

    meta = {c["name"]: c for c in json.loads((fixture_source / "golden_meta.json").read_text())["cases"]}
    for name, length in (("tokenizer", 77), ("tokenizer_2", 77), ("tokenizer_3", T5_MAX_SEQUENCE_LENGTH)):
        tokenizer = getattr(official_pipe, name)
        for kind, texts in zip(("prompt", "negative_prompt"), meta[case]["tokenizer_calls"][name]):
            ids = tokenizer(texts, padding="max_length", max_length=length, truncation=True,
                            return_tensors="pt").input_ids  # fmt: skip
            assert torch.equal(ids, golden[f"{case}.token_ids.{name}.{kind}"]), f"{case} {name} {kind}"


def test_plain_sd3_forward_matches_reference(pipe, golden):
    """Without condition and point tokens the transformer is diffusers' SD3 MMDiT."""
    with torch.no_grad():
        out = pipe.transformer(
            golden["depth.initial_latents"], golden["depth.prompt_embeds"], golden["depth.pooled_prompt_embeds"],
            torch.tensor([1000.0]),
        ).sample  # fmt: skip
    torch.testing.assert_close(out, golden["extra.plain_sd3.out"], atol=ATOL, rtol=ATOL)
