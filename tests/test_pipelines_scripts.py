"""The scripts the pipelines call, on both platforms, run against throwaway repositories.

scripts/use-cases.sh picks the use cases of a run (changed or all) and hands them to the
next job; scripts/template-update.sh and infra/pipeline.sh hand their results to the
next step the way each platform expects.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO_ROOT, commit_all, copy_template_source, generate, git

USE_CASES_SCRIPT = REPO_ROOT / "template/scripts/use-cases.sh"
INFRA = REPO_ROOT / "template/{% if tf_enabled %}infra{% endif %}"
VSO = "##vso[task.setvariable variable="


def run(script: Path, *args: str, cwd: Path, env: dict[str, str] | None = None):
    base = {k: v for k, v in os.environ.items() if k not in ("TF_BUILD", "GITHUB_OUTPUT")}
    return subprocess.run(
        ["bash", str(script), *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A project with three use cases (and a folder that is not one), committed."""
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    shutil.copy2(USE_CASES_SCRIPT, root / "scripts/use-cases.sh")
    for name in ("web-classification", "named_entity_recognition", "ticket_triage"):
        (root / "use_cases" / name / "flows").mkdir(parents=True)
        (root / "use_cases" / name / "experiment.yaml").write_text(f"name: {name}\n")
        (root / "use_cases" / name / "flows/flow.dag.yaml").write_text("nodes: []\n")
    (root / "use_cases/not_a_use_case").mkdir()
    (root / "use_cases/not_a_use_case/notes.txt").write_text("no experiment.yaml\n")
    for shared in ("llmops/cli.py", "docs/guide.md", "infra/main.tf", "README.md"):
        (root / shared).parent.mkdir(parents=True, exist_ok=True)
        (root / shared).write_text("# v1\n")
    commit_all(root, "initial")
    return root


def list_use_cases(repo: Path, *args: str) -> list[str]:
    result = run(repo / "scripts/use-cases.sh", *args, cwd=repo)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def change(repo: Path, *paths: str) -> None:
    for path in paths:
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(target.read_text() + "# changed\n" if target.exists() else "new\n")
    commit_all(repo, f"change {' '.join(paths)}")


ALL = ["named_entity_recognition", "ticket_triage", "web-classification"]


def test_all_lists_every_use_case_with_an_experiment(repo: Path) -> None:
    assert list_use_cases(repo) == ALL
    assert list_use_cases(repo, "--all") == ALL


def test_first_commit_takes_every_use_case(repo: Path) -> None:
    result = run(repo / "scripts/use-cases.sh", "--changed", cwd=repo)
    assert result.stdout.split() == ALL
    assert "cannot read HEAD~1" in result.stderr


def test_changed_takes_only_the_use_cases_the_commit_touched(repo: Path) -> None:
    change(repo, "use_cases/ticket_triage/flows/flow.dag.yaml")
    assert list_use_cases(repo, "--changed") == ["ticket_triage"]
    change(repo, "use_cases/web-classification/data/new.jsonl", "docs/guide.md")
    assert list_use_cases(repo, "--changed") == ["web-classification"]


def test_docs_infra_and_markdown_changes_take_none(repo: Path) -> None:
    change(repo, "docs/guide.md", "infra/main.tf", "README.md", "tests/test_x.py")
    assert list_use_cases(repo, "--changed") == []


def test_shared_code_takes_every_use_case(repo: Path) -> None:
    change(repo, "use_cases/ticket_triage/experiment.yaml", "llmops/cli.py")
    assert list_use_cases(repo, "--changed") == ALL


def test_a_new_use_case_is_picked_up_and_a_removed_one_is_not(repo: Path) -> None:
    change(repo, "use_cases/summaries/experiment.yaml")
    assert list_use_cases(repo, "--changed") == ["summaries"]
    git(repo, "rm", "-q", "-r", "use_cases/ticket_triage")
    commit_all(repo, "remove a use case")
    assert list_use_cases(repo, "--changed") == []
    assert "ticket_triage" not in list_use_cases(repo, "--all")


