"""Owner classes of generated paths, read from the template's `ownership.yml`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml
from pathspec import GitIgnoreSpec

from llmops_fleet.errors import FleetError

ANSWERS_FILE = ".copier-answers.yml"
TEMPLATE_OWNED = "template_owned"
# Classes whose files a project may legitimately change; drift ignores them.
USER_CLASSES = ("scaffold_once", "user_config", "copier_owned")


@dataclass(frozen=True)
class Ownership:
    """Gitignore-style patterns per owner class; the first matching class wins."""

    patterns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def owner(self, path: str) -> str:
        """The owner class of a project-relative POSIX path."""
        if path == ANSWERS_FILE:
            return "copier_owned"  # whatever the file says: Copier writes it
        for name in USER_CLASSES:
            lines = self.patterns.get(name, ())
            if lines and _spec(lines).match_file(path):
                return name
        return TEMPLATE_OWNED

    def is_template_owned(self, path: str) -> bool:
        """True when the template alone decides this file's content."""
        return self.owner(path) == TEMPLATE_OWNED


@lru_cache(maxsize=64)
def _spec(lines: tuple[str, ...]) -> GitIgnoreSpec:
    return GitIgnoreSpec.from_lines(lines)


def parse_ownership(text: str, origin: str = "ownership.yml") -> Ownership:
    """Validate and load ownership.yml; errors name the offending key."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise FleetError(f"{origin}: not valid YAML ({error})") from error
    data = data or {}
    if not isinstance(data, dict):
        raise FleetError(f"{origin}: expected a mapping of owner class to path patterns")
    patterns: dict[str, tuple[str, ...]] = {}
    for key, value in data.items():
        if key not in USER_CLASSES:
            known = ", ".join(USER_CLASSES)
            raise FleetError(f"{origin}: unknown owner class {key!r} (known: {known})")
        value = value or []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise FleetError(f"{origin}: {key} must be a list of path patterns")
        patterns[key] = tuple(value)
    return Ownership(patterns)
