"""Render matrix: every answer combination that exists renders a coherent project."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
import tokenize
import tomllib
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from ado_schema import check_command

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
ALL_SAMPLES = ["named_entity_recognition", "web_classification", "ticket_triage", "docs_chat"]

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
    "ado-manual-validation-release-branches": {
        "project_name": "Release Train Bot",
        "connections": [AOAI, SECOND_AOAI],
        "environments": [
            {"name": "dev", "branch": "development"},
            {"name": "qa", "branch": "release/*"},
            {"name": "prod", "branch": "main"},
        ],
        "deploy_targets": ["aml_managed", "kubernetes", "app_service", "docker"],
        "approval_manual_validation": True,
        "approval_notify": "release-approvers@fabrikam.io, [Release Train]\\Approvers",
        "approval_timeout_minutes": 240,
    },
    "github": {"ci_platform": "github", "update_check_cron": "0 4 * * 3"},
    "github-no-terraform-three-envs": {
        "ci_platform": "github",
        "tf_enabled": False,
        "connections": [AOAI, SECOND_AOAI],
        "environments": [
            {"name": "dev", "branch": "development"},
            {"name": "qa", "branch": "release/*"},
            {"name": "prod", "branch": "main"},
        ],
        "deploy_targets": ["docker"],
    },
    "agent-framework": {
        "flow_engine": "agent_framework",
        "sample_flows": ALL_SAMPLES,
        "python_version": "3.10",
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
    "pyproject.toml",
    "ruff.toml",
    "pytest.ini",
    "config/connections.yaml",
    "llmops/cli.py",
    "docs/ci-setup.md",
    "scripts/template-update.sh",
    "scripts/use-cases.sh",
    "use_cases/named_entity_recognition/experiment.yaml",
    "use_cases/named_entity_recognition/experiment.pr.yaml",
    "use_cases/named_entity_recognition/sample-request.json",
    "use_cases/named_entity_recognition/flows/standard/extract_entities.jinja2",
    "use_cases/named_entity_recognition/data/train.jsonl",
    "use_cases/named_entity_recognition/data/pr.jsonl",
]
NER_FLOWS = "use_cases/named_entity_recognition/flows"
ENGINE_FILES = {
    "promptflow": [
        "pf.yaml",
        f"{NER_FLOWS}/standard/flow.dag.yaml",
        f"{NER_FLOWS}/evaluation/flow.dag.yaml",
    ],
    "agent_framework": [
        f"{NER_FLOWS}/standard/workflow.yaml",
        f"{NER_FLOWS}/standard/workflow.py",
        f"{NER_FLOWS}/evaluation/evaluator.yaml",
    ],
}
PIPELINE_FILES = {
    "azure_devops": [
        ".azure-pipelines/pr-validation.yml",
        ".azure-pipelines/cd.yml",
        ".azure-pipelines/template-update.yml",
        ".azure-pipelines/templates/cd-stages.yml",
    ],
    "github": [
        ".github/workflows/pr-validation.yml",
        ".github/workflows/cd.yml",
        ".github/workflows/template-update.yml",
        ".github/actions/setup/action.yml",
    ],
}
PIPELINE_FOLDERS = {"azure_devops": ".azure-pipelines", "github": ".github"}
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


def platform(answers: dict[str, Any]) -> str:
    return answers.get("ci_platform", "azure_devops")


def engine(answers: dict[str, Any]) -> str:
    return answers.get("flow_engine", "promptflow")


def test_expected_structure(rendered) -> None:
    answers, project = rendered
    expected = EXPECTED_FILES + PIPELINE_FILES[platform(answers)] + ENGINE_FILES[engine(answers)]
    missing = [name for name in expected if not (project / name).is_file()]
    assert not missing, f"missing files: {missing}"
    assert not list(project.rglob("*.jinja")), "a .jinja template leaked into the project"
    for other, folder in PIPELINE_FOLDERS.items():
        assert (project / folder).exists() is (other == platform(answers)), folder


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


def without_string_literals(source: str) -> str:
    """Python source with each string literal blanked (line numbers kept): tests of prompt
    code hold Jinja tags as data; a tag left outside a string is a rendering leftover."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return source
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    chars = list(source)
    for token in tokens:
        if token.type == tokenize.STRING:
            first = starts[token.start[0] - 1] + token.start[1]
            last = starts[token.end[0] - 1] + token.end[1]
            for index in range(first, last):
                if chars[index] != "\n":
                    chars[index] = " "
    return "".join(chars)