def test_base_can_be_any_commit(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    change(repo, "use_cases/ticket_triage/experiment.yaml")
    change(repo, "use_cases/named_entity_recognition/experiment.yaml")
    assert list_use_cases(repo, "--changed", "--base", first) == [
        "named_entity_recognition",
        "ticket_triage",
    ]


def test_azure_pipelines_gets_a_matrix_output_variable(repo: Path) -> None:
    result = run(repo / "scripts/use-cases.sh", "--all", cwd=repo, env={"TF_BUILD": "True"})
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(VSO)]
    values = dict(line[len(VSO) :].split(";isOutput=true]", 1) for line in lines)
    assert json.loads(values["matrix"]) == {
        "named_entity_recognition": {"useCase": "named_entity_recognition"},
        "ticket_triage": {"useCase": "ticket_triage"},
        "web_classification": {"useCase": "web-classification"},
    }
    assert values["names"] == " ".join(ALL)
    assert values["count"] == "3"


def test_an_empty_selection_says_count_zero(repo: Path) -> None:
    change(repo, "docs/guide.md")
    result = run(repo / "scripts/use-cases.sh", "--changed", cwd=repo, env={"TF_BUILD": "True"})
    assert f"{VSO}matrix;isOutput=true]{{}}" in result.stdout
    assert f"{VSO}count;isOutput=true]0" in result.stdout


def test_github_actions_gets_a_json_array_output(repo: Path, tmp_path: Path) -> None:
    output = tmp_path / "github_output"
    output.write_text("")
    change(repo, "use_cases/ticket_triage/experiment.yaml")
    result = run(
        repo / "scripts/use-cases.sh", "--changed", cwd=repo, env={"GITHUB_OUTPUT": str(output)}
    )
    assert result.returncode == 0, result.stderr
    assert VSO not in result.stdout
    values = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert json.loads(values["use_cases"]) == ["ticket_triage"]
    assert values["count"] == "1"


def test_bad_arguments_and_names_are_refused(repo: Path) -> None:
    assert run(repo / "scripts/use-cases.sh", "--bogus", cwd=repo).returncode == 2
    (repo / "use_cases/bad name").mkdir()
    (repo / "use_cases/bad name/experiment.yaml").write_text("name: x\n")
    result = run(repo / "scripts/use-cases.sh", cwd=repo)
    assert result.returncode == 2
    assert "bad name" in result.stderr


# --- template-update.sh under GitHub Actions --------------------------------------------


@pytest.fixture
def outdated_project(tmp_path: Path) -> Path:
    source = copy_template_source(tmp_path / "template-src")
    commit_all(source, "v1.0.0", tag="v1.0.0")
    gitignore = source / "template/.gitignore"
    gitignore.write_text(gitignore.read_text() + "*.log\n")
    commit_all(source, "v1.1.0", tag="v1.1.0")
    return generate(source, tmp_path / "project", "v1.0.0")


def update_script(project: Path, tools_bin: Path, output: Path, *args: str):
    path = f"{tools_bin}{os.pathsep}{os.environ['PATH']}"
    return run(
        project / "scripts/template-update.sh",
        *args,
        cwd=project,
        env={"PATH": path, "GITHUB_OUTPUT": str(output)},
    )


