"""Validators for Copier answers, and the derived defaults that must pass them.

Each ``*_error`` filter returns an empty string for a valid answer, or one message
that starts with the rule: Copier shows ``Validation error for question '<name>':
<message>`` on one line of the terminal and cuts it at the terminal's width, so the
part before the first ``;`` or `` (`` says what to type, and the detail follows.
``refuse_answer`` lets a question's ``when`` stop Copier with that same line when an
answer given with ``--data``/``--data-file`` is invalid (Copier's own check of such
answers ends in a traceback). Pure functions only: this module runs in every render.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from jinja2 import Environment
from jinja2.ext import Extension

try:  # Copier prints this error as one line and exits 1; tests import the module alone
    from copier.errors import UserMessageError
except ImportError:  # pragma: no cover - only outside Copier

    class UserMessageError(Exception):  # type: ignore[no-redef]
        """Stand-in when Copier is not installed."""


PROJECT_NAME_START = re.compile(r"[A-Za-z]")
PROJECT_NAME_CHAR = re.compile(r"[A-Za-z0-9 _-]")
PROJECT_SLUG = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")
SLUG_MIN, SLUG_MAX = 3, 24
SLUG_PAD = "llm"
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
DEPLOYMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ENV_NAME = re.compile(r"[a-z][a-z0-9]{1,7}")
BRANCH_PART = re.compile(r"[A-Za-z0-9._-]+")
BRANCH_MAX = 100
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
SECRET_KEYS = ("api_key", "key", "api_base", "endpoint", "password", "secret", "token")
LOCATION = re.compile(r"[a-z][a-z0-9]{2,30}")
RESOURCE_PREFIX = re.compile(r"[a-z][a-z0-9]{1,9}")
ADO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
MODEL_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
VM_SIZE = re.compile(r"Standard_[A-Za-z0-9_]+")
K8S_COMPUTE = re.compile(r"[A-Za-z][A-Za-z0-9-]{1,15}")
K8S_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,61}")
ENVIRONMENT_KEYS = ("name", "branch")


def refuse_answer(error: Any, question: str) -> bool:
    """``when`` helper: stop Copier with one clean line when a given answer is invalid.

    Copier validates answers from ``--data``/``--data-file`` by raising a bare
    ``ValueError`` (a 40-line traceback); a question's ``when`` runs just before
    that check and may raise Copier's ``UserMessageError``, which Copier prints as
    one line, writing nothing. Returns True (the question stays shown) otherwise.
    """
    if error:
        raise UserMessageError(f"Validation error for question '{question}': {error}")
    return True


def one_of_error(value: Any, choices: list[Any]) -> str:
    """Check a choice answer given as data (Copier checks prompted ones itself)."""
    value = _as_data(value)
    picked = value if isinstance(value, list) else [value]
    wrong = [item for item in picked if str(item) not in [str(c) for c in choices]]
    if wrong:
        return f"Use one of {', '.join(map(str, choices))} ('{wrong[0]}' is not one)."
    return ""


def slug_default(name: Any) -> str:
    """The default ``project_slug``: the name's words, cut to 24 characters at a word end.

    A first word longer than the limit is cut inside the word; a name too short for
    the 3-character minimum gets ``-llm`` appended, so the default always passes
    ``project_slug_error`` when the name passes ``project_name_error``.
    """
    words = re.findall(r"[a-z0-9]+", str(name or "").lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > SLUG_MAX:
            break
        slug = candidate
    if not slug and words:
        slug = words[0][:SLUG_MAX]
    if len(slug) < SLUG_MIN:
        slug = f"{slug}-{SLUG_PAD}" if slug else SLUG_PAD
    return slug


def project_name_error(value: Any) -> str:
    """Check the human-readable project name."""
    text = str(value or "").strip()
    if not text:
        return "Name the project (for example 'Contoso Support Bot')."
    if len(text) > 60:
        return f"Use at most 60 characters; '{text}' has {len(text)}."
    if not PROJECT_NAME_START.match(text):
        return f"Start with a letter ('{text}' does not)."
    wrong = next((char for char in text if not PROJECT_NAME_CHAR.fullmatch(char)), "")
    if wrong:
        return f"Use letters, digits, ' ', - or _ ('{wrong}' is not allowed in '{text}')."
    return ""


def project_slug_error(value: Any) -> str:
    """Check the slug that feeds package and Azure resource names."""
    text = str(value or "")
    if not SLUG_MIN <= len(text) <= SLUG_MAX:
        return (
            f"Use 3-24 characters; '{text}' has {len(text)} "
            "(it becomes part of Azure resource names)."
        )
    if not PROJECT_SLUG.fullmatch(text) or "--" in text:
        return (
            "Use a-z, 0-9 and single dashes; start with a letter, end with a letter "
            f"or digit ('{text}' does not fit)."
        )
    return ""


def branch_name_error(value: Any) -> str:
    """Check a git branch name (a trailing '/*' pattern is allowed, e.g. 'release/*')."""
    text = str(value or "")
    if len(text) > BRANCH_MAX:
        return f"Use at most {BRANCH_MAX} characters; the branch name has {len(text)}."
    parts = text.removesuffix("/*").split("/")
    if not text or not all(BRANCH_PART.fullmatch(part) for part in parts):
        return (
            f"Use A-Z a-z 0-9 . _ - /; '{text}' does not fit "
            "(a trailing '/*' matches a branch family)."
        )
    if ".." in text:
        return f"No '..' in a branch name ('{text}')."
    if any(part.startswith(".") for part in parts):
        return f"No part may start with '.' ('{text}')."
    if text.endswith((".", ".lock")):
        return f"No '.' or '.lock' at the end ('{text}')."
    return ""


def _as_data(value: Any) -> Any:
    """A YAML list or mapping given on the command line arrives as text: parse it.

    Plain text stays text ('3.10' must not become the number 3.1).
    """
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{", "-"):
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError:
            return value
    return value


def _list_of_mappings(value: Any, example: str) -> tuple[list[dict[str, Any]], str]:
    value = _as_data(value)
    if not isinstance(value, list) or not value:
        return [], f"Give a non-empty YAML list; for example {example}"
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            return [], f"Each item is a mapping (item {index} is not); for example {example}"
    return value, ""


def _unknown_keys(item: dict[str, Any], allowed: tuple[str, ...], where: str) -> str:
    unknown = sorted(set(item) - set(allowed))
    if unknown:
        return (
            f"Unknown key(s) {', '.join(unknown)} ({where}); allowed keys are {', '.join(allowed)}."
        )
    return ""


def _connection_error(index: int, item: dict[str, Any]) -> str:
    name = str(item.get("name", ""))
    if not IDENTIFIER.fullmatch(name):
        return (
            f"Name: a letter, then a-z 0-9 _ (connection {index}: '{name}'); it becomes "
            "the prompt flow connection name and the prefix of its environment variables."
        )
    where = f"connection '{name}'"
    secrets = sorted(key for key in item if str(key).lower() in SECRET_KEYS)
    if secrets:
        variable = name.upper()
        return (
            f"Secrets go in .env, not in answers ({where}: {', '.join(secrets)}); the answers "
            f"are committed in .copier-answers.yml, so secrets never go there: set "
            f"{variable}_API_KEY and {variable}_API_BASE in .env or as pipeline secrets."
        )
    unknown = _unknown_keys(item, CONNECTION_KEYS, where)
    if unknown:
        return unknown
    kind = item.get("type")
    if kind not in CONNECTION_TYPES:
        return f"Type: azure_openai or openai ({where}: type '{kind}' is unknown)."
    version = item.get("api_version")
    if kind == "azure_openai" and version is None:
        return f"azure_openai needs api_version ({where}); for example '2024-10-21'."
    if version is not None and not API_VERSION.fullmatch(str(version)):
        return (
            f"api_version: a date like 2024-10-21 ({where}: '{version}' is malformed); "
            "'-preview' may follow; quote it in YAML."
        )
    deployment = str(item.get("deployment", ""))
    if not DEPLOYMENT.fullmatch(deployment):
        return (
            f"Deployment: letters, digits, . _ - ({where}: '{deployment}' is not a model "
            "deployment name; 1-64 characters)."
        )
    return _model_error(where, kind, item)


def _model_error(where: str, kind: Any, item: dict[str, Any]) -> str:
    """The optional Terraform model settings of an azure_openai connection."""
    model_keys = [key for key in ("model", "model_version", "capacity") if key in item]
    if model_keys and kind != "azure_openai":
        return f"{', '.join(model_keys)}: azure_openai only ({where} is {kind})."
    if "model" in item and not DEPLOYMENT.fullmatch(str(item["model"])):
        return f"model: a name like gpt-4o-mini ({where}: '{item['model']}')."
    version = item.get("model_version")
    if version is not None and not MODEL_VERSION.fullmatch(str(version)):
        return f"model_version: like 2024-07-18 ({where}: '{version}')."
    capacity = item.get("capacity")
    if capacity is not None and (
        isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= 1000
    ):
        return (
            f"capacity: whole number 1-1000 ({where}: '{capacity}'; thousands of tokens "
            "per minute)."
        )
    return ""


def connections_error(value: Any) -> str:
    """Check the list of LLM connections."""
    example = "[{name: aoai, type: azure_openai, api_version: '2024-10-21', deployment: gpt-4o}]"
    items, error = _list_of_mappings(value, example)
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
                f"Names must differ ignoring case ('{item['name']}' repeats '{seen[key]}'); "
                "they become environment variable prefixes."
            )
        seen[key] = str(item["name"])
    return ""


def environments_error(value: Any, branch_development: str, branch_main: str) -> str:
    """Check the environment list and its branch mapping."""
    example = (
        f"[{{name: dev, branch: {branch_development}}}, {{name: prod, branch: {branch_main}}}]"
    )
    items, error = _list_of_mappings(value, example)
    if error:
        return error
    names: set[str] = set()
    branches: dict[str, str] = {}
    for index, item in enumerate(items, start=1):
        name = str(item.get("name", ""))
        if not ENV_NAME.fullmatch(name):
            return (
                f"Name: 2-8 a-z/0-9, letter first (environment {index}: '{name}'); "
                "it becomes part of Azure resource names."
            )
        unknown = _unknown_keys(item, ENVIRONMENT_KEYS, f"environment '{name}'")
        if unknown:
            return unknown
        if name in names:
            return f"Give each environment its own name ('{name}' appears twice)."
        names.add(name)
        branch = str(item.get("branch", ""))
        branch_error = branch_name_error(branch)
        if branch_error:
            return f"{branch_error.rstrip('.')} (environment '{name}')."
        if branch in branches:
            return (
                f"One environment per branch ('{branch}' deploys to both "
                f"'{branches[branch]}' and '{name}')."
            )
        branches[branch] = name
        if branch not in (branch_development, branch_main) and not branch.endswith("/*"):
            return (
                f"Use a known branch or a pattern (environment '{name}': '{branch}'); the "
                f"integration branch '{branch_development}', the release branch "
                f"'{branch_main}', or a pattern like 'release/*'."
            )
    return ""


def other_branch_error(value: Any, branch_development: Any) -> str:
    """The release branch must differ from the integration branch."""
    if str(value) == str(branch_development):
        return f"Use another branch ('{branch_development}' is the integration branch)."
    return ""


CRON_FIELD = re.compile(r"(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*")


def cron_error(value: Any) -> str:
    """Check a 5-field cron expression as Azure DevOps schedules accept it."""
    fields = str(value or "").split()
    if len(fields) != 5 or not all(CRON_FIELD.fullmatch(field) for field in fields):
        return (
            f"Use 5 fields: m h dom mon dow ('{value}' is not; for example '0 6 * * 1' "
            "is Mondays at 06:00 UTC)."
        )
    return ""


def azure_location_error(value: Any) -> str:
    """Check an Azure region name in its programmatic form."""
    text = str(value or "")
    if not LOCATION.fullmatch(text):
        return (
            f"Use a region id like westeurope ('{text}' does not fit: the programmatic "
            "name, lowercase, no spaces, such as eastus2)."
        )
    return ""


def resource_prefix_error(value: Any) -> str:
    """Check the stem every Azure resource name starts from."""
    text = str(value or "")
    if not RESOURCE_PREFIX.fullmatch(text):
        return (
            f"Use 2-10 a-z or 0-9; start with a letter ('{text}' does not fit; every "
            "resource name, such as a 24-character storage account, must still fit)."
        )
    return ""


def ado_name_error(value: Any) -> str:
    """Check an Azure DevOps service connection or variable group name prefix."""
    text = str(value or "")
    if not 1 <= len(text) <= 63:
        return f"1-63 characters; '{text}' has {len(text)}."
    if not ADO_NAME.fullmatch(text):
        if not text[0].isalnum():
            return f"Start with a letter or digit ('{text}' does not)."
        return f"Only A-Za-z0-9._- ('{text}' does not fit)."
    return ""


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def number_error(value: Any, low: int, high: int, unit: str) -> str:
    """Check a whole number in a range (answers given as data arrive as text)."""
    number = _whole_number(value)
    if number is None or not low <= number <= high:
        return f"Use {low}-{high} {unit} ('{value}' is not)."
    return ""


def vm_size_error(value: Any) -> str:
    """Check an Azure VM size name."""
    if not VM_SIZE.fullmatch(str(value or "")):
        return f"Use Standard_<size> (for example Standard_DS3_v2; '{value}' is not one)."
    return ""


def k8s_compute_name_error(value: Any) -> str:
    """Check the name of an Azure ML Kubernetes compute."""
    text = str(value or "")
    if not 2 <= len(text) <= 16:
        return f"Use 2-16 characters; '{text}' has {len(text)}."
    if not K8S_COMPUTE.fullmatch(text):
        return f"Use letters, digits, -; start with a letter ('{text}' does not fit)."
    return ""


def k8s_instance_type_error(value: Any) -> str:
    """Check a Kubernetes instance type name (a Kubernetes resource name)."""
    text = str(value or "")
    if not K8S_NAME.fullmatch(text):
        return (
            f"Use a-z, 0-9 and -; at most 62, not starting with - ('{text}' is not a "
            "Kubernetes resource name)."
        )
    return ""


def non_empty_error(value: Any, what: str) -> str:
    """A multiselect answer needs at least one choice."""
    if not _as_data(value):
        return f"Pick at least one {what} (space selects, enter confirms)."
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
        return "Name someone to notify; emails or [Project]\\Group names, comma-separated."
    for entry in entries:
        if not (EMAIL.fullmatch(entry) or ADO_GROUP.fullmatch(entry)):
            return (
                f"Use emails or [Project]\\Group ('{entry}' is neither; for example "
                "[MyProject]\\Release Approvers)."
            )
        if entry.lower().endswith(PLACEHOLDER_DOMAINS):
            return f"Use real approvers ('{entry}' is a placeholder)."
    return ""


class AnswerChecks(Extension):
    """Jinja filters that validate answers and derive defaults that pass them."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        for function in (
            refuse_answer,
            one_of_error,
            slug_default,
            project_name_error,
            project_slug_error,
            branch_name_error,
            other_branch_error,
            connections_error,
            environments_error,
            cron_error,
            azure_location_error,
            resource_prefix_error,
            ado_name_error,
            number_error,
            vm_size_error,
            k8s_compute_name_error,
            k8s_instance_type_error,
            non_empty_error,
            approval_notify_error,
        ):
            environment.filters[function.__name__] = function
