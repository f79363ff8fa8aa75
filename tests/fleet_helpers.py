"""Helpers for the fleet tool tests: tagged throwaway templates and `fleet` runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import commit_all, copy_template_source, git
from llmops_fleet.cli import main

GITIGNORE = "template/.gitignore"
USE_CASE_PROMPT = "use_cases/named_entity_recognition/flows/standard/extract_entities.jinja2"


def tagged_template(destination: Path, releases: int) -> Path:
    """This repository's template tagged v1.0.0, then v1.1.0, v1.2.0… (one .gitignore line each)."""
    source = copy_template_source(destination)
    commit_all(source, "v1.0.0", tag="v1.0.0")
    for minor in range(1, releases):
        append_line(source / GITIGNORE, f"*.release{minor}")
        commit_all(source, f"v1.{minor}.0", tag=f"v1.{minor}.0")
    return source


def append_line(file: Path, line: str) -> None:
    """Add a line at the end of a text file."""
    file.write_text(file.read_text() + line + "\n")


def snapshot(project: Path) -> dict[str, Any]:
    """Everything a failed update must leave alone: HEAD, branch, branches, status, files."""
    files = {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }
    return {
        "head": git(project, "rev-parse", "HEAD"),
        "branch": git(project, "branch", "--show-current"),
        "branches": git(project, "branch", "--list"),
        "status": git(project, "status", "--porcelain"),
        "files": files,
    }


def run_fleet(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the `fleet` CLI in this process; return exit code, stdout and stderr.

    One worker (in this process) unless the test asks for more: spawning worker
    processes costs a couple of seconds per run.
    """
    capsys.readouterr()
    workers = [] if "--workers" in args else ["--workers", "1"]
    code = main([*args, *workers, "--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_fleet_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, dict[str, Any]]:
    """Run a `fleet` command with `--format json`; return its projects keyed by folder name."""
    code, out, err = run_fleet(capsys, *args, "--format", "json")
    assert code in (0, 1), err
    return {project["name"]: project for project in json.loads(out)["projects"]}
