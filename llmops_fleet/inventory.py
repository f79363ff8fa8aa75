"""Which projects to look at: checkout folders given directly or listed in a YAML file.

The list file holds local paths only (`projects: [{path: ...}]`); a pipeline
clones the repositories first. Relative paths are relative to the list file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from llmops_fleet.errors import FleetError
from llmops_fleet.ownership import ANSWERS_FILE

LIST_SUFFIXES = (".yml", ".yaml")


def resolve_projects(inputs: Iterable[str]) -> list[Path]:
    """Expand command-line inputs into project folders, in order, without duplicates."""
    projects: list[Path] = []
    for raw in inputs:
        path = Path(raw).expanduser()
        if path.is_file() and path.suffix in LIST_SUFFIXES:
            projects.extend(read_project_list(path))
        elif path.is_dir():
            projects.append(path.resolve())
        else:
            raise FleetError(f"{raw}: not a project folder or a .yml project list")
    unique = list(dict.fromkeys(projects))
    if not unique:
        raise FleetError("no projects given")
    return unique


def read_project_list(list_file: Path) -> list[Path]:
    """Read `projects: [{path: ...}, ...]`; errors name the entry at fault."""
    try:
        data: Any = yaml.safe_load(list_file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise FleetError(f"{list_file}: not valid YAML ({error})") from error
    entries = data.get("projects") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise FleetError(f"{list_file}: expected a top-level 'projects:' list")
    projects = []
    for index, entry in enumerate(entries):
        where = f"{list_file}: projects[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise FleetError(f"{where}: expected a mapping with a 'path:' string")
        unknown = sorted(set(entry) - {"path"})
        if unknown:
            raise FleetError(f"{where}: unknown key {unknown[0]!r} (only 'path' is read)")
        path = (list_file.parent / Path(entry["path"]).expanduser()).resolve()
        if not path.is_dir():
            raise FleetError(f"{where}.path: {entry['path']} is not a folder (clone it first)")
        projects.append(path)
    return projects


def load_answers(project: Path) -> dict[str, Any]:
    """The project's `.copier-answers.yml`; raises ValueError when absent or unusable."""
    file = project / ANSWERS_FILE
    if not file.is_file():
        raise ValueError(f"no {ANSWERS_FILE} (not generated from a Copier template)")
    try:
        answers = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{ANSWERS_FILE} is not valid YAML") from error
    if not isinstance(answers, dict):
        raise ValueError(f"{ANSWERS_FILE} is not a mapping")
    for key in ("_src_path", "_commit"):
        if not answers.get(key):
            raise ValueError(f"{ANSWERS_FILE} has no {key}")
    answers["_commit"] = str(answers["_commit"])
    answers["_src_path"] = str(answers["_src_path"])
    return answers
