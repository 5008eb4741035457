"""No pickle runs by default: every load call site in the package is checked, and files that would run code
when unpickled (a ``.npy`` object array, a ``.pth`` with a Python object) are refused without running it."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from diception.data.array_files import load_npy
from diception.errors import DiceptionInputError
from diception.modeling.convert_published import read_published_checkpoint

SRC = Path(__file__).resolve().parents[2] / "src" / "diception"
UNSAFE_ALLOWED = {("modeling/convert_published.py", "read_published_checkpoint")}  # behind --trust-checkpoint


def _calls():
    """``(file, function, dotted callee, keywords)`` for every call of a load function in the package."""
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
            for node in ast.walk(func):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    owner = node.func.value.id if isinstance(node.func.value, ast.Name) else ""
                    keywords = {k.arg: getattr(k.value, "value", None) for k in node.keywords}
                    yield str(path.relative_to(SRC)), func.name, f"{owner}.{node.func.attr}", keywords


def test_every_load_call_site_refuses_pickles():
    seen = {"np.load": 0, "torch.load": 0}
    for file, function, callee, keywords in _calls():
        assert callee not in ("pickle.load", "pickle.loads"), f"{file}:{function} unpickles"
        if callee in ("np.load", "numpy.load"):
            seen["np.load"] += 1
            assert keywords.get("allow_pickle") is False, f"{file}:{function} calls np.load without allow_pickle=False"
        if callee == "torch.load":
            seen["torch.load"] += 1
            if keywords.get("weights_only") is not True:
                assert (file, function) in UNSAFE_ALLOWED, f"{file}:{function} calls torch.load unsafely"
    assert seen["np.load"] >= 2 and seen["torch.load"] >= 2  # the scan sees the real call sites


class _RunsCode:
    """Unpickling this creates a marker file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_npy_that_would_run_code_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.npy"
    np.save(evil, np.array([_RunsCode(marker)], dtype=object), allow_pickle=True)
    with pytest.raises(DiceptionInputError, match="holds Python objects, which are never unpickled"):
        load_npy(evil)
    assert not marker.exists()


def test_a_checkpoint_that_would_run_code_is_refused_by_default(tmp_path):
    marker = tmp_path / "ran"
    evil = tmp_path / "DICEPTION_v1.pth"
    torch.save({"transformer": {}, "point_encoder": {}, "payload": _RunsCode(marker)}, evil, pickle_module=pickle)
    with pytest.raises(DiceptionInputError, match="holds Python objects besides tensors"):
        read_published_checkpoint(evil)
    assert not marker.exists()
