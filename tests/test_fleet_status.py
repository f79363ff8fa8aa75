"""`fleet status` and `fleet check` on projects generated from a throwaway tagged template."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fleet_helpers import USE_CASE_PROMPT, append_line, run_fleet, run_fleet_json, tagged_template

from conftest import commit_all, generate


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """v1.0.0, v1.1.0, v1.2.0 of the template; projects at v1.2.0 (current) and v1.0.0 (old).

    The old one answers python_version 3.10. Tests must not modify these projects.
    """
    root = tmp_path_factory.mktemp("fleet-status")
    template = tagged_template(root / "template", releases=3)
    return {
        "template": template,
        "current": generate(template, root / "current", "v1.2.0"),
        "old": generate(template, root / "old", "v1.0.0", python_version="3.10"),
    }


def test_status_reports_version_lag_and_clean_trees(
    fleet: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    projects = run_fleet_json(
        capsys, "status", "--workers", "2", str(fleet["current"]), str(fleet["old"])
    )

    current, old = projects["current"], projects["old"]
    assert (current["recorded_version"], current["latest_version"]) == ("v1.2.0", "v1.2.0")
    assert current["versions_behind"] == 0
    assert (old["recorded_version"], old["latest_version"]) == ("v1.0.0", "v1.2.0")
    assert old["versions_behind"] == 2
    for project in (current, old):
        assert project["template"] == str(fleet["template"])
        assert project["dirty"] is False
        assert project["drift"] == {"modified": [], "missing": []}, "a fresh project drifts"
        assert project["violations"] == [] and project["error"] is None


def test_drift_catches_edited_and_deleted_template_files_but_not_use_cases(
    fleet: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = generate(fleet["template"], tmp_path / "edited", "v1.0.0")
    append_line(project / "README.md", "Our own note.")
    (project / "Makefile").unlink()
    append_line(project / USE_CASE_PROMPT, "Prefer full names.")
    (project / "notes.md").write_text("a file the template does not know\n")
    commit_all(project, "local edits")

    status = run_fleet_json(capsys, "status", str(project))["edited"]
    assert status["drift"] == {"modified": ["README.md"], "missing": ["Makefile"]}
    assert status["dirty"] is False

    append_line(project / "notes.md", "uncommitted")
    assert run_fleet_json(capsys, "status", str(project))["edited"]["dirty"] is True


def test_policy_violations_are_reported_per_project(
    fleet: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(
        'min_template_version: "1.1.0"\n'
        'allowed_answers:\n  python_version: ["3.11", "3.12"]\n'
        "required_answers:\n  ci_platform: azure_devops\n"
    )
    projects = run_fleet_json(
        capsys, "status", "--policy", str(policy), str(fleet["current"]), str(fleet["old"])
    )

    assert projects["current"]["violations"] == []
    rules = {v["rule"]: v["message"] for v in projects["old"]["violations"]}
    assert set(rules) == {"min_template_version", "allowed_answers.python_version"}
    assert "'3.10'" in rules["allowed_answers.python_version"]
    assert "older than 1.1.0" in rules["min_template_version"]


def test_bad_policy_file_stops_with_the_key_named(
    fleet: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("max_versions_behind: two\n")
    code, out, err = run_fleet(capsys, "check", "--policy", str(policy), str(fleet["current"]))
    assert code == 2
    assert "policy.yml: max_versions_behind: 'two' is not a whole number" in err
    assert out == ""


def test_check_fails_only_projects_past_the_limit(
    fleet: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = tmp_path / "fleet.yml"
    listing.write_text(f"projects:\n  - path: {fleet['current']}\n  - path: {fleet['old']}\n")

    code, out, _ = run_fleet(capsys, "check", "--max-behind", "1", str(listing))
    assert code == 1
    lines = out.splitlines()
    assert lines == [
        f"FAIL {fleet['old']}: 2 versions behind v1.2.0 (max 1)",
        "fleet check: 1 of 2 projects fail",
    ]

    code, out, _ = run_fleet(capsys, "check", "--max-behind", "2", str(listing))
    assert (code, out.strip()) == (0, "fleet check: all 2 projects pass")


def test_check_fails_on_drift_and_policy(
    fleet: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = generate(fleet["template"], tmp_path / "drifted", "v1.2.0")
    (project / "pytest.ini").unlink()
    commit_all(project, "drop pytest.ini")
    policy = tmp_path / "policy.yml"
    policy.write_text("allowed_answers:\n  python_version: ['3.12']\n")

    code, out, _ = run_fleet(capsys, "check", "--policy", str(policy), str(project))
    assert code == 1
    line = out.splitlines()[0]
    assert line.startswith(f"FAIL {project}: drift: missing pytest.ini; ")
    assert "policy allowed_answers.python_version: python_version is '3.11'" in line


def test_html_report_is_one_self_contained_page(
    fleet: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "fleet.html"
    code, out, _ = run_fleet(
        capsys, "status", "--html", str(report), str(fleet["current"]), str(fleet["old"])
    )
    assert code == 0
    assert "old" in out and "v1.2.0" in out, "the table still goes to stdout"
    html = report.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert "<td>v1.0.0</td>" in html and "<td>v1.2.0</td>" in html
    assert str(fleet["old"]) in html
    external = re.findall(r"<script|<link|<img|<iframe|\bsrc=|\bhref=|@import|url\(", html)
    assert external == [], "the report must open offline, without other files"


def test_folder_without_answers_is_reported_not_fatal(
    fleet: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    projects = run_fleet_json(capsys, "status", str(stranger), str(fleet["current"]))
    assert "no .copier-answers.yml" in projects["stranger"]["error"]
    assert projects["current"]["error"] is None
