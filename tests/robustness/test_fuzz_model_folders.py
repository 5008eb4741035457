"""Property tests of model folders: a copy of the bundled model with one file deleted, cut, overwritten, pickled,
or holding other tensors (dtype, shape, names) or other config values either loads and predicts, or gives one
``DiceptionInputError`` naming the folder, the file and the fix; ``diception predict --model DIR`` then exits
non-zero with one line and no traceback. The number of folders tried is printed (``pytest -s``).

The published pair (SD3 folder + ``DICEPTION_v1.pth``) keeps loading non-strictly, its missing weights filled in
and named in a warning (``tests/modeling/test_convert_published.py``); a converted folder is loaded strictly.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from diception.bundled import bundled_model_path  # noqa: E402
from diception.cli.main import main  # noqa: E402
from diception.errors import DiceptionInputError  # noqa: E402
from diception.pipelines import DiceptionPipeline  # noqa: E402

from .stress import scaled  # noqa: E402

EXAMPLES = scaled(60, 600)  # make stress: ten times more
TRIED: dict[str, int] = {}
BUNDLED = bundled_model_path()
FILES = sorted(str(p.relative_to(BUNDLED)) for p in BUNDLED.rglob("*") if p.is_file())
WEIGHTS = [f for f in FILES if f.endswith(".safetensors")]
CONFIGS = [f for f in FILES if f.endswith(".json")]
DTYPES = [torch.float16, torch.bfloat16, torch.float64, torch.int32, torch.int64, torch.uint8, torch.bool]
KINDS = (
    "delete",
    "cut",
    "overwrite",
    "random bytes",
    "dtype",
    "shape",
    "drop tensor",
    "add tensor",
    "pickled",
    "config value",
    "config key dropped",
    "config text",
)
FIXES = ("diception convert", "from_official")  # every message ends with one of these fixes
json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.floats(), st.integers(-(10**12), 10**12),
                                     st.text(max_size=8)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                           max_leaves=6)  # fmt: skip


def _count(name: str) -> None:
    TRIED[name] = TRIED.get(name, 0) + 1


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)  # mutations replace files, never write into them: the bundled model stays intact
    except OSError:
        shutil.copy2(source, target)


def model_copy(parent: Path) -> Path:
    folder = Path(tempfile.mkdtemp(dir=parent)) / "model"
    shutil.copytree(BUNDLED, folder, copy_function=_link_or_copy)
    return folder


def replace(path: Path, data: bytes | None) -> None:
    """Give ``path`` new bytes (``None``: delete it), as a new file: a hard link to the original stays intact."""
    path.unlink()
    if data is not None:
        path.write_bytes(data)


def save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    path.unlink()
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path))


@st.composite
def mutations(draw) -> tuple[str, str, object]:
    """``(file, kind, parameter)``: which file of the folder to damage, and how."""
    kind = draw(st.sampled_from(KINDS))
    if kind in ("config value", "config key dropped", "config text"):
        name = draw(st.sampled_from(CONFIGS))
    elif kind in ("delete", "random bytes"):
        name = draw(st.sampled_from(FILES))
    else:
        name = draw(st.sampled_from(WEIGHTS))
    if kind == "cut":
        return name, kind, draw(st.floats(0, 0.999))
    if kind in ("overwrite", "random bytes"):
        return name, kind, draw(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=8))
    if kind in ("dtype", "shape", "drop tensor"):
        return name, kind, (draw(st.integers(0, 10**6)), draw(st.sampled_from(DTYPES)),
                            draw(st.lists(st.integers(0, 5), max_size=3)))  # fmt: skip
    if kind == "pickled":
        return name, kind, draw(st.sampled_from([".bin", ".pth", ".pt", ".ckpt"]))
    if kind == "config value":
        return name, kind, (draw(st.integers(0, 10**6)), draw(st.one_of(json_values, st.integers(-5, 5))),
                            draw(st.booleans()))  # fmt: skip
    if kind == "config text":
        return name, kind, draw(st.one_of(json_values.map(json.dumps), st.text(max_size=30), st.just("{not json")))
    return name, kind, draw(st.integers(0, 10**6))


def damage(folder: Path, name: str, kind: str, parameter) -> None:
    path = folder / name
    if kind == "delete":
        replace(path, None)
    elif kind == "cut":
        data = path.read_bytes()
        replace(path, data[: int(len(data) * parameter)])
    elif kind in ("overwrite", "random bytes"):
        data = bytearray(path.read_bytes() if kind == "overwrite" else os.urandom(64))
        for at, value in parameter:
            data[at % len(data)] = value
        replace(path, bytes(data))
    elif kind in ("dtype", "shape", "drop tensor", "add tensor", "pickled"):
        tensors = load_file(str(path))
        key = sorted(tensors)[(parameter[0] if isinstance(parameter, tuple) else 0) % len(tensors)]
        if kind == "dtype":
            tensors[key] = tensors[key].to(parameter[1])
        elif kind == "shape":
            tensors[key] = torch.zeros(parameter[2])
        elif kind == "drop tensor":
            del tensors[key]
        elif kind == "add tensor":
            tensors["surplus.weight"] = torch.zeros(3)
        if kind == "pickled":
            replace(path, None)
            torch.save(tensors, path.with_suffix(parameter))
        else:
            save_tensors(path, tensors)
    elif kind == "config text":
        replace(path, parameter.encode())
    else:
        config = json.loads(path.read_text())
        keys = sorted(config)
        key = keys[parameter[0] % len(keys)] if isinstance(parameter, tuple) else keys[parameter % len(keys)]
        if kind == "config key dropped":
            del config[key]
        else:
            config[key if parameter[2] else "surplus"] = parameter[1]
        replace(path, json.dumps(config).encode())


def check_loads_and_runs_or_one_clear_error(folder: Path, damaged: str) -> None:
    """The property: loads and predicts, or one line naming the folder, the damaged file's part and the fix."""
    try:
        pipe = DiceptionPipeline.from_pretrained(folder)
    except DiceptionInputError as err:
        event("refused")
        message = str(err)
        assert "\n" not in message and str(folder) in message, message
        assert any(fix in message for fix in FIXES), message
        part = damaged.split("/")[0]  # the component folder (or model_index.json)
        assert part in message or part == "model_index.json", message
        return
    event("loaded")
    pipe.set_progress_bar_config(disable=True)
    try:
        out = pipe(np.zeros((8, 12, 3), np.uint8), "depth", num_inference_steps=1, processing_resolution=16)
    except DiceptionInputError as err:
        assert "\n" not in str(err)
        return
    assert out.images[0].shape == (8, 12, 3)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations())
