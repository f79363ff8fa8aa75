"""`copier update` on throwaway template repos tagged v1 and v2 (Copier's own test style)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import commit_all, copy_template_source, generate, git, load_answers, update

PROMPT = "use_cases/named_entity_recognition/flows/standard/extract_entities.jinja2"
PROMPT_SOURCE = (
    "template/use_cases/{% if 'named_entity_recognition' in sample_flows %}"
    "named_entity_recognition{% endif %}/flows/{% if flow_engine == 'promptflow' %}standard"
    "{% endif %}/extract_entities.jinja2"
)


@pytest.fixture
def template_v1_v2(tmp_path: Path) -> Path:
    """A template repo: v1.0.0 is this repo's template; v2.0.0 changes two files.

    One is template-owned (.gitignore), one is scaffold-once (the NER prompt).
    """
    source = copy_template_source(tmp_path / "template-src")
    commit_all(source, "v1", tag="v1.0.0")
    gitignore = source / "template/.gitignore"
    gitignore.write_text(gitignore.read_text().replace(".env\n", ".env\n*.log\n", 1))
    prompt = source / PROMPT_SOURCE
    prompt.write_text(prompt.read_text().replace("You extract", "You carefully extract"))
    commit_all(source, "v2", tag="v2.0.0")
    return source


def generate_v1(template: Path, destination: Path) -> Path:
    return generate(template, destination, "v1.0.0")


def test_template_change_arrives_and_user_edits_survive(
    template_v1_v2: Path, tmp_path: Path
) -> None:
    project = generate_v1(template_v1_v2, tmp_path / "project")
    assert load_answers(project)["_commit"] == "v1.0.0"
    gitignore = project / ".gitignore"
    gitignore.write_text(gitignore.read_text() + "notes/\n")
    prompt = project / PROMPT
    prompt.write_text(prompt.read_text() + "Prefer full names over initials.\n")
    commit_all(project, "my edits")

    update(project)

    ignored = gitignore.read_text().splitlines()
    assert "*.log" in ignored, "the template's change to a template-owned file did not arrive"
    assert "notes/" in ignored, "the user's edit to a template-owned file was lost"
    prompt_text = prompt.read_text()
    assert "Prefer full names over initials." in prompt_text, "the user's prompt edit was lost"
    assert "You carefully extract" not in prompt_text, "update touched scaffold-once content"
    assert load_answers(project)["_commit"] == "v2.0.0"
    assert not list(project.rglob("*.rej"))


def test_conflicting_edit_shows_as_inline_conflict(template_v1_v2: Path, tmp_path: Path) -> None:
    project = generate_v1(template_v1_v2, tmp_path / "project")
    gitignore = project / ".gitignore"
    gitignore.write_text(gitignore.read_text().replace(".env\n", ".env\n*.tmp\n", 1))
    commit_all(project, "my edit on the same line the template changes")

    update(project)

    text = gitignore.read_text()
    assert "<<<<<<< before updating" in text and ">>>>>>> after updating" in text
    assert "*.tmp" in text and "*.log" in text, "one side of the conflict was dropped"
    assert "UU .gitignore" in git(project, "status", "--porcelain")
    assert not list(project.rglob("*.rej"))
