"""Managed by the LLMOps template. Typed models for experiment.yaml and connections.yaml.

Unknown keys are errors (``extra="forbid"``) so that a typo never silently drops a
setting. Every problem is reported as ``<file>: <dotted.key>: <message>``.

Overlay rule: with an environment name (``--env`` or ``ENV_NAME``), each top-level
key present in ``experiment.<env>.yaml`` REPLACES the same key of ``experiment.yaml``
(no deep merge). An overlay may not set ``name`` or ``flow``: an environment runs the
same flow under the same experiment name, only with other data or evaluators.
"""

from __future__ import annotations

import datetime
import difflib
import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from llmops.errors import LLMOpsError
from llmops.paths import CONNECTIONS_FILE, EXPERIMENT_FILE

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
CONNECTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
OVERLAY_FORBIDDEN = ("name", "flow")


def _run_name_part(value: str) -> str:
    if not NAME.fullmatch(value):
        raise ValueError(
            f"'{value}' is not usable: use letters, digits, '_' and '-' "
            "(it becomes part of run names)"
        )
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Dataset(_Strict):
    """A JSONL file and how its columns feed the standard flow's inputs."""

    name: str
    source: str = Field(description="JSONL path, relative to the use-case folder")
    description: str = ""
    mappings: dict[str, str] = Field(description="flow input -> ${data.<column>}")

    _name = field_validator("name")(_run_name_part)


class EvaluatorDataset(_Strict):
    """A standard dataset to evaluate, and how the evaluation flow's inputs are fed."""

    name: str = Field(description="name of a dataset under `datasets`")
    mappings: dict[str, str] = Field(
        description="evaluation input -> ${data.<column>} or ${run.outputs.<output>}"
    )


class Evaluator(_Strict):
    """An evaluation flow applied to the standard runs of some datasets."""

    name: str
    flow: str = Field(description="evaluation flow folder, relative to the use-case folder")
    datasets: list[EvaluatorDataset] = Field(min_length=1)

    _name = field_validator("name")(_run_name_part)


class ExperimentConfig(_Strict):
    """Contents of ``use_cases/<name>/experiment.yaml`` after the overlay is applied."""

    name: str
    flow: str = "flows/standard"
    connections: list[str] = Field(default_factory=list)
    datasets: list[Dataset] = Field(min_length=1)
    evaluators: list[Evaluator] = Field(default_factory=list)

    _name = field_validator("name")(_run_name_part)
    _directory: Path = PrivateAttr(default_factory=Path)
    _sources: dict[str, Path] = PrivateAttr(default_factory=dict)
    _base_file: Path = PrivateAttr(default_factory=Path)

    @property
    def directory(self) -> Path:
        """The use-case folder; relative paths in the experiment start here."""
        return self._directory

    def path(self, relative: str) -> Path:
        """Resolve a path written in the experiment (flow or dataset source)."""
        return self._directory / relative

    def source_file(self, key: str) -> Path:
        """The file that supplied a top-level key: the overlay or experiment.yaml."""
        return self._sources.get(key, self._base_file)

    def dataset(self, name: str) -> Dataset | None:
        """The standard dataset with this name, if any."""
        return next((item for item in self.datasets if item.name == name), None)


class ConnectionSpec(_Strict):
    """One entry of ``config/connections.yaml``; secrets come from the environment."""

    name: str
    type: Literal["azure_openai", "openai"]
    api_version: str | None = None
    deployment: str

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not CONNECTION_NAME.fullmatch(value):
            raise ValueError(
                f"'{value}' is not usable: use letters, digits and '_' "
                "(it becomes the <NAME>_API_KEY variable name)"
            )
        return value

    @field_validator("api_version", mode="before")
    @classmethod
    def _date_to_text(cls, value: Any) -> Any:
        # An unquoted 2024-10-21 is a date in YAML; accept it as the text it looks like.
        return value.isoformat() if isinstance(value, datetime.date) else value


class ConnectionsFile(_Strict):
    """Contents of ``config/connections.yaml``."""

    connections: list[ConnectionSpec] = Field(min_length=1)


