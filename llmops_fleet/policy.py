"""The platform team's fleet policy: a small declarative YAML file, validated strictly.

min_template_version: "1.2.0"
max_versions_behind: 2
required_answers: {ci_platform: azure_devops}
allowed_answers: {python_version: ["3.11", "3.12"]}
forbid_drift: true
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from llmops_fleet.errors import FleetError
from llmops_fleet.versions import parse_version

KEYS = (
    "min_template_version",
    "max_versions_behind",
    "required_answers",
    "allowed_answers",
    "forbid_drift",
)


@dataclass(frozen=True)
class Violation:
    """One broken rule: `rule` is the policy key (plus answer name), `message` says why."""

    rule: str
    message: str


@dataclass(frozen=True)
class Policy:
    """A parsed policy; every rule is optional."""

    min_template_version: str | None = None
    max_versions_behind: int | None = None
    required_answers: dict[str, Any] = field(default_factory=dict)
    allowed_answers: dict[str, list[Any]] = field(default_factory=dict)
    forbid_drift: bool = False


def load_policy(path: Path) -> Policy:
    """Read and validate a policy file; a FleetError names the file and the key."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FleetError(f"{path}: cannot read policy ({error.strerror})") from error
    except yaml.YAMLError as error:
        raise FleetError(f"{path}: not valid YAML ({error})") from error
    try:
        return parse_policy(data)
    except FleetError as error:
        raise FleetError(f"{path}: {error}") from error


def parse_policy(data: Any) -> Policy:
    """Validate a policy mapping; errors start with the offending key."""
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise FleetError("a policy is a mapping of rule names to values")
    for key in data:
        if key not in KEYS:
            raise FleetError(f"{key}: unknown policy key (known: {', '.join(KEYS)})")
    minimum = data.get("min_template_version")
    if minimum is not None and (not isinstance(minimum, str) or parse_version(minimum) is None):
        raise FleetError(
            f'min_template_version: {minimum!r} is not a version; write it quoted, e.g. "1.2.0"'
        )
    behind = data.get("max_versions_behind")
    if behind is not None and (type(behind) is not int or behind < 0):
        raise FleetError(f"max_versions_behind: {behind!r} is not a whole number >= 0")
    forbid = data.get("forbid_drift", False)
    if not isinstance(forbid, bool):
        raise FleetError(f"forbid_drift: {forbid!r} is not true or false")
    return Policy(
        min_template_version=minimum,
        max_versions_behind=behind,
        required_answers=_answer_map(data, "required_answers", lambda value: [value]),
        allowed_answers=_answer_map(data, "allowed_answers", _allowed_list),
        forbid_drift=forbid,
    )


def _allowed_list(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise FleetError("expected a non-empty list of allowed values")
    return value


def _answer_map(
    data: dict[str, Any], key: str, values: Callable[[Any], list[Any]]
) -> dict[str, Any]:
    mapping = data.get(key) or {}
    if not isinstance(mapping, dict):
        raise FleetError(f"{key}: expected a mapping of question name to value")
    for name, value in mapping.items():
        where = f"{key}.{name}"
        if not isinstance(name, str) or name.startswith("_"):
            raise FleetError(f"{where}: not a question name")
        try:
            checked = values(value)
        except FleetError as error:
            raise FleetError(f"{where}: {error}") from error
        for item in checked:
            if isinstance(item, float):
                raise FleetError(
                    f"{where}: {item!r} is a number; quote it (YAML reads 3.10 as 3.1)"
                )
    return mapping


def evaluate(
    policy: Policy,
    answers: dict[str, Any],
    behind: int | None,
    has_drift: bool,
) -> list[Violation]:
    """Every rule the project breaks, in the order the policy lists them."""
    found: list[Violation] = []
    recorded = answers.get("_commit")
    if policy.min_template_version is not None:
        minimum = parse_version(policy.min_template_version)
        current = parse_version(recorded)
        assert minimum is not None  # validated by parse_policy
        if current is None:
            message = f"template version {recorded!r} is not a release version"
            found.append(Violation("min_template_version", message))
        elif current < minimum:
            message = f"template {recorded} is older than {policy.min_template_version}"
            found.append(Violation("min_template_version", message))
    if policy.max_versions_behind is not None and (
        behind is None or behind > policy.max_versions_behind
    ):
        count = "an unknown number of" if behind is None else str(behind)
        message = f"{count} versions behind (at most {policy.max_versions_behind})"
        found.append(Violation("max_versions_behind", message))
    for name, required in policy.required_answers.items():
        if answers.get(name) != required:
            message = f"{name} is {_show(answers, name)}, must be {required!r}"
            found.append(Violation(f"required_answers.{name}", message))
    for name, allowed in policy.allowed_answers.items():
        if not _is_allowed(answers.get(name, _MISSING), allowed):
            message = f"{name} is {_show(answers, name)}, allowed: {', '.join(map(str, allowed))}"
            found.append(Violation(f"allowed_answers.{name}", message))
    if policy.forbid_drift and has_drift:
        found.append(Violation("forbid_drift", "template-owned files differ from the template"))
    return found


_MISSING = object()


def _is_allowed(value: Any, allowed: list[Any]) -> bool:
    """A multi-select answer passes when every chosen item is allowed."""
    if value is _MISSING:
        return False
    if isinstance(value, list) and not any(isinstance(item, list) for item in allowed):
        return all(item in allowed for item in value)
    return value in allowed


def _show(answers: dict[str, Any], name: str) -> str:
    return repr(answers[name]) if name in answers else "not answered"
