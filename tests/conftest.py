"""Shared fixtures: Copier and git isolated from the machine, and render helpers."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import copier
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ANSWERS: dict[str, Any] = {"project_name": "Contoso NER"}
# What a template release consists of.
TEMPLATE_FOLDERS = ("extensions", "migrations", "template")
TEMPLATE_FILES = ("copier.yml", "ownership.yml")


@pytest.fixture(scope="session", autouse=True)
def isolated_copier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the user's Copier settings, cache and git identity out of every test."""
    home = tmp_path_factory.mktemp("isolation")
    settings = home / "copier-settings.yml"
    settings.write_text("{}\n")  # an empty file crashes Copier; '{}' is an empty mapping
    gitconfig = home / "gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Template Tests\n\temail = tests@example.invalid\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    patch = pytest.MonkeyPatch()
    patch.setenv("COPIER_SETTINGS_PATH", str(settings))
    patch.setenv("COPIER_CACHE_DIR", str(home / "copier-cache"))
    patch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ):
        patch.delenv(name, raising=False)
    yield
    patch.undo()


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return its stdout; fail the test on error."""
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"git {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


def commit_all(path: Path, message: str, tag: str | None = None) -> None:
    """Stage everything in ``path``, commit it, and optionally tag the commit."""
    if not (path / ".git").exists():
        git(path, "init", "--quiet")
    git(path, "add", "-A")
    git(path, "commit", "--quiet", "--allow-empty", "-m", message)
    if tag:
        git(path, "tag", "-a", tag, "-m", tag)


def copy_template_source(dest: Path) -> Path:
    """Copy this repository's template (copier.yml and its folders) to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATE_FILES:
        shutil.copy2(REPO_ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ruff_cache")
    for folder in TEMPLATE_FOLDERS:
        shutil.copytree(REPO_ROOT / folder, dest / folder, ignore=ignore)
    return dest


def generate(template: Path, destination: Path, ref: str, **answers: Any) -> Path:
    """Copy ``template`` at ``ref`` into ``destination`` and commit it, like a new user."""
    copier.run_copy(
        str(template),
        destination,
        data={**DEFAULT_ANSWERS, **answers},
        vcs_ref=ref,
        defaults=True,
        unsafe=True,
        quiet=True,
    )
    commit_all(destination, f"generated at {ref}")
    return destination


def update(project: Path, **data: Any) -> None:
    """`copier update --trust --defaults` to the latest tag, with optional new answers."""
    copier.run_update(
        project,
        data=data or None,
        defaults=True,
        overwrite=True,
        unsafe=True,
        quiet=True,
        skip_tasks=True,
    )


def load_extension(stem: str) -> ModuleType:
    """Import an extensions/*.py file the way Copier's loader does: by path."""
    path = REPO_ROOT / "extensions" / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(f"template_ext_{stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


def load_answers(project: Path) -> dict[str, Any]:
    """The answers file Copier wrote into a generated project."""
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


@pytest.fixture(scope="session")
def tools_bin() -> Path:
    """The bin directory of the Python running the tests (check-jsonschema, mkdocs, copier)."""
    return Path(sys.executable).parent


@pytest.fixture(scope="session")
def ado_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Azure Pipelines schema of an organisation with the Terraform extension."""
    from ado_schema import write_org_schema

    return write_org_schema(tmp_path_factory.mktemp("ado-schema") / "azure-pipelines.json")
