"""Render matrix: every answer combination that exists renders a coherent project."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from conftest import DEFAULT_ANSWERS, REPO_ROOT, load_answers

AOAI = {
    "name": "aoai",
    "type": "azure_openai",
    "api_version": "2024-10-21",
    "deployment": "gpt-4o-mini",
}
OPENAI = {"name": "public_oai", "type": "openai", "deployment": "gpt-4o-mini"}
SECOND_AOAI = {
    "name": "judge",
    "type": "azure_openai",
    "api_version": "2025-01-01-preview",
    "deployment": "gpt-4o",
}

MATRIX: dict[str, dict[str, Any]] = {
    "defaults": {},
    "openai-only": {"connections": [OPENAI], "python_version": "3.12"},
    "two-connections-trunk": {
        "project_name": "Trunk Based Bot",
        "connections": [AOAI, SECOND_AOAI],
        "branch_development": "develop",
        "branch_main": "trunk",
        "environments": [
            {"name": "dev", "branch": "develop"},
            {"name": "test", "branch": "release/*"},
            {"name": "prod", "branch": "trunk"},
        ],
        "python_version": "3.10",
        "update_check_cron": "30 2 * * 1-5",
    },
}

EXPECTED_FILES = [
    ".copier-answers.yml",
    ".env.sample",
    ".gitattributes",
    ".gitignore",
    ".pre-commit-config.yaml",
    "Makefile",
    "README.md",
    "pf.yaml",
    "pyproject.toml",
    "ruff.toml",
    "pytest.ini",
    "config/connections.yaml",
    "llmops/cli.py",
    ".azure-pipelines/pr-validation.yml",
    ".azure-pipelines/template-update.yml",
    "scripts/template-update.sh",
    "use_cases/named_entity_recognition/experiment.yaml",
    "use_cases/named_entity_recognition/experiment.pr.yaml",
    "use_cases/named_entity_recognition/sample-request.json",
    "use_cases/named_entity_recognition/flows/standard/flow.dag.yaml",
    "use_cases/named_entity_recognition/flows/standard/extract_entities.jinja2",
    "use_cases/named_entity_recognition/flows/evaluation/flow.dag.yaml",
    "use_cases/named_entity_recognition/data/train.jsonl",
    "use_cases/named_entity_recognition/data/pr.jsonl",
]
ADO_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
# An unrendered Jinja tag: an opener followed by a name or keyword, or a block closer.
# (A bare '}}' is not enough: JSON and nested shell expansions end that way.)
JINJA_LEFTOVER = re.compile(r"\{\{-?\s*[A-Za-z_]|\{%-?\s*[a-z]|[\w)'\"]\s*-?%\}|\{#[\s-]")


def render(copie, answers: dict[str, Any]) -> Path:
    result = copie.copy(extra_answers={**DEFAULT_ANSWERS, **answers})
    assert result.exit_code == 0, result.exception
    return Path(result.project_dir)


@pytest.fixture(scope="module", params=sorted(MATRIX))
def rendered(request, copie_session) -> tuple[dict[str, Any], Path]:
    answers = {**DEFAULT_ANSWERS, **MATRIX[request.param]}
    return answers, render(copie_session, answers)


def text_files(root: Path) -> list[Path]:
    return [p for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.parts]


def test_expected_structure(rendered) -> None:
    _, project = rendered
    missing = [name for name in EXPECTED_FILES if not (project / name).is_file()]
    assert not missing, f"missing files: {missing}"
    assert not list(project.rglob("*.jinja")), "a .jinja template leaked into the project"


def test_every_yaml_and_json_file_parses(rendered) -> None:
    _, project = rendered
    for path in text_files(project):
        if path.suffix in (".yml", ".yaml"):
            list(yaml.safe_load_all(path.read_text()))
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".jsonl":
            for line in path.read_text().splitlines():
                json.loads(line)


def test_no_jinja_left_outside_prompt_files(rendered) -> None:
    _, project = rendered
    leftovers = []
    for path in text_files(project):
        if path.suffix in (".jinja2", ".prompty"):
            continue  # prompt flow prompts are Jinja by design, copied byte for byte
        text = ADO_EXPRESSION.sub("", path.read_text())
        if path.suffix == ".py":  # f-strings legitimately use {{ }}
            text = text.replace("{{", "").replace("}}", "")
        for number, line in enumerate(text.splitlines(), start=1):
            if JINJA_LEFTOVER.search(line):
                leftovers.append(f"{path.relative_to(project)}:{number}: {line.strip()}")
    assert not leftovers, "\n".join(leftovers)


def test_prompt_files_are_copied_byte_for_byte(rendered) -> None:
    _, project = rendered
    name = "flows/standard/extract_entities.jinja2"
    source = next((REPO_ROOT / "template" / "use_cases").glob(f"*/{name}"))
    assert (
        project / "use_cases/named_entity_recognition" / name
    ).read_bytes() == source.read_bytes()


def test_azure_pipelines_match_the_schema(rendered, tools_bin: Path) -> None:
    _, project = rendered
    files = sorted(str(p) for p in (project / ".azure-pipelines").rglob("*.yml"))
    result = subprocess.run(
        [
            str(tools_bin / "check-jsonschema"),
            "--builtin-schema",
            "vendor.azure-pipelines",
            "--data-transform",
            "azure-pipelines",
            "--regex-variant",
            "nonunicode",
            *files,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def template_references(node: Any) -> list[str]:
    """Every value of a `template:` key anywhere in a loaded pipeline."""
    if isinstance(node, dict):
        found = [str(v) for k, v in node.items() if k == "template"]
        return found + [ref for value in node.values() for ref in template_references(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in template_references(item)]
    return []


def test_pipeline_template_references_resolve(rendered) -> None:
    _, project = rendered
    checked = 0
    for path in (project / ".azure-pipelines").rglob("*.yml"):
        for reference in template_references(yaml.safe_load(path.read_text())):
            assert (path.parent / reference).is_file(), f"{path.name} refers to missing {reference}"
            checked += 1
    assert checked, "no template references found: the pipelines lost their shared steps"


def test_pipelines_keep_ado_expressions_and_branches(rendered) -> None:
    answers, project = rendered
    pr = (project / ".azure-pipelines/pr-validation.yml").read_text()
    assert "${{ parameters.llmMode }}" in pr
    pipeline = yaml.safe_load(pr)
    assert pipeline["pr"]["branches"]["include"] == [
        answers.get("branch_development", "development")
    ]


def test_env_sample_lists_every_connection_variable_without_values(rendered) -> None:
    answers, project = rendered
    connections = answers.get("connections", [AOAI])
    lines = (project / ".env.sample").read_text().splitlines()
    assignments = dict(
        line.split("=", 1) for line in lines if "=" in line and not line.startswith("#")
    )
    for connection in connections:
        prefix = connection["name"].upper()
        assert assignments.get(f"{prefix}_API_KEY") == ""
        assert assignments.get(f"{prefix}_API_BASE") == ""
    assert set(assignments) == {
        f"{c['name'].upper()}_{v}" for c in connections for v in ("API_KEY", "API_BASE")
    } | {"ENV_NAME"}


def test_sample_flow_uses_the_first_connection(rendered) -> None:
    answers, project = rendered
    first = answers.get("connections", [AOAI])[0]
    flow = yaml.safe_load(
        (project / "use_cases/named_entity_recognition/flows/standard/flow.dag.yaml").read_text()
    )
    llm = next(node for node in flow["nodes"] if node["type"] == "llm")
    assert llm["connection"] == first["name"]
    key = "deployment_name" if first["type"] == "azure_openai" else "model"
    assert llm["inputs"][key] == first["deployment"]
    experiment = yaml.safe_load(
        (project / "use_cases/named_entity_recognition/experiment.yaml").read_text()
    )
    assert experiment["connections"] == [first["name"]]


def test_connections_config_mirrors_the_answers(rendered) -> None:
    answers, project = rendered
    expected = answers.get("connections", [AOAI])
    config = yaml.safe_load((project / "config/connections.yaml").read_text())
    assert config["connections"] == expected


def test_answers_round_trip(rendered, tmp_path: Path) -> None:
    """Re-rendering from the recorded answers reproduces the project exactly."""
    answers, project = rendered
    recorded = load_answers(project)
    for key, value in answers.items():
        assert recorded[key] == value
    data = {k: v for k, v in recorded.items() if not k.startswith("_")}
    again = tmp_path / "again"
    copier.run_copy(
        str(REPO_ROOT), again, data=data, defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True
    )

    def relative_files(root: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes()
            for p in text_files(root)
            if p.name != ".copier-answers.yml"
        }

    assert relative_files(again) == relative_files(project)


def test_shell_scripts_pass_shellcheck_and_are_executable(rendered, tools_bin: Path) -> None:
    _, project = rendered
    scripts = sorted(project.rglob("*.sh"))
    assert scripts, "the project lost its shell scripts"
    for script in scripts:
        assert os.access(script, os.X_OK), f"{script.name} is not executable"
    result = subprocess.run(
        [str(tools_bin / "shellcheck"), *map(str, scripts)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_update_schedule_follows_the_answers(rendered) -> None:
    answers, project = rendered
    pipeline = yaml.safe_load((project / ".azure-pipelines/template-update.yml").read_text())
    schedule = pipeline["schedules"][0]
    assert schedule["cron"] == answers.get("update_check_cron", "0 6 * * 1")
    assert schedule["branches"]["include"] == [answers.get("branch_development", "development")]
