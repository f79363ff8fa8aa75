"""Managed by the LLMOps template. Typed models for experiment.yaml and connections.yaml.

Unknown keys are errors (``extra="forbid"``) so that a typo never silently drops a
setting. Every problem is reported as ``<file>: <dotted.key>: <message>``.

Overlay rules: with an environment name (``--env`` or ``ENV_NAME``), the keys of
``experiment.<env>.yaml`` are applied to ``experiment.yaml`` like this:

* ``name`` and ``flow`` may not appear: an environment runs the same flow under the
  same experiment name, only with other data, evaluators, variants or thresholds;
* ``connections``, ``datasets``, ``evaluators`` and ``variants`` REPLACE the base
  value as a whole (``evaluators: []`` turns evaluation off);
* ``runtime`` MERGES key by key (an overlay can change ``workers`` alone);
* ``gates`` MERGES by metric: an overlay entry adds a gate or changes its condition,
  and ``<metric>: null`` removes the gate of the base file.

``llmops schema`` writes the JSON Schema of this file to ``schemas/experiment.schema.json``;
each experiment file points at it with a ``# yaml-language-server: $schema=`` comment
so editors validate while you type.
"""

from __future__ import annotations

import datetime
import difflib
import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from llmops.errors import LLMOpsError
from llmops.paths import CONNECTIONS_FILE, EXPERIMENT_FILE, SCHEMA_FILE

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
CONNECTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CONDITION = re.compile(
    r"^\s*(?P<op>>=|<=|==|>|<)\s*(?P<value>[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)\s*$"
)
VARIANT_ITEM = re.compile(r"^(?P<node>[A-Za-z_][A-Za-z0-9_]*)\.(?P<variant>[A-Za-z0-9_-]+)$")
OVERLAY_FORBIDDEN = ("name", "flow")
OVERLAY_REPLACED = ("connections", "datasets", "evaluators", "variants")
OVERLAY_MERGED = ("runtime", "gates")
VARIANT_MODES = ("defaults", "one_factor", "grid")
DEFAULT_MAX_VARIANTS = 25


def _run_name_part(value: str) -> str:
    if not NAME.fullmatch(value):
        raise ValueError(
            f"'{value}' is not usable: use letters, digits, '_' and '-' "
            "(it becomes part of run names)"
        )
    return value


def parse_condition(text: str) -> tuple[str, float]:
    """``">= 0.7"`` -> ``(">=", 0.7)``; a clear error for anything else."""
    match = CONDITION.match(str(text))
    if match is None:
        raise ValueError(
            f"'{text}' is not a gate condition: write an operator and a number, "
            'for example ">= 0.7" (operators: >=, >, <=, <, ==)'
        )
    return match.group("op"), float(match.group("value"))


def _condition(text: str) -> str:
    parse_condition(text)
    return text


def _gate_key(key: str) -> str:
    evaluator, dot, metric = key.partition(".")
    if not (evaluator and dot and metric):
        raise ValueError(
            f"gate key '{key}' must be <evaluator>.<metric>, for example ner_match.exact_match_rate"
        )
    return key