@example(("transformer/diffusion_pytorch_model.safetensors", "drop tensor", (0, torch.float32, [])))  # on meta
@example(("vae/diffusion_pytorch_model.safetensors", "drop tensor", (0, torch.float32, [])))  # zeros before
@example(("point_encoder/diffusion_pytorch_model.safetensors", "add tensor", 0))  # ignored before
@example(("prompt_cache/diffusion_pytorch_model.safetensors", "dtype", (0, torch.int32, [])))  # cast before
@example(("transformer/config.json", "config value", (3, "seven", True)))  # TypeError before
@example(("vae/config.json", "config value", (3, 0, True)))  # downscale_factor 0: AttributeError before
@example(("scheduler/scheduler_config.json", "config value", (7, 0, True)))  # 0 train steps: IndexError before
@example(("scheduler/scheduler_config.json", "config value", (8, 0, True)))  # shift 0: IndexError at predict before
@example(("model_index.json", "config value", (4, "many", True)))  # steps 'many': ValueError at predict before
@example(("transformer/diffusion_pytorch_model.safetensors", "pickled", ".bin"))
def test_any_damaged_model_folder_loads_or_gives_one_error_naming_the_file(tmp_path, case):
    _count("model folders")
    name, kind, parameter = case
    folder = model_copy(tmp_path)
    damage(folder, name, kind, parameter)
    check_loads_and_runs_or_one_clear_error(folder, name)


CLI_CASES = {  # name -> (file, kind, parameter)
    "transformer_weights_deleted": ("transformer/diffusion_pytorch_model.safetensors", "delete", None),
    "weights_cut_in_half": ("transformer/diffusion_pytorch_model.safetensors", "cut", 0.5),
    "header_overwritten": ("point_encoder/diffusion_pytorch_model.safetensors", "overwrite", [(9, 0), (10, 0)]),
    "bin_instead_of_safetensors": ("vae/diffusion_pytorch_model.safetensors", "pickled", ".bin"),
    "pth_instead_of_safetensors": ("prompt_cache/diffusion_pytorch_model.safetensors", "pickled", ".pth"),
    "tensor_missing": ("transformer/diffusion_pytorch_model.safetensors", "drop tensor", (0, torch.float32, [])),
    "tensor_of_another_shape": ("transformer/diffusion_pytorch_model.safetensors", "shape", (5, torch.float32, [7])),
    "config_not_json": ("transformer/config.json", "config text", "{not json"),
    "config_value_of_another_type": ("point_encoder/config.json", "config value", (3, "seven", True)),
    "model_index_not_json": ("model_index.json", "config text", "[1, 2"),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_predict_with_a_damaged_model_folder_is_one_line(case, tmp_path, capfd):
    """(``capfd``: a library's log handler writes to the process's stderr, which ``capsys`` would miss.)"""
    _count("model folders via `diception predict`")
    folder = model_copy(tmp_path)
    damage(folder, *CLI_CASES[case])
    image = tmp_path / "ok.png"
    image.write_bytes(bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8ff"
        "ff3f0005fe02fea7d6a4490000000049454e44ae426082"))  # a 1x1 RGB PNG  # fmt: skip
    code = main(["predict", str(image), "--task", "depth", "--model", str(folder), "--output-dir",
                 str(tmp_path / "out"), "--steps", "1", "--quiet"])  # fmt: skip
    err = capfd.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err
    assert str(folder) in lines[0] and any(fix in lines[0] for fix in FIXES)


def test_the_bundled_model_is_untouched_by_the_damage():
    _count("model folders")
    pipe = DiceptionPipeline.from_pretrained(BUNDLED)
    pipe.set_progress_bar_config(disable=True)
    assert pipe(np.zeros((8, 12, 3), np.uint8), "depth", num_inference_steps=1).images[0].shape == (8, 12, 3)
    assert all(t.isfinite().all() for t in pipe.transformer.state_dict().values())


def test_report_how_many_inputs_were_tried():
    print("inputs tried: " + ", ".join(f"{name} {count}" for name, count in sorted(TRIED.items())))
