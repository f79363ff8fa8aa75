"""Fleet tool building blocks on literal inputs: drift, versions, ownership, policy."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import REPO_ROOT
from llmops_fleet.drift import find_drift
from llmops_fleet.errors import FleetError
from llmops_fleet.ownership import parse_ownership
from llmops_fleet.policy import evaluate, parse_policy
from llmops_fleet.versions import parse_version, release_tags, versions_behind

OWNERSHIP = parse_ownership((REPO_ROOT / "ownership.yml").read_text())
RENDERED = {
    ".copier-answers.yml": b"_commit: v1.0.0\n",
    ".gitignore": b".env\n",
    "Makefile": b"all:\n",
    "llmops/cli.py": b"print('hi')\n",
    "use_cases/ner/prompt.jinja2": b"You extract entities.\n",
}


def test_drift_finds_edited_and_deleted_template_owned_files() -> None:
    project = {
        ".copier-answers.yml": b"_commit: v1.0.0\n_src_path: elsewhere\n",
        ".gitignore": b".env\nnotes/\n",
        "llmops/cli.py": b"print('hi')\n",
        "use_cases/ner/prompt.jinja2": b"You carefully extract entities.\n",
        "my_own_file.py": b"added by the team\n",
    }
    drift = find_drift(RENDERED, project, OWNERSHIP)
    assert drift.modified == [".gitignore"]
    assert drift.missing == ["Makefile"]
    assert drift.summary() == "modified .gitignore; missing Makefile"


def test_untouched_project_has_no_drift() -> None:
    assert not find_drift(RENDERED, dict(RENDERED), OWNERSHIP)


def test_drift_is_byte_for_byte() -> None:
    project = {**RENDERED, "Makefile": b"all:\r\n"}  # CRLF checkout of an LF file
    assert find_drift(RENDERED, project, OWNERSHIP).modified == ["Makefile"]


def test_deleted_scaffold_once_content_is_not_drift() -> None:
    project = {key: value for key, value in RENDERED.items() if not key.startswith("use_cases/")}
    assert not find_drift(RENDERED, project, OWNERSHIP)


def test_ownership_first_matching_class_wins_and_answers_file_is_copiers() -> None:
    ownership = parse_ownership("scaffold_once: [config/]\nuser_config: [config/deployment.yaml]\n")
    assert ownership.owner("config/deployment.yaml") == "scaffold_once"
    assert ownership.owner(".copier-answers.yml") == "copier_owned"
    assert ownership.owner("config.yaml") == "template_owned"


def test_ownership_file_errors_name_the_key() -> None:
    with pytest.raises(FleetError, match="unknown owner class 'scafold_once'"):
        parse_ownership("scafold_once: [use_cases/]\n")
    with pytest.raises(FleetError, match="user_config must be a list"):
        parse_ownership("user_config: config/\n")


@pytest.mark.parametrize(
    ("recorded", "behind"),
    [("v1.0.0", 4), ("v1.1.0", 3), ("v1.3.0", 0), ("v1.1.0-2-gabc1234", 3), ("abc1234", None)],
)
def test_versions_behind_counts_newer_release_tags(recorded: str, behind: int | None) -> None:
    tags = ["v1.0.0", "v1.2.0", "v1.1.0", "v1.3.0rc1", "release-2024", "v1.3.0", "v1.2.1"]
    releases = release_tags(tags)
    assert releases == ["v1.0.0", "v1.1.0", "v1.2.0", "v1.2.1", "v1.3.0"]
    assert versions_behind(recorded, releases) == behind


def test_describe_output_sorts_after_its_tag() -> None:
    assert parse_version("v1.1.0") < parse_version("v1.1.0-2-gabc1234") < parse_version("v1.2.0")


POLICY = {
    "min_template_version": "1.1.0",
    "max_versions_behind": 1,
    "required_answers": {"ci_platform": "azure_devops"},
    "allowed_answers": {
        "python_version": ["3.11", "3.12"],
        "sample_flows": ["named_entity_recognition"],
    },
    "forbid_drift": True,
}
ANSWERS = {
    "_commit": "v1.1.0",
    "ci_platform": "azure_devops",
    "python_version": "3.11",
    "sample_flows": ["named_entity_recognition"],
}


def test_compliant_project_has_no_violations() -> None:
    assert evaluate(parse_policy(POLICY), ANSWERS, behind=1, has_drift=False) == []


def test_each_broken_rule_is_named() -> None:
    answers = {"_commit": "v1.0.0", "python_version": "3.10", "sample_flows": ["other"]}
    violations = evaluate(parse_policy(POLICY), answers, behind=2, has_drift=True)
    assert [v.rule for v in violations] == [
        "min_template_version",
        "max_versions_behind",
        "required_answers.ci_platform",
        "allowed_answers.python_version",
        "allowed_answers.sample_flows",
        "forbid_drift",
    ]
    assert "python_version is '3.10', allowed: 3.11, 3.12" in violations[3].message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_version_behind: 2", "max_version_behind: unknown policy key"),
        ("max_versions_behind: -1", "max_versions_behind: -1 is not a whole number"),
        ("max_versions_behind: yes", "max_versions_behind: True is not a whole number"),
        ("min_template_version: 1.2", "min_template_version: 1.2 is not a version"),
        ("min_template_version: banana", "min_template_version: 'banana' is not a version"),
        ("forbid_drift: sometimes", "forbid_drift: 'sometimes' is not true or false"),
        ("allowed_answers: {python_version: [3.11]}", "allowed_answers.python_version: 3.11 is a"),
        ("allowed_answers: {python_version: '3.11'}", "allowed_answers.python_version: expected"),
        ("required_answers: [ci_platform]", "required_answers: expected a mapping"),
        ("- a list", "a policy is a mapping"),
    ],
)
def test_policy_errors_name_the_key(text: str, message: str) -> None:
    with pytest.raises(FleetError) as raised:
        parse_policy(yaml.safe_load(text))
    assert str(raised.value).startswith(message)


def test_project_list_errors_name_the_entry(tmp_path: Path) -> None:
    from llmops_fleet.inventory import resolve_projects

    (tmp_path / "a").mkdir()
    listing = tmp_path / "fleet.yml"
    listing.write_text("projects:\n  - path: a\n  - path: missing\n")
    with pytest.raises(FleetError, match=r"projects\[1\]\.path: missing is not a folder"):
        resolve_projects([str(listing)])
    listing.write_text("projects:\n  - path: a\n  - path: a\n")
    assert resolve_projects([str(listing)]) == [(tmp_path / "a").resolve()]