def test_template_update_on_github_ci_checkout(
    outdated_project: Path, tools_bin: Path, tmp_path: Path
) -> None:
    """A CI checkout: detached HEAD, the base only as origin/<base>. The branch and the
    version go to the step outputs; a branch already pushed means the update is proposed."""
    project = outdated_project
    head = git(project, "rev-parse", "HEAD").strip()
    git(project, "update-ref", "refs/remotes/origin/develop", head)
    git(project, "checkout", "-q", "--detach", head)
    output = tmp_path / "github_output"
    output.write_text("")
    result = update_script(project, tools_bin, output, "--base", "develop")
    assert result.returncode == 0, result.stdout + result.stderr
    assert VSO not in result.stdout
    assert git(project, "rev-parse", "HEAD~1").strip() == head
    values = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert values == {"branch": "template-update/1.1.0", "version": "1.1.0", "conflicts": ""}

    git(project, "checkout", "-q", "--detach", head)
    git(project, "branch", "-q", "-D", "template-update/1.1.0")
    git(project, "update-ref", "refs/remotes/origin/template-update/1.1.0", head)
    again = update_script(project, tools_bin, output, "--base", "develop")
    assert again.returncode == 0
    assert "already exists" in again.stdout


# --- infra/pipeline.sh under GitHub Actions -------------------------------------------


@pytest.fixture
def github_infra(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """pipeline.sh with a minimal environment, a stub terraform, GitHub's files."""
    infra = tmp_path / "infra"
    (infra / "environments").mkdir(parents=True)
    shutil.copy2(INFRA / "pipeline.sh", infra / "pipeline.sh")
    (infra / "environments/dev.tfvars").write_text('environment = "dev"\n')
    (infra / "environments/dev.backend.hcl").write_text('key = "dev.tfstate"\n')
    stubs = tmp_path / "bin"
    stubs.mkdir()
    log = tmp_path / "calls.log"
    terraform = stubs / "terraform"
    terraform.write_text(
        "#!/usr/bin/env bash\n"
        'printf "terraform %s\\n" "$*" >>"$CALLS"\n'
        'printf "env oidc=%s client=%s tenant=%s subscription=%s ado=%s\\n" "${ARM_USE_OIDC:-}"'
        ' "${ARM_CLIENT_ID:-}" "${ARM_TENANT_ID:-}" "${ARM_SUBSCRIPTION_ID:-}"'
        ' "${ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID:-}" >>"$CALLS"\n'
        'case "$1" in\n'
        "  plan) : >tfplan; exit 2 ;;\n"
        '  show) echo "Plan: 1 to add, 0 to change, 0 to destroy." ;;\n'
        "esac\n"
    )
    terraform.chmod(0o755)
    files = {name: tmp_path / name for name in ("output", "summary")}
    for path in files.values():
        path.write_text("")
    env = {
        "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}",
        "CALLS": str(log),
        "GITHUB_ACTIONS": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.actions.example/oidc",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "SECRET-REQUEST-TOKEN",
        "AZURE_CLIENT_ID": "client-0001",
        "AZURE_TENANT_ID": "tenant-0001",
        "AZURE_SUBSCRIPTION_ID": "sub-0001",
        "GITHUB_OUTPUT": str(files["output"]),
        "GITHUB_STEP_SUMMARY": str(files["summary"]),
    }
    return infra, log, env


def test_infra_plan_on_github_uses_oidc_and_step_outputs(github_infra) -> None:
    infra, log, env = github_infra
    result = run(infra / "pipeline.sh", "plan", "dev", cwd=infra, env=env)
    assert result.returncode == 0, result.stderr
    assert "##vso" not in result.stdout
    calls = log.read_text()
    assert "env oidc=true client=client-0001 tenant=tenant-0001 subscription=sub-0001 ado=" in calls
    assert "SECRET-REQUEST-TOKEN" not in calls + result.stdout + result.stderr
    assert "changes_present=true" in Path(env["GITHUB_OUTPUT"]).read_text()
    assert "Plan: 1 to add" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()


def test_infra_plan_on_github_refuses_without_an_id_token(github_infra) -> None:
    infra, log, env = github_infra
    without = {k: v for k, v in env.items() if k != "ACTIONS_ID_TOKEN_REQUEST_URL"}
    result = run(infra / "pipeline.sh", "plan", "dev", cwd=infra, env=without)
    assert result.returncode != 0
    assert "id-token: write" in result.stderr
    assert not log.exists() or "terraform plan" not in log.read_text()
