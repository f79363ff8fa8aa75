"""Validators for Copier answers that are too rich for one-line Jinja.

Each filter returns an empty string for a valid answer, or one message that
names what is wrong and what is allowed; Copier shows it as
``Validation error for question '<name>': <message>`` and writes nothing.
Pure functions only: this module runs in every render.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

PROJECT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9 _-]*")
PROJECT_SLUG = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
DEPLOYMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ENV_NAME = re.compile(r"[a-z][a-z0-9]{1,7}")
BRANCH_PART = re.compile(r"[A-Za-z0-9._-]+")
CONNECTION_TYPES = ("azure_openai", "openai")
CONNECTION_KEYS = (
    "name",
    "type",
    "api_version",
    "deployment",
    "model",
    "model_version",
    "capacity",
)
LOCATION = re.compile(r"[a-z][a-z0-9]{2,30}")
RESOURCE_PREFIX = re.compile(r"[a-z][a-z0-9]{1,9}")
ADO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
MODEL_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
ENVIRONMENT_KEYS = ("name", "branch")


def project_name_error(value: Any) -> str:
    """Check the human-readable project name."""
    text = str(value or "").strip()
    if not text:
        return "Give the project a name (for example 'Contoso Support Bot')."
    if len(text) > 60:
        return f"Use at most 60 characters; '{text}' has {len(text)}."
    if not PROJECT_NAME.fullmatch(text):
        return (
            "Start with a letter and use only letters, digits, spaces, '-' and '_' "
            f"('{text}' does not fit)."
        )
    return ""


def project_slug_error(value: Any) -> str:
    """Check the slug that feeds package and Azure resource names."""
    text = str(value or "")
    if not 3 <= len(text) <= 24:
        return (
            "Use 3-24 characters (it becomes part of Azure resource names); "
            f"'{text}' has {len(text)}."
        )
    if not PROJECT_SLUG.fullmatch(text) or "--" in text:
        return (
            "Use lowercase letters, digits and single dashes, starting with a letter "
            f"and ending with a letter or digit ('{text}' does not fit)."
        )
    return ""


def branch_name_error(value: Any) -> str:
    """Check a git branch name (a trailing '/*' pattern is allowed, e.g. 'release/*')."""
    text = str(value or "")
    parts = text.removesuffix("/*").split("/")
    if not text or not all(BRANCH_PART.fullmatch(part) for part in parts):
        return (
            f"'{text}' is not a usable branch name: use letters, digits, '.', '_', '-' "
            "and '/' between parts (a trailing '/*' matches a branch family)."
        )
    if ".." in text or text.endswith((".", ".lock")) or any(p.startswith(".") for p in parts):
        return (
            f"'{text}' is not a valid git branch name ('..', a leading '.', or a '.lock' ending)."
        )
    return ""


def _list_of_mappings(value: Any, what: str, example: str) -> tuple[list[dict[str, Any]], str]:
    if not isinstance(value, list) or not value:
        return [], f"Give a non-empty YAML list of {what}, for example: {example}"
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            return [], f"Item {index} is not a mapping; each item is one of {what} like {example}"
    return value, ""


def _unknown_keys(item: dict[str, Any], allowed: tuple[str, ...], where: str) -> str:
    unknown = sorted(set(item) - set(allowed))
    if unknown:
        return (
            f"{where} has unknown key(s) {', '.join(unknown)}; "
            f"allowed keys are {', '.join(allowed)}."
        )
    return ""


def _connection_error(index: int, item: dict[str, Any]) -> str:
    where = f"Connection {index}"
    name = str(item.get("name", ""))
    if not IDENTIFIER.fullmatch(name):
        return (
            f"{where}: name '{name}' is not a valid identifier; use letters, digits and '_', "
            "starting with a letter (it becomes the prompt flow connection name and "
            "the prefix of its environment variables)."
        )
    where = f"Connection '{name}'"
    unknown = _unknown_keys(item, CONNECTION_KEYS, where)
    if unknown:
        return unknown
    kind = item.get("type")
    if kind not in CONNECTION_TYPES:
        return f"{where}: type '{kind}' is unknown; use one of {', '.join(CONNECTION_TYPES)}."
    version = item.get("api_version")
    if kind == "azure_openai" and version is None:
        return f"{where}: an azure_openai connection needs api_version, for example '2024-10-21'."
    if version is not None and not API_VERSION.fullmatch(str(version)):
        return (
            f"{where}: api_version '{version}' is malformed; use a date like '2024-10-21' "
            "or '2025-01-01-preview' (quote it in YAML)."
        )
    deployment = str(item.get("deployment", ""))
    if not DEPLOYMENT.fullmatch(deployment):
        return (
            f"{where}: deployment '{deployment}' is not a model deployment name; use 1-64 "
            "letters, digits, '.', '_' or '-'."
        )
    return _model_error(where, kind, item)


def _model_error(where: str, kind: Any, item: dict[str, Any]) -> str:
    """The optional Terraform model settings of an azure_openai connection."""
    model_keys = [key for key in ("model", "model_version", "capacity") if key in item]
    if model_keys and kind != "azure_openai":
        return f"{where}: {', '.join(model_keys)} only apply to azure_openai connections."
    if "model" in item and not DEPLOYMENT.fullmatch(str(item["model"])):
        return f"{where}: model '{item['model']}' is not a model name like 'gpt-4o-mini'."
    version = item.get("model_version")
    if version is not None and not MODEL_VERSION.fullmatch(str(version)):
        return f"{where}: model_version '{version}' is not a version like '2024-07-18'."
    capacity = item.get("capacity")
    if capacity is not None and (
        isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= 1000
    ):
        return (
            f"{where}: capacity '{capacity}' must be a whole number of thousands of tokens "
            "per minute, 1-1000."
        )
    return ""


def connections_error(value: Any) -> str:
    """Check the list of LLM connections."""
    example = (
        "[{name: aoai, type: azure_openai, api_version: '2024-10-21', deployment: gpt-4o-mini}]"
    )
    items, error = _list_of_mappings(value, "connections", example)
    if error:
        return error
    seen: dict[str, str] = {}
    for index, item in enumerate(items, start=1):
        error = _connection_error(index, item)
        if error:
            return error
        key = str(item["name"]).upper()
        if key in seen:
            return (
                f"Connection name '{item['name']}' repeats '{seen[key]}' (names are compared "
                "case-insensitively because they become environment variable prefixes)."
            )
        seen[key] = str(item["name"])
    return ""


def environments_error(value: Any, branch_development: str, branch_main: str) -> str:
    """Check the environment list and its branch mapping."""
    example = (
        f"[{{name: dev, branch: {branch_development}}}, {{name: prod, branch: {branch_main}}}]"
    )
    items, error = _list_of_mappings(value, "environments", example)
    if error:
        return error
    names: set[str] = set()
    branches: dict[str, str] = {}
    for index, item in enumerate(items, start=1):
        name = str(item.get("name", ""))
        if not ENV_NAME.fullmatch(name):
            return (
                f"Environment {index}: name '{name}' must be 2-8 lowercase letters or digits, "
                "starting with a letter (it becomes part of Azure resource names)."
            )
        unknown = _unknown_keys(item, ENVIRONMENT_KEYS, f"Environment '{name}'")
        if unknown:
            return unknown
        if name in names:
            return f"Environment name '{name}' appears twice; give each environment its own name."
        names.add(name)
        branch = str(item.get("branch", ""))
        branch_error = branch_name_error(branch)
        if branch_error:
            return f"Environment '{name}': {branch_error}"
        if branch in branches:
            return (
                f"Branch '{branch}' deploys to both '{branches[branch]}' and '{name}'; "
                "each branch may feed one environment."
            )
        branches[branch] = name
        if branch not in (branch_development, branch_main) and not branch.endswith("/*"):
            return (
                f"Environment '{name}': branch '{branch}' is neither the integration branch "
                f"'{branch_development}', the release branch '{branch_main}', nor a pattern "
                "like 'release/*'."
            )
    return ""


CRON_FIELD = re.compile(r"(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*")


def cron_error(value: Any) -> str:
    """Check a 5-field cron expression as Azure DevOps schedules accept it."""
    fields = str(value or "").split()
    if len(fields) != 5 or not all(CRON_FIELD.fullmatch(field) for field in fields):
        return (
            f"'{value}' is not a 5-field cron expression (minute hour day month weekday), "
            "for example '0 6 * * 1' for Mondays at 06:00 UTC."
        )
    return ""


def azure_location_error(value: Any) -> str:
    """Check an Azure region name in its programmatic form."""
    text = str(value or "")
    if not LOCATION.fullmatch(text):
        return (
            f"'{text}' is not an Azure region name; use the programmatic form in lowercase "
            "without spaces, for example 'westeurope' or 'eastus2'."
        )
    return ""


def resource_prefix_error(value: Any) -> str:
    """Check the stem every Azure resource name starts from."""
    text = str(value or "")
    if not RESOURCE_PREFIX.fullmatch(text):
        return (
            f"'{text}' does not fit: use 2-10 lowercase letters or digits, starting with a "
            "letter, so that every resource name (storage accounts: 24 characters) still fits "
            "once the type and environment are added."
        )
    return ""


def ado_name_error(value: Any) -> str:
    """Check an Azure DevOps service connection or variable group name prefix."""
    text = str(value or "")
    if not ADO_NAME.fullmatch(text):
        return (
            f"'{text}' is not a usable Azure DevOps name: use 1-63 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit."
        )
    return ""


EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+")
ADO_GROUP = re.compile(r"\[[^\]]+\]\\[^,]+")
PLACEHOLDER_DOMAINS = (
    "example.com",
    "example.org",
    "contoso.com",
    "yourdomain.com",
    "youremail.com",
    "domain.com",
)


def approval_notify_error(value: Any) -> str:
    """Check the manual-validation notify list: real addresses or groups, no placeholders."""
    entries = [entry.strip() for entry in str(value or "").split(",") if entry.strip()]
    if not entries:
        return "Name at least one email address or [Project]\\Group to notify."
    for entry in entries:
        if not (EMAIL.fullmatch(entry) or ADO_GROUP.fullmatch(entry)):
            return (
                f"'{entry}' is neither an email address nor an Azure DevOps group like "
                "[MyProject]\\Release Approvers."
            )
        if entry.lower().endswith(PLACEHOLDER_DOMAINS):
            return f"'{entry}' looks like a placeholder; name the people who really approve."
    return ""


class AnswerChecks(Extension):
    """Jinja filters that validate structured answers."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["project_name_error"] = project_name_error
        environment.filters["project_slug_error"] = project_slug_error
        environment.filters["branch_name_error"] = branch_name_error
        environment.filters["connections_error"] = connections_error
        environment.filters["environments_error"] = environments_error
        environment.filters["cron_error"] = cron_error
        environment.filters["azure_location_error"] = azure_location_error
        environment.filters["resource_prefix_error"] = resource_prefix_error
        environment.filters["ado_name_error"] = ado_name_error
        environment.filters["approval_notify_error"] = approval_notify_error
