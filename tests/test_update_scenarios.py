"""Update scenarios that must never lose a user's work (throwaway template repos with tags).

Each test builds a template repository from this one, tags releases with literal
changes, generates a project at v1.0.0, plays a user, updates, and asserts on files.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from conftest import (
    REPO_ROOT,
    commit_all,
    copy_template_source,
    generate,
    git,
    load_answers,
    update,
)

Change = Callable[[Path], None]
NER = "use_cases/named_entity_recognition"
NER_SOURCE = (
    "template/use_cases/{% if 'named_entity_recognition' in sample_flows %}"
    "named_entity_recognition{% endif %}"
)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer contains {old!r}: update the scenario"
    path.write_text(text.replace(old, new, 1))


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def build_template(tmp_path: Path, *releases: Change) -> Path:
    """v1.0.0 is this repo's template; release i+2 applies ``releases[i]``."""
    source = copy_template_source(tmp_path / "template-src")
    commit_all(source, "v1.0.0", tag="v1.0.0")
    for number, change in enumerate(releases, start=2):
        change(source)
        commit_all(source, f"v{number}.0.0", tag=f"v{number}.0.0")
    return source


def snapshot(project: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(project)): p.read_bytes()
        for p in project.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(project).parts
    }


def add_owner_question(source: Path) -> None:
    append(
        source / "copier.yml",
        "\nproject_owner:\n  type: str\n  help: Team that owns the project\n"
        "  default: platform-team\n",
    )
    (source / "template/OWNERS.jinja").write_text("{{ project_owner }}\n")


def rename_description(source: Path) -> None:
    edit(source / "copier.yml", "project_description:", "project_summary:")
    for name in ("README.md.jinja", "pyproject.toml.jinja"):
        path = source / "template" / name
        path.write_text(path.read_text().replace("project_description", "project_summary"))
    registry = source / "migrations/registry.yml"
    edit(
        registry,
        "migrations: []",
        'migrations:\n  - version: "2.0.0"\n'
        "    rename_answer: {from: project_description, to: project_summary}",
    )


def test_new_question_gets_its_default_and_is_recorded(tmp_path: Path) -> None:
    template = build_template(tmp_path, add_owner_question)
    project = generate(template, tmp_path / "project", "v1.0.0")
    update(project)
    answers = load_answers(project)
    assert answers["project_owner"] == "platform-team"
    assert answers["_commit"] == "v2.0.0"
    assert (project / "OWNERS").read_text() == "platform-team\n", "the new file did not arrive"


def test_renamed_question_keeps_the_answer_through_the_migration(tmp_path: Path) -> None:
    template = build_template(tmp_path, rename_description)
    project = generate(
        template, tmp_path / "project", "v1.0.0", project_description="Finds job titles"
    )
    update(project)
    answers = load_answers(project)
    assert answers.get("project_summary") == "Finds job titles"
    assert "project_description" not in answers
    assert "Finds job titles" in (project / "README.md").read_text()


def test_update_across_three_versions_applies_every_step(tmp_path: Path) -> None:
    def v3(source: Path) -> None:
        append(source / "template/.gitattributes", "*.png binary\n")

    template = build_template(tmp_path, rename_description, v3)
    project = generate(
        template, tmp_path / "project", "v1.0.0", project_description="Finds job titles"
    )
    update(project)
    answers = load_answers(project)
    assert answers["_commit"] == "v3.0.0"
    assert answers.get("project_summary") == "Finds job titles"
    assert "*.png binary" in (project / ".gitattributes").read_text()


def test_switching_a_sample_off_keeps_the_users_use_case(tmp_path: Path) -> None:
    """Documented: use cases are scaffold-once; an update neither deletes nor adds them."""

    def add_second_sample(source: Path) -> None:
        edit(
            source / "copier.yml",
            "  default: [named_entity_recognition]",
            "    Second sample: second_sample\n  default: [named_entity_recognition]",
        )
        edit(  # the question's data guard lists the same choices (tests/test_questions.py)
            source / "copier.yml",
            "'ticket_triage', 'docs_chat']",
            "'ticket_triage', 'docs_chat', 'second_sample']",
        )
        folder = source / "template/use_cases/{% if 'second_sample' in sample_flows %}"
        folder = Path(f"{folder}second_sample{{% endif %}}")
        folder.mkdir(parents=True)
        (folder / "README.md").write_text("second sample\n")

    template = build_template(tmp_path, add_second_sample)
    project = generate(template, tmp_path / "project", "v1.0.0")
    prompt = project / NER / "flows/standard/extract_entities.jinja2"
    append(prompt, "Mind the acronyms.\n")
    commit_all(project, "my prompt")
    update(project, sample_flows=["second_sample"])
    assert "Mind the acronyms." in prompt.read_text(), "the user's use case was touched"
    assert (project / NER / "experiment.yaml").is_file()
    assert not (project / "use_cases/second_sample").exists(), "update added a use case"
    assert load_answers(project)["sample_flows"] == ["second_sample"]


def test_file_deleted_by_the_user_stays_deleted(tmp_path: Path) -> None:
    """Copier does not resurrect deleted files; the fleet drift check reports them."""

    def change_hooks(source: Path) -> None:
        append(source / "template/scripts/hooks.py", "# v2\n")

    template = build_template(tmp_path, change_hooks)
    project = generate(template, tmp_path / "project", "v1.0.0")
    git(project, "rm", "-q", "scripts/hooks.py")
    commit_all(project, "we do not want the hooks")
    update(project)
    assert not (project / "scripts/hooks.py").exists()


