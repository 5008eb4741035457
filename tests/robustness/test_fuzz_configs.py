"""Property tests of training configs: any YAML file (random keys and values, wrong types for known keys, syntax
errors, non-UTF-8 bytes) and any ``--set`` text gives a config whose every value has its declared type, or one
``DiceptionInputError``; ``diception train --config X --set ...`` exits 0 or 2 with one line, never a traceback.
Nothing trains: the command's ``train`` is replaced. The number of inputs tried is printed (``pytest -s``)."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any

import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from diception.cli.main import main  # noqa: E402
from diception.errors import DiceptionInputError  # noqa: E402
from diception.training.config import TrainConfig, load_config  # noqa: E402

from .stress import scaled  # noqa: E402

EXAMPLES = scaled(200, 2000)  # make stress: ten times more
TRIED: dict[str, int] = {}
FUNCTION_TMP = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture]}


def _count(name: str) -> None:
    TRIED[name] = TRIED.get(name, 0) + 1


def _hints(cls: type, prefix: str = "") -> dict[str, Any]:
    """Every dotted key of a config dataclass, sections included, with its type."""
    hints = typing.get_type_hints(cls)
    keys = {}
    for f in dataclasses.fields(cls):
        keys[prefix + f.name] = hints[f.name]
        if dataclasses.is_dataclass(hints[f.name]):
            keys.update(_hints(hints[f.name], f"{prefix}{f.name}."))
    return keys


HINTS = _hints(TrainConfig)
KEYS = sorted(HINTS)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(),
                    st.text(max_size=10), st.sampled_from(["1e-4", "ddp", "fsdp", "scratch", "synthetic", "constant",
                                                           "auto", "bf16", "[a", "{x: 1}", "~", "yes"]))  # fmt: skip
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=6)  # fmt: skip


def plausible(hint: Any) -> st.SearchStrategy:
    """Values of about the right type for a key of type ``hint`` (often right, sometimes out of range)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return st.one_of(st.none(), plausible(next(a for a in typing.get_args(hint) if a is not type(None))))
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(-2, 64)
    if hint is float:
        return st.one_of(st.floats(-0.5, 2.0), st.sampled_from(["1e-4", "2e-5"]))
    if hint is str:
        return st.sampled_from(["sd3", "scratch", "synthetic", "manifest", "constant", "cosine", "auto", "bf16", "ddp",
                                "fsdp", "kl", "pixel_shuffle", "xy", "runs/x", ""])  # fmt: skip
    if typing.get_origin(hint) is list:
        return st.lists(plausible(typing.get_args(hint)[0]), max_size=3)
    if typing.get_origin(hint) is dict:
        return st.dictionaries(st.sampled_from(["depth", "normal", "pose", "x"]), st.floats(-1, 3), max_size=2)
    return values


typed_pairs = st.sampled_from([k for k in KEYS if not dataclasses.is_dataclass(HINTS[k])]).flatmap(
    lambda key: st.tuples(st.just(key), plausible(HINTS[key]))
)
dotted = st.one_of(st.sampled_from(KEYS), st.sampled_from(KEYS).map(lambda k: k + ".extra"), st.text(max_size=12))


def nested(pairs: list[tuple[str, Any]]) -> dict:
    """``[("optim.lr", 1)]`` -> ``{"optim": {"lr": 1}}`` (later pairs win; a value may turn into a section)."""
    root: dict = {}
    for key, value in pairs:
        node = root
        *parents, leaf = key.split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[leaf] = value
    return root


def to_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False)


yaml_texts = st.one_of(
    st.lists(typed_pairs, min_size=1, max_size=6).map(lambda pairs: to_yaml(nested(pairs))),
    st.lists(st.tuples(dotted, values), max_size=5).map(lambda pairs: to_yaml(nested(pairs))),
    st.dictionaries(st.one_of(st.text(max_size=6), st.integers(), st.none()), values, max_size=4).map(to_yaml),
    st.text(max_size=60),  # mostly YAML syntax errors and scalars
)
yaml_files = st.one_of(yaml_texts.map(str.encode), st.binary(max_size=40))  # raw bytes: often not UTF-8
override_texts = st.one_of(
    typed_pairs.map(lambda pair: f"{pair[0]}={yaml.safe_dump(pair[1], default_flow_style=True).strip()}"),
    st.tuples(dotted, st.one_of(values.map(lambda v: yaml.safe_dump(v, default_flow_style=True).strip()),
                                st.text(max_size=12))).map("=".join),
    st.text(max_size=30),  # missing '=', empty keys, anything
)  # fmt: skip


