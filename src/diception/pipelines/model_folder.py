"""Checks of a saved model folder (``save_pretrained``, ``diception convert``) before diffusers loads it.

diffusers loads a folder leniently: a tensor missing from a weights file stays on the meta device (the first
``.to()`` then fails deep inside torch), an unknown tensor is ignored, integer tensors are cast to float, and a
config value of the wrong type fails wherever it is first used, far from the file that holds it. So every
component is first built from its config on the meta device (no memory) and compared with the headers of its
weights files, as the published checkpoint is (:mod:`.published_loader`); a problem is one line naming the
file and the fix. Nothing is unpickled: a ``.bin`` or ``.pth`` where safetensors belong is refused by name.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

from ..errors import DiceptionInputError
from ..tasks.points import POINT_ORDERS

REBUILD = "convert it again with `diception convert` (or copy the folder again)"
PICKLE_SUFFIXES = (".bin", ".pth", ".pt", ".ckpt", ".pkl")
_FLOAT_DTYPES = ("F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2")  # safetensors' names
_LISTED = 3  # tensor names a message lists before "and N more"
# a constructor default's type -> the JSON values its config entry may hold, and their name in a message
_KINDS = {bool: (bool, "true or false"), int: (int, "a whole number"), float: ((int, float), "a number"),
          str: (str, "text")}  # fmt: skip


def check_model_folder(folder: Path, pipeline_class: type, index: Mapping[str, Any], skip: Collection[str] = ()
                       ) -> None:  # fmt: skip
    """Raise one :class:`DiceptionInputError` naming the file for a folder diffusers would load wrongly or fail
    on obscurely: pipeline settings of ``model_index.json`` (``index``) of the wrong type or range, a component
    config that does not build its class, weights files that are pickles or do not hold exactly the tensors
    (names, shapes, floating point) the component has. Components named in ``skip`` (passed in by the caller)
    and classes from other libraries (text encoders) are left to diffusers."""
    _check_pipeline_settings(folder, pipeline_class, index)
    signature = inspect.signature(pipeline_class.__init__).parameters
    components = [n for n, p in signature.items() if n != "self" and p.default in (inspect.Parameter.empty, None)]
    for name in components:
        entry = index.get(name)
        required = signature[name].default is inspect.Parameter.empty
        if name in skip or (entry is None and not required):
            continue
        if not (isinstance(entry, list) and len(entry) == 2 and all(isinstance(e, str) for e in entry)):
            if required or entry != [None, None]:
                raise DiceptionInputError(f"model folder '{folder}': model_index.json gives {name} as "
                                          f"{entry!r:.40}, not [library, class]; {REBUILD}")  # fmt: skip
            continue
        klass = _component_class(*entry, folder)
        if klass is not None:
            _check_component(folder, name, klass)


def _check_pipeline_settings(folder: Path, pipeline_class: type, index: Mapping[str, Any]) -> None:
    """The pipeline's defaults in ``model_index.json``: of their types, steps >= 1, resolution >= 0, a known
    point order."""
    _check_values(index, pipeline_class, folder / "model_index.json", folder)
    for key, lowest in (("default_num_inference_steps", 1), ("default_processing_resolution", 0)):
        value = index.get(key)
        if isinstance(value, int) and value < lowest:
            raise DiceptionInputError(f"model folder '{folder}': model_index.json sets {key}={value}, below "
                                      f"{lowest}; fix the value or {REBUILD}")  # fmt: skip
    if index.get("point_order", POINT_ORDERS[0]) not in POINT_ORDERS:
        raise DiceptionInputError(f"model folder '{folder}': model_index.json sets point_order="
                                  f"{index['point_order']!r:.20}, not one of {', '.join(POINT_ORDERS)}; fix the value "
                                  f"or {REBUILD}")  # fmt: skip


def _component_class(library: str, class_name: str, folder: Path) -> type | None:
    """The class ``model_index.json`` names for a component when it is diffusers' or ours (``None`` for a
    transformers class, a text encoder or tokenizer: diffusers checks those)."""
    if library == "transformers":
        return None
    if library != "diffusers" and not library.startswith("diception."):
        raise DiceptionInputError(f"model folder '{folder}': model_index.json names {library}.{class_name}, not a "
                                  f"class of diffusers, transformers or diception; {REBUILD}")  # fmt: skip
    try:
        klass = getattr(importlib.import_module(library), class_name, None)
    except ImportError:
        klass = None
    if not isinstance(klass, type):
        raise DiceptionInputError(f"model folder '{folder}': model_index.json names {library}.{class_name}, which "
                                  f"does not exist; {REBUILD}")  # fmt: skip
    return klass


def _check_component(folder: Path, name: str, klass: type) -> None:
    """``name``'s config builds ``klass`` on the meta device, and its weights match the module built."""
    config_file = folder / name / klass.config_name
    if not config_file.is_file():
        raise DiceptionInputError(f"model folder '{folder}' is incomplete (no {name}/{klass.config_name}); {REBUILD}")
    config = _read_config(config_file, folder)
    _check_values(config, klass, config_file, folder)
    if not issubclass(klass, torch.nn.Module):
        _check_scheduler(folder, name, klass, config)
        return
    from accelerate import init_empty_weights

    try:
        with init_empty_weights(include_buffers=True), _diffusers_quiet():
            module = klass.from_config(config)
    except Exception as err:  # whatever the constructor raises, the config is at fault
        raise DiceptionInputError(f"model folder '{folder}': {name}/{klass.config_name} does not build a "
                                  f"{klass.__name__} ({type(err).__name__}: {_first_line(err)}); {REBUILD}"
                                  ) from None  # fmt: skip
    _check_weights(folder, name, module)


