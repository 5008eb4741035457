"""DiceptionTransformer is diffusers' SD3 MMDiT plus condition-image and point tokens."""

from __future__ import annotations

import torch
from diffusers import SD3Transformer2DModel

from diception import DiceptionTransformer, PointPromptEncoder


def tiny_transformer(seed: int = 0) -> DiceptionTransformer:
    torch.manual_seed(seed)
    return DiceptionTransformer(sample_size=8, patch_size=2, in_channels=4, num_layers=2, attention_head_dim=8,
                                num_attention_heads=2, joint_attention_dim=12, caption_projection_dim=16,
                                pooled_projection_dim=6, out_channels=4, pos_embed_max_size=8).eval()  # fmt: skip


def inputs(batch: int = 2):
    g = torch.Generator().manual_seed(1)
    return dict(
        hidden_states=torch.randn(batch, 4, 8, 8, generator=g),
        encoder_hidden_states=torch.randn(batch, 5, 12, generator=g),
        pooled_projections=torch.randn(batch, 6, generator=g),
        timestep=torch.tensor([500.0] * batch),
    )


def test_sd3_weights_load_unchanged_and_plain_forward_is_sd3(tmp_path):
    ours = tiny_transformer()
    ours.save_pretrained(tmp_path)
    sd3 = SD3Transformer2DModel.from_pretrained(tmp_path).eval()
    assert set(sd3.state_dict()) == set(ours.state_dict())
    back = DiceptionTransformer.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        torch.testing.assert_close(back(**inputs()).sample, sd3(**inputs()).sample)


def test_condition_and_point_tokens_change_only_what_they_should():
    model = tiny_transformer()
    x = inputs()
    cond = torch.randn(2, 4, 8, 8)
    points = torch.randn(2, 5, 16)
    with torch.no_grad():
        plain = model(**x).sample
        with_cond = model(**x, cond_latents=cond, point_tokens=points).sample
        other_cond = model(**x, cond_latents=cond + 1, point_tokens=points).sample
    assert with_cond.shape == plain.shape == (2, 4, 8, 8)  # only the noisy tokens are read out
    assert not torch.allclose(with_cond, plain) and not torch.allclose(with_cond, other_cond)


def test_batch_items_are_independent():
    model = tiny_transformer()
    x = inputs()
    cond, points = torch.randn(2, 4, 8, 8), torch.randn(2, 5, 16)
    with torch.no_grad():
        both = model(**x, cond_latents=cond, point_tokens=points).sample
        first = model(**{k: v[:1] for k, v in x.items()}, cond_latents=cond[:1], point_tokens=points[:1]).sample
    torch.testing.assert_close(both[:1], first, atol=1e-5, rtol=1e-5)


def test_gradient_checkpointing_gives_the_same_gradients():
    model = tiny_transformer().train()
    x = inputs()
    cond = torch.randn(2, 4, 8, 8)
    model(**x, cond_latents=cond).sample.square().mean().backward()
    plain = [p.grad.clone() for p in model.parameters() if p.grad is not None]
    model.zero_grad()
    model.enable_gradient_checkpointing()
    model(**x, cond_latents=cond).sample.square().mean().backward()
    for a, b in zip(plain, [p.grad for p in model.parameters() if p.grad is not None]):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_point_encoder_dimensions_and_slot_embeddings():
    encoder = PointPromptEncoder(embed_dim=16, num_fourier_features=8, hidden_dim=12)
    coords = torch.rand(3, 5, 2)
    labels = torch.tensor([[1, 1, 0, 0, 0]] * 3)
    tokens = encoder(coords, labels)
    assert tokens.shape == (3, 5, 16)
    with torch.no_grad():
        base = encoder.mlp(encoder.fourier_features(coords))
    torch.testing.assert_close(tokens[:, :2] - base[:, :2], encoder.point_embedding.weight.expand(3, 2, 16))
    torch.testing.assert_close(tokens[:, 2:] - base[:, 2:], encoder.empty_slot_embedding.weight.expand(3, 3, 16))