def test_dirty_project_is_refused_and_left_untouched(tmp_path: Path) -> None:
    template = build_template(tmp_path, add_owner_question)
    project = generate(template, tmp_path / "project", "v1.0.0")
    append(project / "README.md", "work in progress\n")
    (project / "notes.txt").write_text("untracked\n")
    before, head = snapshot(project), git(project, "rev-parse", "HEAD")
    with pytest.raises(Exception, match="dirty"):
        update(project)
    assert snapshot(project) == before
    assert git(project, "rev-parse", "HEAD") == head
    assert load_answers(project)["_commit"] == "v1.0.0"


def test_crlf_edit_merges_without_a_whole_file_conflict(tmp_path: Path) -> None:
    def change_readme_top(source: Path) -> None:
        edit(source / "template/README.md.jinja", "## Start here", "## Start here (quickly)")

    template = build_template(tmp_path, change_readme_top)
    project = generate(template, tmp_path / "project", "v1.0.0")
    readme = project / "README.md"
    crlf = (readme.read_text() + "Team notes: ask #llmops.\n").replace("\n", "\r\n")
    readme.write_bytes(crlf.encode())
    commit_all(project, "edited on Windows")
    git(project, "rm", "-q", "--cached", "-r", ".")
    git(project, "reset", "-q", "--hard")  # re-checkout: .gitattributes gives LF
    update(project)
    text = readme.read_text()
    assert "<<<<<<<" not in text, "a line-ending change turned into a conflict"
    assert "Team notes: ask #llmops." in text
    assert "## Start here (quickly)" in text
    assert "\r\n" not in text


def write_registry(path: Path, entries: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"migrations": entries}))
    return path


def test_migrations_are_version_gated_and_idempotent(tmp_path: Path, monkeypatch) -> None:
    project = tmp_path / "project"
    (project / "old").mkdir(parents=True)
    (project / "old/prompt.jinja2").write_text("mine\n")
    (project / ".copier-answers.yml").write_text("# header\n_commit: v1.0.0\nold_name: 1\n")
    registry = write_registry(
        tmp_path / "registry.yml",
        [
            {"version": "1.5.0", "rename_answer": {"from": "old_name", "to": "new_name"}},
            {"version": "1.5.0", "move_path": {"from": "old", "to": "new/place"}},
            {"version": "3.0.0", "rename_answer": {"from": "new_name", "to": "newer_name"}},
        ],
    )
    monkeypatch.setattr("sys.path", [str(REPO_ROOT / "migrations"), *sys.path])
    import apply  # the migration runner, imported as Copier runs it: a script

    for _ in range(2):  # the second pass must change nothing
        apply.run(project, registry, apply.Version("1.0.0"), apply.Version("2.0.0"))
        answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
        assert answers == {"_commit": "v1.0.0", "new_name": 1}
        assert (project / "new/place/prompt.jinja2").read_text() == "mine\n"
        assert not (project / "old").exists()
    assert (project / ".copier-answers.yml").read_text().startswith("# header\n")


def test_migration_refuses_to_overwrite_and_changes_nothing(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for folder in ("old", "new"):
        (project / folder).mkdir(parents=True)
        (project / folder / "a.txt").write_text(folder)
    (project / ".copier-answers.yml").write_text("_commit: v1.0.0\nkeep: 1\n")
    registry = write_registry(
        tmp_path / "registry.yml",
        [
            {"version": "1.1.0", "rename_answer": {"from": "keep", "to": "kept"}},
            {"version": "1.2.0", "move_path": {"from": "old", "to": "new"}},
        ],
    )
    before = snapshot(project)
    env = {"VERSION_PEP440_FROM": "1.0.0", "VERSION_PEP440_TO": "2.0.0"}
    script = REPO_ROOT / "migrations/apply.py"
    copy = tmp_path / "apply.py"
    copy.write_text(script.read_text())
    copy.with_name("registry.yml").write_text(registry.read_text())
    result = subprocess.run(
        [sys.executable, str(copy)], cwd=project, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "cannot move old to new: both exist" in result.stderr
    assert snapshot(project) == before


def test_answering_agent_framework_switches_the_dependencies_and_keeps_the_use_cases(
    tmp_path: Path,
) -> None:
    """The migration guide's first step: `copier update -d flow_engine=agent_framework`
    moves what the project installs and its packaged samples, never its use cases (they
    stay prompt flow until `llmops migrate-flow`)."""
    template = build_template(tmp_path)
    project = generate(template, tmp_path / "project", "v1.0.0")
    prompt = project / NER / "flows/standard/extract_entities.jinja2"
    append(prompt, "Mind the acronyms.\n")
    commit_all(project, "my prompt")
    update(project, flow_engine="agent_framework")
    assert "Mind the acronyms." in prompt.read_text(), "the user's use case was touched"
    assert (project / NER / "flows/standard/flow.dag.yaml").is_file()
    pyproject = (project / "pyproject.toml").read_text()
    assert "agent-framework-core" in pyproject and '"promptflow' not in pyproject
    assert not (project / "pf.yaml").exists()
    sample = project / "llmops/samples/named_entity_recognition/flows/standard"
    assert (sample / "workflow.yaml").is_file() and not (sample / "flow.dag.yaml").exists()
    assert load_answers(project)["flow_engine"] == "agent_framework"
