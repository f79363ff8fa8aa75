"""Owner classes are enforced: copier.yml, ownership.yml, the docs and the files agree."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml

from conftest import REPO_ROOT

MARKER = "Managed by the LLMOps template"
# Formats without comments, and files whose first line is fixed by their format.
NO_MARKER_SUFFIXES = {".json", ".jsonl", ".jinja2", ".txt"}
NO_MARKER_NAMES = {".copier-answers.yml", "__init__.py", "__main__.py"}
# Sample use cases shipped as package data for `llmops new-flow`: they become user content.
NO_MARKER_FOLDERS = ("llmops/samples/",)


def ownership() -> dict[str, list[str]]:
    return yaml.safe_load((REPO_ROOT / "ownership.yml").read_text())


def test_scaffold_once_paths_are_excluded_on_update() -> None:
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    excludes = config["_exclude"]
    for pattern in ownership()["scaffold_once"]:
        expected = f"{{% if _copier_operation == 'update' %}}/{pattern}{{% endif %}}"
        assert expected in excludes, f"{pattern} is scaffold-once but copier.yml updates it"


def test_user_config_paths_are_skipped_if_they_exist() -> None:
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    skipped = config.get("_skip_if_exists", [])
    for pattern in ownership()["user_config"]:
        assert pattern in skipped, f"{pattern} is user config but updates would overwrite it"


def test_docs_name_every_owner_pattern() -> None:
    page = (REPO_ROOT / "docs/ownership.md").read_text()
    for patterns in ownership().values():
        for pattern in patterns:
            assert f"`{pattern}" in page, f"docs/ownership.md does not mention {pattern}"


def owned_by(relative: str, pattern: str) -> bool:
    """Folder patterns end with '/'; others are globs (as in ownership.yml)."""
    return relative.startswith(pattern) if pattern.endswith("/") else fnmatch(relative, pattern)


@pytest.fixture(scope="module")
def default_project(copie_session) -> Path:
    result = copie_session.copy(extra_answers={"project_name": "Contoso NER"})
    assert result.exit_code == 0, result.exception
    return Path(result.project_dir)


def test_template_owned_files_say_so_on_top(default_project: Path) -> None:
    classes = ownership()
    user_owned = classes["scaffold_once"] + classes["user_config"]
    unmarked = []
    for path in sorted(default_project.rglob("*")):
        relative = path.relative_to(default_project).as_posix()
        if not path.is_file() or any(owned_by(relative, p) for p in user_owned):
            continue
        if relative.startswith(NO_MARKER_FOLDERS):
            continue
        if path.suffix in NO_MARKER_SUFFIXES or path.name in NO_MARKER_NAMES:
            continue
        head = "\n".join(path.read_text().splitlines()[:3])
        if MARKER not in head:
            unmarked.append(relative)
    assert not unmarked, f"template-owned files without the '{MARKER}' line: {unmarked}"
