"""`fleet update`: outcomes, branches, rollback, and the same result with parallel workers."""

from __future__ import annotations

from pathlib import Path

import pytest
from fleet_helpers import (
    GITIGNORE,
    append_line,
    run_fleet,
    run_fleet_json,
    snapshot,
    tagged_template,
)

from conftest import commit_all, copy_template_source, generate, git, load_answers
from llmops_fleet import update as update_module
from llmops_fleet.update import UpdateJob, update_project

BRANCH = "template-update/v1.1.0"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Template v1.0.0 → v1.1.0 (adds `*.release1` to .gitignore) and four projects.

    current: at v1.1.0. behind: at v1.0.0, clean. conflict: its own last line in
    .gitignore where the template adds one. dirty: an uncommitted edit and an
    untracked file.
    """
    root = tmp_path_factory.mktemp("fleet-update")
    template = tagged_template(root / "template", releases=2)
    projects = {
        "current": generate(template, root / "current", "v1.1.0"),
        "behind": generate(template, root / "behind", "v1.0.0"),
        "conflict": generate(template, root / "conflict", "v1.0.0"),
        "dirty": generate(template, root / "dirty", "v1.0.0"),
    }
    append_line(projects["conflict"] / ".gitignore", "*.mine")
    commit_all(projects["conflict"], "our own ignore line")
    append_line(projects["dirty"] / "README.md", "work in progress")
    (projects["dirty"] / "scratch.txt").write_text("untracked\n")
    return projects


def _run(capsys: pytest.CaptureFixture[str], projects: dict[str, Path], workers: str) -> dict:
    paths = [str(path) for path in projects.values()]
    return run_fleet_json(capsys, "update", "--workers", workers, *paths)


def test_outcomes_branches_and_untouched_originals(
    fleet: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = {name: snapshot(path) for name, path in fleet.items()}

    results = _run(capsys, fleet, workers="1")

    assert {name: r["outcome"] for name, r in results.items()} == {
        "current": "current",
        "behind": "updated",
        "conflict": "conflicts",
        "dirty": "failed",
    }
    assert "uncommitted changes" in results["dirty"]["reason"]
    assert results["conflict"]["conflicts"] == [".gitignore"]
    for name in ("behind", "conflict"):
        assert results[name]["branch"] == BRANCH
        assert results[name]["commit"] == git(fleet[name], "rev-parse", BRANCH).strip()
    for name, project in fleet.items():
        after = snapshot(project)
        after.pop("branches"), before[name].pop("branches")
        assert after == before[name], f"{name}: the checked-out branch or its files changed"

    updated = git(fleet["behind"], "show", f"{BRANCH}:.gitignore")
    assert "*.release1" in updated and "<<<<<<<" not in updated
    assert "_commit: v1.1.0" in git(fleet["behind"], "show", f"{BRANCH}:.copier-answers.yml")
    merged = git(fleet["conflict"], "show", f"{BRANCH}:.gitignore")
    assert "<<<<<<< before updating" in merged and "*.mine" in merged and "*.release1" in merged
    assert git(fleet["current"], "branch", "--list", "template-update/*") == ""


def test_two_workers_give_the_same_outcomes(
    fleet: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    for project in fleet.values():
        if git(project, "branch", "--list", BRANCH):
            git(project, "branch", "-D", BRANCH)

    results = _run(capsys, fleet, workers="2")

    assert {name: (r["outcome"], r["branch"], r["conflicts"]) for name, r in results.items()} == {
        "current": ("current", None, []),
        "behind": ("updated", BRANCH, []),
        "conflict": ("conflicts", BRANCH, [".gitignore"]),
        "dirty": ("failed", None, []),
    }
    assert "*.release1" in git(fleet["behind"], "show", f"{BRANCH}:.gitignore")


def test_pending_update_branch_is_not_overwritten(
    fleet: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    project = fleet["behind"]
    if not git(project, "branch", "--list", BRANCH):
        git(project, "branch", BRANCH)
    pending = git(project, "rev-parse", BRANCH)

    code, out, _ = run_fleet(capsys, "update", "--format", "json", str(project))

    assert code == 1 and "already exists" in out
    assert git(project, "rev-parse", BRANCH) == pending


def test_copier_failure_mid_render_rolls_back_everything(tmp_path: Path) -> None:
    """v2.0.0 adds a file that cannot render; Copier has already overwritten others by then."""
    template = copy_template_source(tmp_path / "template")
    commit_all(template, "v1", tag="v1.0.0")
    append_line(template / GITIGNORE, "*.v2")
    (template / "template/zz-broken.txt.jinja").write_text("{{ no_such_answer }}\n")
    commit_all(template, "v2", tag="v2.0.0")
    project = generate(template, tmp_path / "project", "v1.0.0")
    git(project, "switch", "--quiet", "-c", "feature")
    before = snapshot(project)

    result = update_project(UpdateJob(project, recorded="v1.0.0", target="v2.0.0"))

    assert (result.outcome, result.branch) == ("failed", None)
    assert "'no_such_answer' is undefined" in (result.reason or "")
    assert "ROLLBACK INCOMPLETE" not in (result.reason or "")
    assert snapshot(project) == before
    assert load_answers(project)["_commit"] == "v1.0.0"


def test_exception_after_partial_changes_restores_branch_head_and_files(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever the update did to tracked, staged and new files is undone."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "kept.txt").write_text("original\n")
    (project / ".gitignore").write_text(".venv/\n")
    commit_all(project, "start")
    (project / ".venv").mkdir()
    (project / ".venv/keep-me").write_text("ignored files are never touched\n")
    before = snapshot(project)

    def half_done_update(path: Path, target: str) -> None:
        (path / "kept.txt").write_text("overwritten\n")
        (path / "new.txt").write_text("created\n")
        (path / "new-dir").mkdir()
        (path / "new-dir/deep.txt").write_text("created\n")
        git(path, "add", "new.txt")
        raise RuntimeError("boom")

    monkeypatch.setattr(update_module, "run_copier_update", half_done_update)
    result = update_project(UpdateJob(project, recorded="v1.0.0", target="v1.1.0"))

    assert (result.outcome, result.reason, result.branch) == ("failed", "RuntimeError: boom", None)
    assert snapshot(project) == before
    assert (project / ".venv/keep-me").exists()


def test_update_branch_already_pushed_is_reported_not_duplicated(tmp_path: Path) -> None:
    """A fresh clone in a pipeline sees last week's pushed branch as origin/template-update/…."""
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    (upstream / "README.md").write_text("hello\n")
    commit_all(upstream, "start")
    git(upstream, "branch", BRANCH)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(upstream), str(clone))

    result = update_project(UpdateJob(clone, recorded="v1.0.0", target="v1.1.0"))

    assert result.outcome == "failed"
    assert result.reason == f"origin/{BRANCH} already exists (an earlier update is pending)"
    assert git(clone, "branch", "--list") == "* main\n"