# Checked per entry (not by a validator of the whole dict) so that pydantic's error
# location, and so the message, names the gate: `gates.ner_match.f1`, not `gates`.
Condition = Annotated[str, AfterValidator(_condition)]
GateKey = Annotated[str, AfterValidator(_gate_key)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


Mappings = Annotated[
    dict[str, str],
    Field(description="flow input -> ${data.<column>} (or ${run.outputs.<output>} in evaluators)"),
]


class Dataset(_Strict):
    """A JSONL file and how its columns feed the standard flow's inputs."""

    name: str = Field(description="unique dataset name; part of run names")
    source: str = Field(description="JSONL path, relative to the use-case folder")
    description: str = ""
    mappings: Mappings

    _name = field_validator("name")(_run_name_part)


class EvaluatorDataset(_Strict):
    """The data an evaluator scores: a standard dataset, or its own file that references one.

    Without ``reference`` the evaluator reads the standard dataset ``name`` and its
    standard run(s). With ``reference: <standard dataset>`` it reads its own ``source``
    (for example ground truth kept apart from the inputs) and binds the runs of the
    referenced dataset, line by line.
    """

    name: str = Field(description="a standard dataset, or a new name when `reference` is set")
    source: str | None = Field(
        default=None, description="own JSONL file (only with `reference`), relative path"
    )
    reference: str | None = Field(
        default=None, description="standard dataset whose runs this file is evaluated against"
    )
    description: str = ""
    mappings: Mappings

    _name = field_validator("name")(_run_name_part)

    @model_validator(mode="after")
    def _source_goes_with_reference(self) -> EvaluatorDataset:
        if self.reference and not self.source:
            raise ValueError(
                f"dataset '{self.name}' sets reference: {self.reference} but no source: "
                "add `source: data/<file>.jsonl` (its own file) or drop `reference`"
            )
        if self.source and not self.reference:
            raise ValueError(
                f"dataset '{self.name}' sets its own source but no reference: add "
                "`reference: <standard dataset>` so its lines are bound to that dataset's runs"
            )
        return self

    @property
    def standard_dataset(self) -> str:
        """Name of the standard dataset whose runs this evaluation binds."""
        return self.reference or self.name


class Evaluator(_Strict):
    """An evaluation flow applied to the standard runs of some datasets."""

    name: str = Field(description="unique evaluator name; part of run names and gate keys")
    flow: str = Field(description="evaluation flow folder, relative to the use-case folder")
    datasets: list[EvaluatorDataset] = Field(min_length=1)
    gates: dict[str, Condition] = Field(
        default_factory=dict,
        description='metric -> condition, for example {exact_match_rate: ">= 0.7"}',
    )

    _name = field_validator("name")(_run_name_part)


class Runtime(_Strict):
    """How runs execute."""

    workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="lines run in parallel per run (prompt flow PF_WORKER_COUNT); "
        "`--workers` on the command line wins",
    )
    line_timeout: int | None = Field(
        default=None, ge=1, description="seconds before one line fails (PF_LINE_TIMEOUT_SEC)"
    )
    executor: Literal["threads", "processes"] = Field(
        default="threads",
        description="where a local run executes its lines: threads (inside llmops; starts at "
        "once, best for LLM calls) or processes (prompt flow's worker processes: isolated "
        "lines and several cores for CPU-heavy Python nodes, about 10 s start-up per run)",
    )
    concurrent_runs: int = Field(
        default=1,
        ge=1,
        le=16,
        description="runs of a stage (variants x datasets) in flight at the same time: local "
        "runs with executor threads, and Azure runs (submitted one by one, awaited together); "
        "each keeps `workers` lines in flight, so an endpoint sees up to "
        "concurrent_runs x workers requests at once",
    )
    max_variants: int = Field(
        default=DEFAULT_MAX_VARIANTS,
        ge=1,
        description="cap on variant combinations per dataset (protects against a large grid)",
    )
    azure_runtime: str | None = Field(
        default=None,
        description="named Azure ML compute-instance runtime for `--target azure` "
        "(default: serverless compute)",
    )
    azure_instance_type: str | None = Field(
        default=None,
        description="VM size of the serverless compute for `--target azure`, e.g. Standard_E4ds_v4",
    )


VariantChoice = Annotated[
    str | dict[str, str],
    Field(
        description="one run: `node.variant`, or a mapping {node: variant} for several nodes",
    ),
]


