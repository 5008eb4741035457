"""Read the published ``DICEPTION_v1.pth`` safely and map it onto our modules, as leniently as the published loader.

The published loader builds SD3's transformer from the SD3 folder's weights and overlays the checkpoint
non-strictly, so any transformer weight the checkpoint lacks keeps SD3's value. The published file very likely
lacks the 56.6 M-value positional table (its listed size, 4.07 GB, is what the other 2,035.7 M parameters take in
bf16), so we do the same, and say so: weights the checkpoint lacks are taken from the SD3 folder and named in one
warning line; weights of the wrong shape stay errors; keys the model does not have are named in a warning and
dropped; ``module.`` and ``_orig_mod.`` prefixes (DDP and ``torch.compile`` saves) are stripped. The file is read
with ``weights_only=True``; a file that holds other Python objects is unpickled only when the caller trusts it.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import warnings
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from torch import nn

from ..errors import DiceptionInputError

logger = logging.getLogger(__name__)
WRAPPER_PREFIXES = ("module.", "_orig_mod.")  # added to every key by DDP and by torch.compile

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


def strip_wrapper_prefixes(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` with the ``module.`` / ``_orig_mod.`` prefixes of DDP and ``torch.compile`` saves removed."""
    out = {}
    for key, value in state.items():
        while key.startswith(WRAPPER_PREFIXES):
            key = key.split(".", 1)[1]
        out[key] = value
    return out


def read_published_checkpoint(path: str | os.PathLike, trust: bool = False) -> dict:
    """Load the published checkpoint without unpickling arbitrary objects (unless ``trust``); clear errors for bad
    files; wrapper prefixes stripped from every part."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DiceptionInputError(
            f"checkpoint '{path}' does not exist; pass the path of DICEPTION_v1.pth (--diception_path)"
        )
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as err:
        if "weights only load failed" not in str(err).lower():
            raise _unreadable(path, err) from None
        if not trust:
            reason = next((line.strip() for line in str(err).splitlines() if "global" in line.lower()), "")
            raise DiceptionInputError(
                f"checkpoint '{path}' holds Python objects besides tensors{f' ({reason})' if reason else ''}, which "
                "a safe load refuses; if you trust where it comes from, pass --trust-checkpoint (Python: "
                "trust_checkpoint=True) to unpickle it"
            ) from None
        warnings.warn(f"unpickling '{path}' with weights_only=False, as asked: this runs any code the file holds",
                      stacklevel=2)  # fmt: skip
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as err:
        raise _unreadable(path, err) from None
    if isinstance(ckpt, dict) and not all(part in ckpt for part in PUBLISHED_PARTS):
        ckpt = strip_wrapper_prefixes(ckpt)  # a wrapper saved around the whole dict
    if not isinstance(ckpt, dict) or not all(part in ckpt for part in PUBLISHED_PARTS):
        found = sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise DiceptionInputError(
            f"checkpoint '{path}' is not a DICEPTION checkpoint: expected the parts {', '.join(PUBLISHED_PARTS)}, "
            f"found {found}"
        )
    return {part: strip_wrapper_prefixes(v) if isinstance(v, Mapping) else v for part, v in ckpt.items()}


def _unreadable(path: str, err: Exception) -> DiceptionInputError:
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return DiceptionInputError(
        f"checkpoint '{path}' cannot be read ({first}); it is truncated, corrupt or not a PyTorch checkpoint: "
        "download DICEPTION_v1.pth again"
    )


def base_transformer_weights(sd3_dir: str | os.PathLike) -> Callable[[list[str]], dict[str, torch.Tensor]]:
    """A reader of named weights of the SD3 folder's transformer (single or sharded safetensors), reading only
    the tensors asked for."""
    from safetensors import safe_open

    folder = Path(sd3_dir) / "transformer"
    index = folder / "diffusion_pytorch_model.safetensors.index.json"
    single = folder / "diffusion_pytorch_model.safetensors"

    def read(keys: list[str]) -> dict[str, torch.Tensor]:
        if index.is_file():
            where = json.loads(index.read_text())["weight_map"]
        elif single.is_file():
            where = dict.fromkeys(keys, single.name)
        else:
            raise DiceptionInputError(
                f"the checkpoint lacks {len(keys)} transformer weights and '{folder}' holds no safetensors to take "
                "them from; pass a complete SD3-medium diffusers folder"
            )
        absent = [k for k in keys if k not in where]
        out: dict[str, torch.Tensor] = {}
        by_file: dict[str, list[str]] = {}
        for key in keys:
            if key in where:
                by_file.setdefault(where[key], []).append(key)
        for name, names in by_file.items():
            with safe_open(str(folder / name), framework="pt") as f:
                present = set(f.keys())
                absent += [k for k in names if k not in present]
                out.update({k: f.get_tensor(k) for k in names if k in present})
        if absent:
            raise DiceptionInputError(
                f"neither the checkpoint nor the SD3 folder holds {len(absent)} transformer weights: {_head(absent)}"
            )
        return out

    return read


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
        logger.warning("the checkpoint has %d point-encoder keys the model does not use, ignored: %s", len(extra),
                       _head(extra))  # fmt: skip
    return state


def _head(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f" (+{len(items) - n} more)" if len(items) > n else "")


def complete_state_dict(
    module: nn.Module,
    state: Mapping[str, torch.Tensor],
    what: str,
    base: Callable[[list[str]], dict[str, torch.Tensor]] | None = None,
    base_name: str = "the SD3 folder",
) -> dict[str, torch.Tensor]:
    """``state`` checked against ``module`` (cheap on the meta device) and made complete.

    Weights of the wrong shape are an error listing them. Keys the module lacks are named in a warning and
    dropped. Missing weights are read with ``base`` (the published loader keeps the base model's values for
    them) and named in one warning; without ``base`` they are an error.
    """
    own = module.state_dict()
    state = dict(state)
    unexpected = sorted(set(state) - set(own))
    if unexpected:
        logger.warning("the %s checkpoint has %d keys the model does not use, ignored: %s", what, len(unexpected),
                       _head(unexpected))  # fmt: skip
        for key in unexpected:
            del state[key]
    missing = sorted(set(own) - set(state))
    if missing and base is None:
        raise DiceptionInputError(
            f"the {what} weights do not fit the model config (missing {len(missing)} keys: {_head(missing)}); check "
            "that the SD3 folder and the checkpoint belong together (SD3-medium + DICEPTION_v1.pth)"
        )
    if missing:
        state.update(base(missing))
        logger.warning("DICEPTION_v1.pth lacks %d %s weights; took them from %s, as the published loader does: %s",
                       len(missing), what, base_name, _head(missing))  # fmt: skip
    shapes = sorted(f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in own
                    if tuple(state[k].shape) != tuple(own[k].shape))  # fmt: skip
    if shapes:
        raise DiceptionInputError(
            f"the {what} weights do not fit the model config (wrong shapes, checkpoint vs model: {_head(shapes)}); "
            "check that the SD3 folder and the checkpoint belong together (SD3-medium + DICEPTION_v1.pth)"
        )
    return state


def load_weights(module: nn.Module, state: dict[str, torch.Tensor], dtype: torch.dtype) -> None:
    """Put a complete ``state`` (see :func:`complete_state_dict`) into ``module``, cast to ``dtype``; ``module`` may
    live on the meta device."""
    module.load_state_dict({k: v.to(dtype) for k, v in state.items()}, strict=True, assign=True)