def _check_scheduler(folder: Path, name: str, klass: type, config: dict[str, Any]) -> None:
    """A scheduler (or another config-only component) builds from its config and, if it is a sampler, takes two
    steps."""
    try:
        with _diffusers_quiet():
            component = klass.from_config(config)
        if hasattr(component, "set_timesteps") and hasattr(component, "step"):
            component.set_timesteps(2)
            sample = torch.zeros(1, 1, 2, 2)
            for t in component.timesteps:
                sample = component.step(sample, t, sample, return_dict=False)[0]
    except Exception as err:  # whatever it raises, the config is at fault
        raise DiceptionInputError(f"model folder '{folder}': {name}/{klass.config_name} does not make a working "
                                  f"{klass.__name__} ({type(err).__name__}: {_first_line(err)}); {REBUILD}"
                                  ) from None  # fmt: skip


@contextlib.contextmanager
def _diffusers_quiet() -> Iterator[None]:
    """diffusers' warnings off (unknown config keys): the load that follows gives them once."""
    from diffusers.utils import logging as diffusers_logging

    level = diffusers_logging.get_verbosity()
    diffusers_logging.set_verbosity_error()
    try:
        yield
    finally:
        diffusers_logging.set_verbosity(level)


def _read_config(path: Path, folder: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        config = None
    if not isinstance(config, dict):
        relative = path.relative_to(folder)
        raise DiceptionInputError(f"model folder '{folder}': {relative} is not a JSON object; {REBUILD}")
    return config


def _check_values(config: Mapping[str, Any], klass: type, path: Path, folder: Path) -> None:
    """Each config value of the type its constructor argument's default has (``None`` always passes)."""
    for param in inspect.signature(klass.__init__).parameters.values():
        default, value = param.default, config.get(param.name)
        if param.name not in config or value is None or default is inspect.Parameter.empty or default is None:
            continue
        if type(default) not in _KINDS:
            continue
        kinds, wanted = _KINDS[type(default)]
        if not isinstance(value, kinds) or (isinstance(value, bool) and type(default) is not bool):
            setting = f"{path.relative_to(folder)} sets {param.name}={value!r:.40}"
            raise DiceptionInputError(f"model folder '{folder}': {setting}, not {wanted}; fix the value or {REBUILD}")


def _check_weights(folder: Path, name: str, module: torch.nn.Module) -> None:
    """The component's safetensors files hold exactly ``module``'s tensors, with its shapes, in floating point
    where the module's are."""
    files = sorted((folder / name).glob("*.safetensors"))
    pickles = sorted(p for p in (folder / name).iterdir() if p.suffix in PICKLE_SUFFIXES)
    if not files and pickles:
        raise DiceptionInputError(
            f"model folder '{folder}': {name}/{pickles[0].name} is a pickled checkpoint, and pickles are never "
            "unpickled; save the weights as safetensors (`diception convert`, or save_pretrained)"
        )
    stored: dict[str, tuple[str, tuple[int, ...], str]] = {}  # tensor -> (dtype, shape, file name)
    for file in files:
        try:
            with safe_open(str(file), framework="pt") as reader:
                names = reader.keys()  # a safe_open reader is not iterable
                for key in names:
                    part = reader.get_slice(key)
                    stored[key] = (part.get_dtype(), tuple(part.get_shape()), file.name)
        except (SafetensorError, OSError) as err:
            raise DiceptionInputError(f"model folder '{folder}' is incomplete or corrupt: {name}/{file.name} cannot "
                                      f"be read ({_first_line(err)}); {REBUILD}") from None  # fmt: skip
    expected = module.state_dict()
    if not files:
        if expected:
            raise DiceptionInputError(f"model folder '{folder}' is incomplete: {name}/ holds no weights file "
                                      f"(diffusion_pytorch_model.safetensors); {REBUILD}")  # fmt: skip
        return
    missing = sorted(set(expected) - set(stored))
    unexpected = sorted(set(stored) - set(expected))
    if missing or unexpected:
        file_names = sorted({stored[k][2] for k in unexpected} or {f.name for f in files})
        what = " and ".join(filter(None, [missing and f"lacks {_names(missing)}",
                                          unexpected and f"has unknown {_names(unexpected)}"]))  # fmt: skip
        raise DiceptionInputError(f"model folder '{folder}': {name}/{', '.join(file_names)} {what} of a "
                                  f"{type(module).__name__}; it is damaged or from another model: "
                                  f"{REBUILD}")  # fmt: skip
    for key, tensor in expected.items():
        dtype, shape, file_name = stored[key]
        where = f"model folder '{folder}': {name}/{file_name}: tensor {key}"
        if shape != tuple(tensor.shape):
            raise DiceptionInputError(f"{where} has shape {list(shape)}, but {name}/{module.config_name} makes it "
                                      f"{list(tensor.shape)}; {REBUILD}")  # fmt: skip
        if tensor.is_floating_point() and dtype not in _FLOAT_DTYPES:
            raise DiceptionInputError(f"{where} is {dtype}, not floating point; {REBUILD}")


def _names(keys: list[str]) -> str:
    more = f" and {len(keys) - _LISTED} more" if len(keys) > _LISTED else ""
    return f"tensor{'s' if len(keys) > 1 else ''} {', '.join(keys[:_LISTED])}{more}"


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