def experiment_json_schema() -> dict[str, Any]:
    """JSON Schema of experiment.yaml, for editors and documentation."""
    return ExperimentConfig.model_json_schema()


def read_yaml(path: Path, shown: str) -> Any:
    """Parse one YAML file; syntax errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LLMOpsError(f"{shown}: file not found") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{shown}:{mark.line + 1}" if mark is not None else shown
        problem = getattr(error, "problem", None) or str(error)
        raise LLMOpsError(f"{where}: invalid YAML: {problem}") from None


def load_experiment(use_case_dir: Path, env: str | None = None) -> ExperimentConfig:
    """Read experiment.yaml, apply the ``experiment.<env>.yaml`` overlay, validate."""
    root = use_case_dir.parent.parent
    base_file = use_case_dir / EXPERIMENT_FILE
    base = _mapping(read_yaml(base_file, _shown(base_file, root)), _shown(base_file, root))
    sources = dict.fromkeys(base, base_file)
    if env:
        if not NAME.fullmatch(env):
            raise LLMOpsError(f"environment name '{env}' is not usable: use letters and digits")
        overlay_file = use_case_dir / f"experiment.{env}.yaml"
        if overlay_file.is_file():
            shown = _shown(overlay_file, root)
            overlay = _mapping(read_yaml(overlay_file, shown), shown)
            banned = [key for key in OVERLAY_FORBIDDEN if key in overlay]
            if banned:
                raise LLMOpsError(
                    f"{shown}: {', '.join(banned)}: an overlay may not set "
                    f"{' or '.join(OVERLAY_FORBIDDEN)}; change them in {EXPERIMENT_FILE}"
                )
            base = {**base, **overlay}
            sources.update(dict.fromkeys(overlay, overlay_file))
    try:
        config = ExperimentConfig.model_validate(base)
    except ValidationError as error:
        problems = format_validation_error(
            error, ExperimentConfig, lambda loc: _shown(sources.get(loc[0], base_file), root)
        )
        raise LLMOpsError("\n".join(problems)) from None
    config._directory = use_case_dir
    config._sources = sources
    config._base_file = base_file
    return config


def load_connections(root: Path) -> list[ConnectionSpec]:
    """Read ``config/connections.yaml`` (names and types only; no secrets live there)."""
    shown = CONNECTIONS_FILE.as_posix()
    data = _mapping(read_yaml(root / CONNECTIONS_FILE, shown), shown)
    try:
        specs = ConnectionsFile.model_validate(data).connections
    except ValidationError as error:
        problems = format_validation_error(error, ConnectionsFile, lambda _loc: shown)
        raise LLMOpsError("\n".join(problems)) from None
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise LLMOpsError(f"{shown}: connections: duplicate name(s) {', '.join(duplicates)}")
    return specs


def format_validation_error(
    error: ValidationError,
    model: type[BaseModel],
    file_for: Callable[[tuple[Any, ...]], str],
) -> list[str]:
    """Turn pydantic errors into ``<file>: <dotted.key>: <message>`` lines."""
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = _unknown_key_message(str(loc[-1]), _fields_at(model, loc[:-1]))
        elif item["type"] == "missing":
            message = "required key is missing"
        where = dotted_key(loc) or "(top level)"
        problems.append(f"{file_for(loc or ('',))}: {where}: {message}")
    return problems


def dotted_key(loc: tuple[Any, ...]) -> str:
    """``('datasets', 0, 'mappings', 'text')`` -> ``datasets[0].mappings.text``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _unknown_key_message(key: str, allowed: list[str]) -> str:
    message = "unknown key"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        message += f"; did you mean '{close[0]}'?"
    if allowed:
        message += f" (allowed: {', '.join(allowed)})"
    return message


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the nested model found at ``loc`` (list indexes skipped)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            return []
        current = _item_type(fields[part].annotation)
    return list(getattr(current, "model_fields", {}))


def _item_type(annotation: Any) -> Any:
    if typing.get_origin(annotation) is list:
        return typing.get_args(annotation)[0]
    return annotation


def _mapping(data: Any, shown: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LLMOpsError(f"{shown}: expected a mapping of keys, found {type(data).__name__}")
    return data


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
