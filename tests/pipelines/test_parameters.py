"""Parameters have one source of truth: a pipeline's own settings have no default in Python (the
YAML gives each), and the library settings nested inside keep their defaults in Python (the YAML
states only where a recipe deviates from them). Bad values are refused naming the parameter."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from cell_dino.pipelines.embed.params import EmbedParams
from cell_dino.pipelines.evaluate.params import EvaluateParams
from cell_dino.pipelines.ingest.params import IngestParams
from cell_dino.pipelines.integrate.params import IntegrateParams
from cell_dino.pipelines.params import Params
from cell_dino.pipelines.profile.params import ProfileParams
from cell_dino.pipelines.segment.params import SegmentParams
from cell_dino.pipelines.sweep.params import SweepParams
from cell_dino.pipelines.train_dino.params import TrainingParams
from tests.projects import REPO, parameters

BLOCKS: dict[str, type[Params]] = {
    "ingest": IngestParams,
    "segment": SegmentParams,
    "train_dino": TrainingParams,
    "train_wsdino": TrainingParams,
    "embed": EmbedParams,
    "integrate": IntegrateParams,
    "evaluate": EvaluateParams,
    "profile": ProfileParams,
    "sweep": SweepParams,
}


def _params_models(model: type[BaseModel]) -> set[type[BaseModel]]:
    """``model`` and every ``Params`` model its fields hold."""
    found = {model}
    for field in model.model_fields.values():
        for candidate in [field.annotation, *getattr(field.annotation, "__args__", ())]:
            if isinstance(candidate, type) and issubclass(candidate, Params):
                found |= _params_models(candidate)
    return found


def _field_default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    return field.default_factory() if field.default_factory is not dataclasses.MISSING else dataclasses.MISSING


def _restated_defaults(value: Any, default: Any, stated: Any, path: str) -> list[str]:
    """Paths where a YAML block (``stated``) sets a library dataclass's field to its default
    (``default``: the default instance of ``value``, when there is one). A setting without
    defaults of its own (a crop: number, size, scale) is stated whole, and compared whole."""
    if not isinstance(stated, dict):
        return []
    found = []
    for field in dataclasses.fields(value):
        if field.name not in stated:
            continue
        here = getattr(value, field.name)
        base = getattr(default, field.name) if dataclasses.is_dataclass(default) else _field_default(field)
        if dataclasses.is_dataclass(here) and _default_instance(here) is not None:
            found += _restated_defaults(here, base if dataclasses.is_dataclass(base) else None, stated[field.name], f"{path}.{field.name}")
        elif base is not dataclasses.MISSING and here == base:
            found.append(f"{path}.{field.name} = {here!r}")
    return found


def _default_instance(value: Any) -> Any:
    try:
        return type(value)()
    except (TypeError, ValidationError):  # a library setting without defaults of its own
        return None


def _library_settings(model: BaseModel, block: dict, path: str) -> list[str]:
    found = []
    for name, value in model:
        if isinstance(value, BaseModel):
            found += _library_settings(value, block.get(name, {}), f"{path}.{name}")
        elif dataclasses.is_dataclass(value):
            found += _restated_defaults(value, _default_instance(value), block.get(name, {}), f"{path}.{name}")
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            for i, item in enumerate(value):
                found += _library_settings(item, block.get(name, [{}] * len(value))[i], f"{path}.{name}[{i}]")
    return found


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_pipeline_settings_have_no_python_default(name: str) -> None:
    with_default = [
        f"{m.__name__}.{f}" for m in _params_models(BLOCKS[name]) for f, info in m.model_fields.items() if not info.is_required()
    ]
    assert not with_default, f"a pipeline setting's default belongs in conf/base/parameters_{name}.yml: {with_default}"


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_yaml_states_only_where_library_settings_deviate(name: str) -> None:
    """conf/base only: another environment may well set a value back to the library's (the paper's)."""
    block = yaml.safe_load((REPO / f"conf/base/parameters_{name}.yml").read_text())[name]
    restated = _library_settings(parameters(name, BLOCKS[name], env="base"), block, name)
    assert not restated, f"these lines restate the library's default (drop them): {restated}"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"optim": {"lr": float("inf")}}, r"train\.optim\.lr\n.*finite number"),
        ({"optim": {"lr": float("nan")}}, r"train\.optim\.lr\n.*finite number"),
        ({"optim": {"epochs": True}}, r"train\.optim\.epochs\n.*a number is expected, not True"),
        ({"optim": {"min_lr": 0.01}}, r"optim\.min_lr 0\.01 exceeds optim\.lr 0\.0005"),
        ({"runtime": {"device": "gpu"}}, r"train\.runtime\.device\n.*should match pattern"),
    ],
)
def test_bad_training_values_are_refused_naming_the_parameter(overrides: dict, message: str) -> None:
    """lr .inf trained on NaN losses; epochs: true ran one epoch; device gpu failed deep in torch."""
    with pytest.raises(ValidationError, match=message):
        parameters("train_dino", TrainingParams, train=overrides)