def check_typed(config: Any, cls: type, where: str = "") -> None:
    """Every field of the config has its declared type, down to list and dict elements; numbers finite."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        value, hint = getattr(config, f.name), hints[f.name]
        if dataclasses.is_dataclass(hint):
            check_typed(value, hint, f"{where}{f.name}.")
        else:
            check_value(value, hint, where + f.name)


def check_value(value: Any, hint: Any, name: str) -> None:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        if value is None:
            return
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return
    if hint is float:
        assert isinstance(value, float) and math.isfinite(value), name
    elif hint is int:
        assert isinstance(value, int) and not isinstance(value, bool) and value >= 0, name
    elif origin is list:
        assert isinstance(value, list), name
        for item in value:
            check_value(item, args[0], name)
    elif origin is dict:
        assert isinstance(value, dict), name
        for key, item in value.items():
            check_value(key, args[0], name)
            check_value(item, args[1], name)
    else:
        assert isinstance(value, hint), name


def check_config(path, overrides=()) -> None:
    """The property: a config typed as declared that passes its own check, or one clear error."""
    try:
        config = load_config(path, list(overrides))
    except DiceptionInputError as err:
        event("refused")
        assert str(err) and "\n" not in str(err)
        return
    event("valid")
    check_typed(config, TrainConfig)
    config.check()


@settings(max_examples=EXAMPLES, **FUNCTION_TMP)
@given(yaml_files)
@example(b"a: [")  # YAML syntax error: a yaml ParserError traceback before
@example(b"\xff\xfe")  # not UTF-8: UnicodeDecodeError before
@example(b"1: 2")  # a number as key: TypeError before
@example(b"base: 5")  # TypeError before
@example(b"optim: {batch_size: true}")  # a bool taken for an int before
@example(b"optim: {betas: [a, b]}")  # list elements unchecked before
@example(b"log_every: 0")  # ZeroDivisionError at the first step before
@example(b"optim: {lr_scheduler: sideways}")  # ValueError after the model loaded before
@example(b"seed: 99999999999999999999999999")  # overflow in torch.manual_seed before
def test_any_yaml_config_is_a_typed_config_or_one_clear_error(tmp_path, data):
    _count("YAML configs")
    path = tmp_path / "config.yaml"
    path.write_bytes(data)
    check_config(path)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(override_texts, min_size=1, max_size=3))
@example(["optim.lr=["])  # ParserError before
@example(["optim..lr=1"])  # an empty key part
@example(["optim.lr=!!python/name:os.system"])  # ConstructorError before
@example(["validation.every=-5"])
def test_any_set_override_is_a_typed_config_or_one_clear_error(overrides):
    _count("--set overrides")
    check_config(None, overrides)


@settings(max_examples=EXAMPLES // 4, **FUNCTION_TMP)
@given(yaml_files, st.lists(override_texts, max_size=2))
def test_train_command_parses_any_config_and_set_in_one_line_or_hands_it_on(tmp_path, monkeypatch, capsys, data,
                                                                            overrides):  # fmt: skip
    _count("`diception train --config --set`")
    import diception.training

    handed: list = []
    monkeypatch.setattr(diception.training, "train", lambda config: handed.append(config))  # nothing trains
    path = tmp_path / "config.yaml"
    path.write_bytes(data)
    code = main(["train", "--config", str(path), *[f"--set={text}" for text in overrides]])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    event("handed on" if code == 0 else "refused")
    if code == 0:
        assert len(handed) == 1
        check_typed(handed[0], TrainConfig)
    else:
        assert code == 2 and not handed, err
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err


def test_report_how_many_inputs_were_tried():
    print("inputs tried: " + ", ".join(f"{name} {count}" for name, count in sorted(TRIED.items())))
