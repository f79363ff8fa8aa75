"""Managed by the LLMOps template. Per-environment deployment settings, checked before Azure.

Two files, merged key by key (mappings merge, lists and scalars replace):

* ``config/deployment.base.yaml`` -- template-owned, rendered from the ``deploy_*``
  answers; ``copier update`` rewrites it;
* ``config/deployment.yaml`` -- yours; updates never touch it.

In each file, ``defaults`` applies to every environment and ``environments.<env>``
to one. Precedence, lowest first: base defaults, base environment, your defaults,
your environment. Every environment you deploy to needs a section in one of the files
(``environments: {qa: {}}`` is enough). Names may use ``{env}`` and ``{use_case}``.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import string
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from llmops.config import dotted_key, read_yaml
from llmops.errors import LLMOpsError

BASE_FILE = Path("config") / "deployment.base.yaml"
OVERLAY_FILE = Path("config") / "deployment.yaml"
TARGETS = ("aml_managed", "kubernetes", "app_service", "docker")
ONLINE_TARGETS = ("aml_managed", "kubernetes")
PLACEHOLDERS = frozenset({"env", "use_case"})
TOP_LEVEL = ("defaults", "environments")
ENDPOINT_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]")
WEB_APP_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9-]{0,58}[a-zA-Z0-9]")
REPOSITORY = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SECRET_LIKE = re.compile(r"(^|_)(KEY|SECRET|PASSWORD|TOKEN)$|CONNECTION_STRING", re.IGNORECASE)

Target = Literal["aml_managed", "kubernetes", "app_service", "docker"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_pattern(value: str) -> str:
    fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    unknown = sorted(fields - PLACEHOLDERS)
    if unknown:
        raise ValueError(
            f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)} "
            f"(available: {{env}}, {{use_case}})"
        )
    return value


def _check_variables(values: dict[str, str]) -> dict[str, str]:
    for key in values:
        if not VARIABLE.fullmatch(key):
            raise ValueError(f"'{key}' is not a valid environment variable name")
        if SECRET_LIKE.search(key):
            raise ValueError(
                f"'{key}' looks like a secret: deployments read secrets from workspace "
                "connections or Key Vault, never from a file in the repository"
            )
    return {key: str(value) for key, value in values.items()}


class TrafficSplit(_Strict):
    """How a new online deployment shares traffic with the one serving before it."""

    new: int = Field(ge=1, le=100, description="percent for the new deployment")
    previous: int = Field(ge=0, le=99, description="percent left on the previous deployment")

    @model_validator(mode="after")
    def _sums_to_100(self) -> TrafficSplit:
        if self.new + self.previous != 100:
            raise ValueError(
                f"traffic.new + traffic.previous must be 100 "
                f"(got {self.new} + {self.previous} = {self.new + self.previous})"
            )
        return self


class SmokeSettings(_Strict):
    """The request a deployment must answer before (and after) it gets traffic."""

    request_file: str = Field("sample-request.json", description="relative to the use case")
    timeout_seconds: int = Field(120, ge=5, le=900, description="per request")
    attempts: int = Field(3, ge=1, le=30, description="tries while a deployment warms up")
    wait_seconds: int = Field(10, ge=1, le=300, description="pause between tries")
    startup_timeout_seconds: int = Field(
        600, ge=30, le=3_600, description="App Service: time the new container may take to start"
    )


class OnlineSettings(_Strict):
    """An Azure ML online endpoint and the deployments it gets."""

    endpoint_name: str = Field(description="3-32 letters, digits, dashes; may use placeholders")
    instance_type: str
    instance_count: int = Field(ge=1, le=100)
    auth_mode: Literal["aad_token", "aml_token", "key"] = "aml_token"
    request_timeout_ms: int = Field(90_000, ge=1_000, le=180_000)
    max_concurrent_requests_per_instance: int = Field(1, ge=1, le=1_000)
    workers: int = Field(4, ge=1, le=64, description="server worker processes per instance")
    app_insights: bool = True
    environment_variables: dict[str, str] = Field(default_factory=dict)
    delete_idle_deployments: bool = Field(
        True, description="remove deployments left at 0 % by earlier rollouts"
    )

    _pattern = field_validator("endpoint_name")(_check_pattern)
    _variables = field_validator("environment_variables")(_check_variables)

    def endpoint(self, use_case: str, env: str) -> str:
        """The endpoint name for one use case and environment (checked against Azure's rules)."""
        return resource_name(self.endpoint_name, use_case, env, 32, ENDPOINT_NAME, "endpoint_name")


class ManagedSettings(OnlineSettings):
    """A managed online endpoint (Azure runs the VMs)."""

    auth_mode: Literal["aad_token", "aml_token", "key"] = "aad_token"


class KubernetesSettings(OnlineSettings):
    """A Kubernetes online endpoint on an AKS or Arc cluster attached to the workspace."""

    compute: str = Field(description="name of the Kubernetes compute in the workspace")

    @field_validator("auth_mode")
    @classmethod
    def _no_entra_tokens(cls, value: str) -> str:
        if value == "aad_token":
            raise ValueError(
                "Kubernetes online endpoints do not support aad_token: use aml_token or key"
            )
        return value


class AppServiceSettings(_Strict):
    """A Linux web app running the flow image (plan and identity come from the environment)."""

    web_app_name: str = Field(description="2-60 letters, digits, dashes; globally unique")
    workers: int = Field(4, ge=1, le=64)
    environment_variables: dict[str, str] = Field(default_factory=dict)

    _pattern = field_validator("web_app_name")(_check_pattern)
    _variables = field_validator("environment_variables")(_check_variables)

    def web_app(self, use_case: str, env: str) -> str:
        """The web app name for one use case and environment."""
        return resource_name(self.web_app_name, use_case, env, 60, WEB_APP_NAME, "web_app_name")


class DockerSettings(_Strict):
    """The flow image in the environment's container registry."""

    repository: str = Field("{use_case}", description="image repository (lowercase)")
    builder: Literal["acr", "docker"] = Field(
        "acr", description="acr: `az acr build` in Azure; docker: local engine + push"
    )

    _pattern = field_validator("repository")(_check_pattern)

    def image_repository(self, use_case: str, env: str) -> str:
        """The repository name for one use case and environment."""
        name = self.repository.format(use_case=slug(use_case), env=env).lower()
        if not REPOSITORY.fullmatch(name):
            raise LLMOpsError(
                f"docker.repository '{name}' is not a valid image repository name "
                "(lowercase letters, digits, '.', '_', '-', '/')"
            )
        return name


class EnvironmentDeployment(_Strict):
    """Everything ``llmops deploy`` needs for one environment."""

    targets: list[Target] = Field(min_length=1)
    traffic: TrafficSplit
    smoke: SmokeSettings = Field(default_factory=SmokeSettings)
    aml_managed: ManagedSettings | None = None
    kubernetes: KubernetesSettings | None = None
    app_service: AppServiceSettings | None = None
    docker: DockerSettings = Field(default_factory=DockerSettings)

    @model_validator(mode="after")
    def _sections_for_targets(self) -> EnvironmentDeployment:
        duplicates = sorted({t for t in self.targets if self.targets.count(t) > 1})
        if duplicates:
            raise ValueError(f"targets: listed twice: {', '.join(duplicates)}")
        missing = [t for t in self.targets if getattr(self, t) is None]
        if missing:
            raise ValueError(
                f"targets {', '.join(missing)} need a section of the same name "
                f"({', '.join(m + ': {...}' for m in missing)})"
            )
        return self


def slug(use_case: str) -> str:
    """``named_entity_recognition`` -> ``named-entity-recognition`` (Azure name friendly)."""
    return re.sub(r"[^a-z0-9]+", "-", use_case.lower()).strip("-")


def resource_name(
    pattern: str, use_case: str, env: str, limit: int, rule: re.Pattern[str], key: str
) -> str:
    """Fill the placeholders; a name over ``limit`` keeps its start plus a 4-hex hash."""
    name = pattern.format(use_case=slug(use_case), env=env)
    if len(name) > limit:
        digest = hashlib.sha256(name.encode()).hexdigest()[:4]
        name = f"{name[: limit - 5].rstrip('-')}-{digest}"
    if not rule.fullmatch(name):
        raise LLMOpsError(
            f"{key} '{name}' (from '{pattern}') breaks Azure's naming rules: start with a "
            f"letter, use letters, digits and '-', end with a letter or digit, at most {limit} "
            f"characters; change it in {OVERLAY_FILE.as_posix()}"
        )
    return name


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else in ``override`` replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_deployment_config(root: Path, env: str | None) -> EnvironmentDeployment:
    """Merge base and overlay for ``env`` and validate; every problem names its file."""
    base = _read(root, BASE_FILE, required=True)
    overlay = _read(root, OVERLAY_FILE, required=False)
    known = sorted({*base.get("environments", {}), *overlay.get("environments", {})})
    if not env:
        raise LLMOpsError(
            "deployment needs an environment: pass --env or set ENV_NAME "
            f"(configured: {', '.join(known) or 'none'})"
        )
    if env not in known:
        raise LLMOpsError(
            f"{BASE_FILE.as_posix()}: environments: no section for '{env}' "
            f"(configured: {', '.join(known) or 'none'}); add `environments: {{{env}: {{}}}}` "
            f"to {OVERLAY_FILE.as_posix()}"
        )
    layers = [
        (BASE_FILE, "defaults", base.get("defaults", {})),
        (BASE_FILE, f"environments.{env}", base.get("environments", {}).get(env) or {}),
        (OVERLAY_FILE, "defaults", overlay.get("defaults", {})),
        (OVERLAY_FILE, f"environments.{env}", overlay.get("environments", {}).get(env) or {}),
    ]
    merged: dict[str, Any] = {}
    for path, prefix, layer in layers:
        if not isinstance(layer, dict):
            raise LLMOpsError(f"{path.as_posix()}: {prefix}: expected a mapping")
        merged = deep_merge(merged, layer)
    try:
        return EnvironmentDeployment.model_validate(merged)
    except ValidationError as error:
        raise LLMOpsError("\n".join(_problems(error, layers))) from None


def _problems(error: ValidationError, layers: list[tuple[Path, str, Any]]) -> list[str]:
    """``<file>: <section>.<dotted key>: <message>`` per problem, with "did you mean"."""
    located = []
    for item in error.errors():
        loc = tuple(item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            allowed = _fields_at(loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
            message = "unknown key" + (f"; did you mean '{close[0]}'?" if close else "")
            message += f" (allowed: {', '.join(allowed)})" if allowed else ""
        elif item["type"] == "missing":
            message = "required key is missing"
        path, prefix = _origin(loc, layers)
        where = dotted_key(loc)
        located.append(f"{path.as_posix()}: {prefix}{'.' + where if where else ''}: {message}")
    return located


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the settings model at ``loc`` (list indexes and ``None`` unions skipped)."""
    current: Any = EnvironmentDeployment
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        models = [
            arg
            for arg in (typing.get_args(field.annotation) or (field.annotation,))
            if isinstance(arg, type) and issubclass(arg, BaseModel)
        ]
        current = models[0] if models else None
    return list(getattr(current, "model_fields", {}))


def _origin(loc: tuple[Any, ...], layers: list[tuple[Path, str, Any]]) -> tuple[Path, str]:
    """The layer that set the value at ``loc`` (the highest one that has it)."""
    for path, prefix, layer in reversed(layers):
        node: Any = layer
        for part in loc:
            present = isinstance(node, dict) and part in node
            present |= isinstance(node, list) and isinstance(part, int) and part < len(node)
            if not present:
                break
            node = node[part]
        else:
            if loc:
                return path, prefix
    # A missing key: blame the environment section of the overlay, where it can be added.
    return layers[-1][0], layers[-1][1]


def _read(root: Path, relative: Path, *, required: bool) -> dict[str, Any]:
    path = root / relative
    shown = relative.as_posix()
    if not path.is_file():
        if required:
            raise LLMOpsError(
                f"{shown}: file not found (it comes with the template: `copier update` restores it)"
            )
        return {}
    data = read_yaml(path, shown)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LLMOpsError(f"{shown}: expected a mapping with defaults and environments")
    unknown = [key for key in data if key not in TOP_LEVEL]
    if unknown:
        keys = ", ".join(map(str, unknown))
        raise LLMOpsError(f"{shown}: {keys}: unknown key (allowed: {', '.join(TOP_LEVEL)})")
    for key in TOP_LEVEL:
        value = data.get(key)
        if value is None:
            data[key] = {}
        elif not isinstance(value, dict):
            raise LLMOpsError(f"{shown}: {key}: expected a mapping")
    return data
