"""The generated project's scheduled update script proposes a new version on a branch."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import commit_all, copy_template_source, generate, git, load_answers

SCRIPT = "scripts/template-update.sh"


def tagged_template(tmp_path: Path, gitignore_line: str) -> Path:
    source = copy_template_source(tmp_path / "template-src")
    commit_all(source, "v1.0.0", tag="v1.0.0")
    gitignore = source / "template/.gitignore"
    gitignore.write_text(gitignore.read_text().replace(".env\n", f".env\n{gitignore_line}\n", 1))
    commit_all(source, "v1.1.0", tag="v1.1.0")
    return source


def run_script(project: Path, tools_bin: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{tools_bin}{os.pathsep}{os.environ['PATH']}"}
    env.pop("TF_BUILD", None)
    return subprocess.run(
        ["bash", SCRIPT, "--base", "main"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_update_lands_on_a_branch_and_main_is_untouched(tmp_path: Path, tools_bin: Path) -> None:
    template = tagged_template(tmp_path, "*.log")
    project = generate(template, tmp_path / "project", "v1.0.0")
    main_head = git(project, "rev-parse", "main")

    result = run_script(project, tools_bin)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "template-update/1.1.0" in result.stdout
    assert git(project, "rev-parse", "--abbrev-ref", "HEAD").strip() == "template-update/1.1.0"
    assert load_answers(project)["_commit"] == "v1.1.0"
    assert "*.log" in (project / ".gitignore").read_text()
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "rev-parse", "main") == main_head

    git(project, "switch", "-q", "main")
    again = run_script(project, tools_bin)
    assert again.returncode == 0
    assert "already exists" in again.stdout


def test_conflicts_are_committed_and_listed(tmp_path: Path, tools_bin: Path) -> None:
    template = tagged_template(tmp_path, "*.log")
    project = generate(template, tmp_path / "project", "v1.0.0")
    gitignore = project / ".gitignore"
    gitignore.write_text(gitignore.read_text().replace(".env\n", ".env\n*.tmp\n", 1))
    commit_all(project, "a local edit on the same line")

    result = run_script(project, tools_bin)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Files with conflict markers to resolve: .gitignore" in result.stdout
    assert "<<<<<<< before updating" in gitignore.read_text()


def test_up_to_date_project_is_left_alone(tmp_path: Path, tools_bin: Path) -> None:
    template = tagged_template(tmp_path, "*.log")
    project = generate(template, tmp_path / "project", "v1.1.0")
    result = run_script(project, tools_bin)
    assert result.returncode == 0, result.stderr
    assert "Already on the latest template version." in result.stdout
    assert git(project, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


def test_dirty_project_is_refused(tmp_path: Path, tools_bin: Path) -> None:
    template = tagged_template(tmp_path, "*.log")
    project = generate(template, tmp_path / "project", "v1.0.0")
    (project / "scratch.txt").write_text("wip\n")
    result = run_script(project, tools_bin)
    assert result.returncode == 1
    assert "not clean" in result.stderr