class ExperimentConfig(_Strict):
    """Contents of ``use_cases/<name>/experiment.yaml`` after the overlay is applied."""

    model_config = ConfigDict(
        extra="forbid",
        title="LLMOps experiment",
        json_schema_extra={
            "description": "use_cases/<name>/experiment.yaml of an LLMOps project "
            "(overlays experiment.<env>.yaml use the same keys, without name and flow)"
        },
    )

    name: str = Field(description="experiment name; prefix of every run name")
    flow: str = Field(
        default="flows/standard", description="standard flow folder, relative to the use case"
    )
    connections: list[str] = Field(
        default_factory=list, description="connections from config/connections.yaml"
    )
    datasets: list[Dataset] = Field(min_length=1)
    evaluators: list[Evaluator] = Field(default_factory=list)
    runtime: Runtime = Field(default_factory=Runtime)
    variants: Literal["defaults", "one_factor", "grid"] | list[VariantChoice] = Field(
        default="defaults",
        description="which node variants of a DAG flow to run: defaults (one run), "
        "one_factor (each variant with the other nodes at their default), grid (every "
        "combination, up to runtime.max_variants) or an explicit list of runs",
    )
    gates: dict[GateKey, Condition | None] = Field(
        default_factory=dict,
        description='<evaluator>.<metric> -> condition, for example ">= 0.7"',
    )

    _name = field_validator("name")(_run_name_part)
    _directory: Path = PrivateAttr(default_factory=Path)
    _sources: dict[str, Path] = PrivateAttr(default_factory=dict)
    _base_file: Path = PrivateAttr(default_factory=Path)

    @field_validator("variants")
    @classmethod
    def _variant_items(cls, value: Any) -> Any:
        if isinstance(value, list):
            if not value:
                raise ValueError("an empty variants list runs nothing; use `defaults`")
            for item in value:
                pairs = item.items() if isinstance(item, dict) else [(None, item)]
                for node, variant in pairs:
                    text = variant if node is None else f"{node}.{variant}"
                    if not VARIANT_ITEM.match(str(text)):
                        raise ValueError(
                            f"'{text}' is not a variant: write node.variant_id, "
                            "for example classify.variant_1"
                        )
        return value

    @property
    def directory(self) -> Path:
        """The use-case folder; relative paths in the experiment start here."""
        return self._directory

    def path(self, relative: str) -> Path:
        """Resolve a path written in the experiment (flow or dataset source)."""
        return self._directory / relative

    def source_file(self, key: str) -> Path:
        """The file that supplied a top-level key (or a ``gates.<evaluator>.<metric>``
        gate, as gates merge across files): the overlay or experiment.yaml."""
        return self._sources.get(key, self._base_file)

    def dataset(self, name: str) -> Dataset | None:
        """The standard dataset with this name, if any."""
        return next((item for item in self.datasets if item.name == name), None)

    def evaluator(self, name: str) -> Evaluator | None:
        """The evaluator with this name, if any."""
        return next((item for item in self.evaluators if item.name == name), None)

    def all_gates(self) -> dict[tuple[str, str], tuple[str, str]]:
        """``(evaluator, metric) -> (condition, where it was set)`` from both places."""
        found: dict[tuple[str, str], tuple[str, str]] = {}
        for index, evaluator in enumerate(self.evaluators):
            for metric, condition in evaluator.gates.items():
                found[(evaluator.name, metric)] = (condition, f"evaluators[{index}].gates.{metric}")
        for key, condition in self.gates.items():
            if condition is not None:
                evaluator, _, metric = key.partition(".")
                found[(evaluator, metric)] = (condition, f"gates.{key}")
        return found


SECRET_KEYS = ("api_key", "key", "api_base", "endpoint", "password", "secret", "token")


class ConnectionSpec(_Strict):
    """One entry of ``config/connections.yaml``; secrets come from the environment."""

    name: str
    type: Literal["azure_openai", "openai"]
    api_version: str | None = None
    deployment: str

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data: Any) -> Any:
        """A key here would be committed: say where it belongs instead of 'unknown key'."""
        if isinstance(data, dict):
            secrets = sorted(key for key in data if str(key).lower() in SECRET_KEYS)
            if secrets:
                prefix = str(data.get("name", "<name>")).upper()
                raise ValueError(
                    f"{', '.join(secrets)}: secrets never go in this tracked file; set "
                    f"{prefix}_API_KEY and {prefix}_API_BASE in .env (git-ignored) or as "
                    "pipeline secrets"
                )
        return data

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