def test_no_jinja_left_outside_prompt_files(rendered) -> None:
    _, project = rendered
    leftovers = []
    for path in text_files(project):
        if path.suffix in (".jinja2", ".prompty"):
            continue  # prompt flow prompts are Jinja by design, copied byte for byte
        text = ADO_EXPRESSION.sub("", path.read_text())
        if path.suffix == ".py":  # f-strings legitimately use {{ }}
            text = without_string_literals(text).replace("{{", "").replace("}}", "")
        for number, line in enumerate(text.splitlines(), start=1):
            if JINJA_LEFTOVER.search(line):
                leftovers.append(f"{path.relative_to(project)}:{number}: {line.strip()}")
    assert not leftovers, "\n".join(leftovers)


def test_prompt_files_are_copied_byte_for_byte(rendered) -> None:
    answers, project = rendered
    # The flow folders are named `{% if flow_engine == '...' %}standard{% endif %}`.
    folder = f"*{engine(answers)}'*standard*"
    source = next(
        (REPO_ROOT / "template" / "use_cases").glob(f"*/flows/{folder}/extract_entities.jinja2")
    )
    copied = project / NER_FLOWS / "standard" / "extract_entities.jinja2"
    assert copied.read_bytes() == source.read_bytes()


def test_pipelines_match_their_schema(rendered, tools_bin: Path, ado_schema: Path) -> None:
    answers, project = rendered
    if platform(answers) == "azure_devops":
        files = sorted(str(p) for p in (project / ".azure-pipelines").rglob("*.yml"))
        command = check_command(tools_bin / "check-jsonschema", ado_schema, files)
    else:
        files = sorted(str(p) for p in (project / ".github/workflows").glob("*.yml"))
        command = [
            str(tools_bin / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
        ]
        command += files
    assert files
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_infra_readme_describes_the_chosen_ci_platform(rendered) -> None:
    """A GitHub project's infra/README.md once told users to set up Azure DevOps."""
    answers, project = rendered
    readme = project / "infra/README.md"
    if not answers.get("tf_enabled", True):
        assert not readme.exists()
        return
    text = readme.read_text()
    if platform(answers) == "github":
        assert ".github/workflows/infra.yml" in text
        assert "Azure DevOps" not in text and ".azure-pipelines" not in text
    else:
        assert ".azure-pipelines/infra.yml" in text
        assert "ms-devlabs.custom-terraform-tasks" in text
        assert ".github/" not in text


def template_references(node: Any) -> list[str]:
    """Every value of a `template:` key anywhere in a loaded pipeline."""
    if isinstance(node, dict):
        found = [str(v) for k, v in node.items() if k == "template"]
        return found + [ref for value in node.values() for ref in template_references(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in template_references(item)]
    return []


def test_pipeline_template_references_resolve(rendered) -> None:
    answers, project = rendered
    checked = 0
    if platform(answers) == "github":
        for path in (project / ".github").rglob("*.yml"):
            for local in re.findall(r"uses:\s*(\./\S+)", path.read_text()):
                assert (project / local / "action.yml").is_file(), f"{path.name}: {local}"
                checked += 1
        assert checked, "no local action found: the workflows lost their shared setup"
        return
    for path in (project / ".azure-pipelines").rglob("*.yml"):
        for reference in template_references(yaml.safe_load(path.read_text())):
            assert (path.parent / reference).is_file(), f"{path.name} refers to missing {reference}"
            checked += 1
    assert checked, "no template references found: the pipelines lost their shared steps"


def test_pipelines_keep_expressions_and_branches(rendered) -> None:
    answers, project = rendered
    development = answers.get("branch_development", "development")
    if platform(answers) == "github":
        workflow = yaml.safe_load((project / ".github/workflows/pr-validation.yml").read_text())
        assert workflow[True]["pull_request"]["branches"] == [development]
        assert "${{ matrix.use-case }}" in (project / ".github/workflows/cd.yml").read_text()
        return
    pr = (project / ".azure-pipelines/pr-validation.yml").read_text()
    assert "${{ parameters.llmMode }}" in pr
    pipeline = yaml.safe_load(pr)
    assert pipeline["pr"]["branches"]["include"] == [development]
    assert "${{ parameters.scope }}" in (project / ".azure-pipelines/cd.yml").read_text()


def test_env_sample_lists_every_connection_variable_without_values(rendered) -> None:
    answers, project = rendered
    connections = answers.get("connections", [AOAI])
    lines = (project / ".env.sample").read_text().splitlines()
    assignments = dict(
        line.split("=", 1) for line in lines if "=" in line and not line.startswith("#")
    )
    assert all(value == "" for value in assignments.values()), "a value leaked into .env.sample"
    for connection in connections:
        prefix = connection["name"].upper()
        assert f"{prefix}_API_KEY" in assignments
        assert f"{prefix}_API_BASE" in assignments
    connection_vars = {name for name in assignments if name.endswith(("_API_KEY", "_API_BASE"))}
    assert connection_vars == {
        f"{c['name'].upper()}_{v}" for c in connections for v in ("API_KEY", "API_BASE")
    }, "a variable of a connection that is not in the answers"
    assert {"ENV_NAME", "AZURE_SUBSCRIPTION_ID", "AZURE_ML_WORKSPACE"} <= set(assignments)


def test_sample_flow_uses_the_first_connection(rendered) -> None:
    answers, project = rendered
    first = answers.get("connections", [AOAI])[0]
    experiment = yaml.safe_load(
        (project / "use_cases/named_entity_recognition/experiment.yaml").read_text()
    )
    assert experiment["connections"] == [first["name"]]
    if engine(answers) == "agent_framework":
        workflow = yaml.safe_load((project / NER_FLOWS / "standard/workflow.yaml").read_text())
        used = {node["connection"] for node in workflow["nodes"].values() if "connection" in node}
        assert used == {first["name"]}
        return
    flow = yaml.safe_load(
        (project / "use_cases/named_entity_recognition/flows/standard/flow.dag.yaml").read_text()
    )
    llm = next(node for node in flow["nodes"] if node["type"] == "llm")
    assert llm["connection"] == first["name"]
    key = "deployment_name" if first["type"] == "azure_openai" else "model"
    assert llm["inputs"][key] == first["deployment"]


def requirement_names(project: Path) -> dict[str, str]:
    """The project's runtime dependencies: normalised name -> full requirement."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    found = {}
    for requirement in pyproject["project"]["dependencies"]:
        name = re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0]
        found[name.lower().replace("_", "-")] = requirement
    return found


def test_flow_engine_decides_what_is_installed(rendered) -> None:
    """prompt flow and agent-framework-core cannot share a venv (OpenTelemetry pins), and
    promptflow-azure holds azure-ai-ml below 1.33: each engine gets only its own stack."""
    answers, project = rendered
    assert load_answers(project)["flow_engine"] == engine(answers)
    requirements = requirement_names(project)
    assert {"azure-identity", "pydantic", "python-dotenv", "pyyaml", "rich"} <= set(requirements)
    promptflow = {name for name in requirements if name.startswith("promptflow")}
    if engine(answers) == "promptflow":
        assert promptflow == {"promptflow", "promptflow-tools", "promptflow-azure"}
        assert requirements["azure-ai-ml"] == "azure-ai-ml>=1.32,<1.33"
        assert "keyrings.alt" in requirements
        assert not any(name.startswith("agent-framework") for name in requirements)
        return
    assert promptflow == set()
    assert "promptflow" not in (project / "pyproject.toml").read_text()
    assert requirements["azure-ai-ml"] == "azure-ai-ml>=1.35,<2"
    assert {"agent-framework-core", "agent-framework-openai", "azure-ai-evaluation"} <= set(
        requirements
    )
    assert "agent-framework" not in requirements, "the meta package pulls dozens of extras"
    assert "keyrings.alt" not in requirements
    assert set(AF_SIDE_VENV) <= set(requirements.values())


AF_SIDE_VENV = [
    "agent-framework-core>=1.23,<2",
    "agent-framework-openai>=1.17,<2",
    "azure-ai-evaluation>=1.18.10,<2",
    "azure-identity>=1.19,<2",
    "jinja2>=3.1.6,<4",
    "typing-extensions>=4.15,<5",
    "pydantic>=2.7,<3",
    "python-dotenv>=1.0,<2",
    "pyyaml>=6,<7",
    "rich>=13.7,<16",
]
"""What `make setup-agent-framework` installs: an Agent Framework project's ranges."""


def test_prompt_flow_projects_can_set_up_the_agent_framework_venv(rendered) -> None:
    """.venv-af runs a prompt flow project's Agent Framework use cases (llmops comes from
    PYTHONPATH); its ranges must follow the Agent Framework project's pyproject.toml."""
    answers, project = rendered
    makefile = (project / "Makefile").read_text()
    if engine(answers) == "agent_framework":
        assert "setup-agent-framework" not in makefile
        return
    listed = re.search(r"^AF_PACKAGES := (.*?)\n\n", makefile, flags=re.MULTILINE | re.DOTALL)
    assert listed, "the Makefile lost AF_PACKAGES"
    assert shlex.split(listed.group(1).replace("\\\n", " ")) == AF_SIDE_VENV
    assert "AF_VENV := .venv-af" in makefile  # the name llmops.engine.af_worker looks for


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
    cron = answers.get("update_check_cron", "0 6 * * 1")
    development = answers.get("branch_development", "development")
    if platform(answers) == "github":
        workflow = yaml.safe_load((project / ".github/workflows/template-update.yml").read_text())
        assert workflow[True]["schedule"] == [{"cron": cron}]
        assert workflow["jobs"]["update"]["steps"][0]["with"]["ref"] == development
        return
    pipeline = yaml.safe_load((project / ".azure-pipelines/template-update.yml").read_text())
    schedule = pipeline["schedules"][0]
    assert schedule["cron"] == cron
    assert schedule["branches"]["include"] == [development]


COPIER_COMMAND = re.compile(r"copier (?:update|copy|recopy)\b[^`\n]*")


def test_copier_commands_shown_to_users_pass_trust(rendered) -> None:
    """Without --trust, Copier refuses the template's extensions and exits 4."""
    _, project = rendered
    untrusted = [
        f"{path.relative_to(project)}: {match.group(0)}"
        for path in text_files(project)
        for match in COPIER_COMMAND.finditer(path.read_text(encoding="utf-8"))
        if " -" in match.group(0) and "--trust" not in match.group(0)
    ]
    assert untrusted == []


def test_make_help_lists_every_documented_target(rendered) -> None:
    _, project = rendered
    makefile = (project / "Makefile").read_text()
    documented = re.findall(r"^([A-Za-z0-9_-]+):.*## ", makefile, flags=re.MULTILINE)
    assert "test-e2e" in documented
    result = subprocess.run(
        ["make", "-s", "help"], cwd=project, capture_output=True, text=True, check=True
    )
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert listed == documented


FIND_PYTHON = REPO_ROOT / "template" / "scripts" / "find-python.sh"


def test_setup_finds_python_when_only_pyenv_has_it(tmp_path: Path) -> None:
    """`make setup` used to call pythonX.Y from PATH; a pyenv shim there fails, and uv then
    tried to download Python (offline: an error). find-python.sh looks further."""
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    shims = tmp_path / "shims"
    shims.mkdir()
    broken = shims / f"python{version}"
    broken.write_text("#!/bin/sh\necho 'pyenv: command not found' >&2\nexit 127\n")
    broken.chmod(0o755)
    installed = tmp_path / "pyenv" / "versions" / f"{version}.99" / "bin" / f"python{version}"
    installed.parent.mkdir(parents=True)
    installed.symlink_to(Path(sys.executable).resolve())
    env = {"PATH": f"{shims}:/usr/bin:/bin", "PYENV_ROOT": str(tmp_path / "pyenv"), "HOME": "/"}
    found = subprocess.run(
        ["sh", str(FIND_PYTHON), version], env=env, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == str(installed)


def test_setup_says_how_to_point_at_python_when_none_is_found(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYENV_ROOT": str(tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run(
        ["sh", str(FIND_PYTHON), "3.99"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "No Python 3.99 found" in result.stderr
    assert "make setup PYTHON=/path/to/python3.99" in result.stderr
