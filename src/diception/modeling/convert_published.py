"""Read the published ``DICEPTION_v1.pth`` safely and map it onto our modules.

The published loader unpickles the file and loads it non-strictly, silently keeping base SD3 weights for any
missing key. We load with ``weights_only=True`` and fail on any missing, unexpected or mis-shaped key.
"""

from __future__ import annotations

import os
import pickle
import zipfile

import torch
from torch import nn

from ..errors import DiceptionInputError

# published part (and key) -> our parameter name in PointPromptEncoder
POINT_ENCODER_KEYS = {
    ("point_embedder", "0.weight"): "mlp.0.weight",
    ("point_embedder", "0.bias"): "mlp.0.bias",
    ("point_embedder", "2.weight"): "mlp.2.weight",
    ("point_embedder", "2.bias"): "mlp.2.bias",
    ("not_seg_embeddings", "weight"): "empty_slot_embedding.weight",
    ("seg_embeddings", "weight"): "point_embedding.weight",
    ("positional_encoding_gaussian_matrix", None): "fourier_matrix",
}
PUBLISHED_PARTS = ("transformer", "point_embedder", "not_seg_embeddings", "seg_embeddings",
                   "positional_encoding_gaussian_matrix")  # fmt: skip


def read_published_checkpoint(path: str | os.PathLike) -> dict:
    """Load the published checkpoint without unpickling arbitrary objects; clear errors for bad files."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DiceptionInputError(
            f"checkpoint '{path}' does not exist; pass the path of DICEPTION_v1.pth (--diception_path)"
        )
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except (RuntimeError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError, ValueError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DiceptionInputError(
            f"checkpoint '{path}' cannot be read ({first}); it is truncated, corrupt or not a PyTorch "
            "checkpoint: download DICEPTION_v1.pth again"
        ) from None
    if not isinstance(ckpt, dict) or not all(part in ckpt for part in PUBLISHED_PARTS):
        found = sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise DiceptionInputError(
            f"checkpoint '{path}' is not a DICEPTION checkpoint: expected the parts {', '.join(PUBLISHED_PARTS)}, "
            f"found {found}"
        )
    return ckpt


def point_encoder_state_dict(ckpt: dict) -> dict[str, torch.Tensor]:
    """The published point-prompt parts renamed to :class:`PointPromptEncoder`'s parameter names."""
    state = {}
    for (part, key), ours in POINT_ENCODER_KEYS.items():
        value = ckpt[part] if key is None else ckpt[part].get(key) if isinstance(ckpt[part], dict) else None
        if value is None:
            raise DiceptionInputError(f"checkpoint is missing '{part}.{key}'; it is not a complete DICEPTION_v1.pth")
        state[ours] = value
    extra = [f"{p}.{k}" for p in ("point_embedder", "not_seg_embeddings", "seg_embeddings")
             for k in ckpt[p] if (p, k) not in POINT_ENCODER_KEYS]  # fmt: skip
    if extra:
        raise DiceptionInputError(f"checkpoint has unexpected point-encoder keys: {', '.join(extra)}")
    return state


def check_state_dict(module: nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """Fail with the lists of missing, unexpected and mis-shaped keys unless ``state`` fits ``module`` exactly.
    Cheap on a module built on the meta device."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(
        f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if tuple(state[k].shape) != tuple(own[k].shape)
    )
    if missing or unexpected or shapes:

        def head(items: list[str]) -> str:
            return ", ".join(items[:5]) + (f" (+{len(items) - 5} more)" if len(items) > 5 else "")

        parts = []
        if missing:
            parts.append(f"missing {len(missing)} keys: {head(missing)}")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} keys: {head(unexpected)}")
        if shapes:
            parts.append(f"wrong shapes (checkpoint vs model): {head(shapes)}")
        raise DiceptionInputError(
            f"the {what} weights do not fit the model config ({'; '.join(parts)}); check that the SD3 folder "
            "and the checkpoint belong together (SD3-medium + DICEPTION_v1.pth)"
        )


def load_strict(module: nn.Module, state: dict[str, torch.Tensor], what: str, dtype: torch.dtype) -> None:
    """Check ``state`` against ``module`` (see :func:`check_state_dict`), then put it in, cast to ``dtype``;
    ``module`` may live on the meta device."""
    check_state_dict(module, state, what)
    module.load_state_dict({k: v.to(dtype) for k, v in state.items()}, strict=True, assign=True)