def apply_overlay(base: dict[str, Any], overlay: dict[str, Any], shown: str) -> dict[str, Any]:
    """Combine experiment.yaml with an overlay by the rules in this module's docstring."""
    banned = [key for key in OVERLAY_FORBIDDEN if key in overlay]
    if banned:
        raise LLMOpsError(
            f"{shown}: {', '.join(banned)}: an overlay may not set "
            f"{' or '.join(OVERLAY_FORBIDDEN)}; change them in {EXPERIMENT_FILE}"
        )
    merged = dict(base)
    for key, value in overlay.items():
        if key in OVERLAY_MERGED and isinstance(value, dict):
            current = base.get(key)
            combined = {**current} if isinstance(current, dict) else {}
            combined.update(value)
            if key == "gates":  # `metric: null` removes the base file's gate
                combined = {name: cond for name, cond in combined.items() if cond is not None}
            merged[key] = combined
        else:
            merged[key] = value
    return merged


def load_experiment(use_case_dir: Path, env: str | None = None) -> ExperimentConfig:
    """Read experiment.yaml, apply the ``experiment.<env>.yaml`` overlay, validate."""
    root = use_case_dir.parent.parent
    base_file = use_case_dir / EXPERIMENT_FILE
    base = _mapping(read_yaml(base_file, _shown(base_file, root)), _shown(base_file, root))
    sources = {**dict.fromkeys(base, base_file), **_gate_sources(base, base_file)}
    if env:
        if not NAME.fullmatch(env):
            raise LLMOpsError(f"environment name '{env}' is not usable: use letters and digits")
        overlay_file = use_case_dir / f"experiment.{env}.yaml"
        if overlay_file.is_file():
            shown = _shown(overlay_file, root)
            overlay = _mapping(read_yaml(overlay_file, shown), shown)
            base = apply_overlay(base, overlay, shown)
            sources.update(dict.fromkeys(overlay, overlay_file))
            sources.update(_gate_sources(overlay, overlay_file))
    try:
        config = ExperimentConfig.model_validate(base)
    except ValidationError as error:
        problems = format_validation_error(
            error, ExperimentConfig, lambda loc: _shown(_source(sources, loc, base_file), root)
        )
        raise LLMOpsError("\n".join(problems)) from None
    config._directory = use_case_dir
    config._sources = sources
    config._base_file = base_file
    return config


def _gate_sources(data: dict[str, Any], file: Path) -> dict[str, Path]:
    """``gates.<key>`` -> ``file`` for each gate the file sets (gates merge by key)."""
    gates = data.get("gates")
    return {f"gates.{key}": file for key in gates} if isinstance(gates, dict) else {}


def _source(sources: dict[str, Path], loc: tuple[Any, ...], default: Path) -> Path:
    """The file that set the key at ``loc``: a gate by its own key, others by the top key."""
    if len(loc) > 1 and loc[0] == "gates":
        return sources.get(f"gates.{loc[1]}", default)
    return sources.get(str(loc[0]), default)


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
    seen: set[str] = set()
    for item in error.errors():
        loc = _model_loc(tuple(item["loc"]))
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = _unknown_key_message(str(loc[-1]), _fields_at(model, loc[:-1]))
        elif item["type"] == "missing":
            message = "required key is missing"
        elif loc and loc[0] == "variants" and item["type"] in ("literal_error", "list_type"):
            loc = ("variants",)
            message = (
                f"use one of {', '.join(VARIANT_MODES)} or a list of node.variant items "
                f"(found {item.get('input')!r})"
            )
        where = dotted_key(loc) or "(top level)"
        line = f"{file_for(loc or ('',))}: {where}: {message}"
        if line not in seen:
            seen.add(line)
            problems.append(line)
    return problems


def _model_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union branch labels (``str``, ``list[...]``) from a location."""
    return tuple(
        part
        for part in loc
        if not (isinstance(part, str) and (part in ("str", "dict[str,str]") or "[" in part))
    )


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


SCHEMA_COMMENT = f"# yaml-language-server: $schema=../../{SCHEMA_FILE.as_posix()}"
"""First line of every experiment file: editors validate it against the committed schema."""
