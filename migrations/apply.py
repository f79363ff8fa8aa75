"""Apply the template's version-gated migrations to a project being updated.

Copier runs this before it renders the new template version (see `_migrations`
in copier.yml), in the project directory, with VERSION_PEP440_FROM and
VERSION_PEP440_TO in the environment. Entries come from registry.yml next to
this file. Each operation is idempotent, so an interrupted update can be re-run.
Only the standard library and Copier's own dependencies (PyYAML, packaging) are used.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

ANSWERS_FILE = Path(".copier-answers.yml")
REGISTRY = Path(__file__).with_name("registry.yml")


class MigrationError(Exception):
    """A migration that cannot run; the message says which entry and why."""


def read_answers(project: Path) -> tuple[list[str], dict[str, Any]]:
    """The answers file's leading comment lines and its mapping."""
    text = (project / ANSWERS_FILE).read_text(encoding="utf-8")
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    return header, yaml.safe_load(text) or {}


def write_answers(project: Path, header: list[str], answers: dict[str, Any]) -> None:
    body = yaml.safe_dump(answers, sort_keys=False, allow_unicode=True)
    (project / ANSWERS_FILE).write_text("\n".join([*header, body]), encoding="utf-8")


def rename_answer(project: Path, spec: dict[str, str]) -> str:
    """Rename an answer key; a no-op when already renamed or never answered."""
    old, new = spec["from"], spec["to"]
    header, answers = read_answers(project)
    if old not in answers:
        return f"answer '{old}' not present: nothing to rename"
    if new in answers:
        return f"answer '{new}' already present: kept it, left '{old}' for Copier to drop"
    renamed = {(new if key == old else key): value for key, value in answers.items()}
    write_answers(project, header, renamed)
    return f"renamed answer '{old}' to '{new}'"


def move_path(project: Path, spec: dict[str, str]) -> str:
    """Move user content to its new place; a no-op when already moved."""
    source, target = project / spec["from"], project / spec["to"]
    if not source.exists():
        return f"{spec['from']} not present: nothing to move"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(target))
    return f"moved {spec['from']} to {spec['to']}"


OPERATIONS: dict[str, Callable[[Path, dict[str, str]], str]] = {
    "rename_answer": rename_answer,
    "move_path": move_path,
}


def parse_version(text: str, what: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion as error:
        raise MigrationError(f"{what} '{text}' is not a PEP 440 version") from error


def pending(entries: list[dict[str, Any]], old: Version, new: Version) -> list[dict[str, Any]]:
    """The entries whose version the update crosses, oldest first."""
    selected = []
    for index, entry in enumerate(entries, start=1):
        version = parse_version(
            str(entry.get("version", "")), f"registry.yml entry {index} version"
        )
        operations = [key for key in entry if key != "version"]
        if len(operations) != 1 or operations[0] not in OPERATIONS:
            raise MigrationError(
                f"registry.yml entry {index} needs exactly one of {', '.join(OPERATIONS)}; "
                f"found {', '.join(operations) or 'none'}"
            )
        if old < version <= new:
            selected.append({**entry, "_version": version})
    return sorted(selected, key=lambda entry: entry["_version"])


def run(project: Path, registry: Path, old: Version, new: Version) -> list[str]:
    """Apply every pending migration; return one line per operation."""
    entries = (yaml.safe_load(registry.read_text(encoding="utf-8")) or {}).get("migrations") or []
    selected = pending(entries, old, new)
    for entry in selected:  # refuse before changing anything, so a failure changes nothing
        spec = entry.get("move_path")
        if spec and (project / spec["from"]).exists() and (project / spec["to"]).exists():
            raise MigrationError(
                f"cannot move {spec['from']} to {spec['to']}: both exist; merge them by hand, "
                "delete one, commit, and run the update again"
            )
    log = []
    for entry in selected:
        name = next(key for key in entry if key in OPERATIONS)
        log.append(f"{entry['version']}: {OPERATIONS[name](project, entry[name])}")
    return log


def main() -> int:
    try:
        old = parse_version(os.environ.get("VERSION_PEP440_FROM", ""), "VERSION_PEP440_FROM")
        new = parse_version(os.environ.get("VERSION_PEP440_TO", ""), "VERSION_PEP440_TO")
        for line in run(Path.cwd(), REGISTRY, old, new):
            print(f"migration {line}", file=sys.stderr)
    except (MigrationError, KeyError, OSError, yaml.YAMLError) as error:
        print(f"template migration failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
