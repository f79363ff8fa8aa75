"""Managed by the LLMOps template. Every entity deploy would send loads back with the SDK's schema.

``--dry-run`` prints the real azure-ai-ml entities as YAML; loading that YAML with
``azure.ai.ml.load_*`` runs the SDK's own schema validation, so a wrong field or
value fails here, offline, instead of in Azure.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from azure.ai.ml import (
    load_data,
    load_environment,
    load_model,
    load_online_deployment,
    load_online_endpoint,
)
from azure.ai.ml.entities import (
    KubernetesOnlineDeployment,
    KubernetesOnlineEndpoint,
    ManagedOnlineDeployment,
    ManagedOnlineEndpoint,
)
from azure_fakes import SDK_WARNINGS, SETTINGS, deploy_project, fake_build
from conftest import FakeEngine

from llmops import cli
from llmops.azure.settings import AzureSettings
from llmops.deploy import dry_run, prepare, select_targets
from llmops.deploy import entities as entity_builders
from llmops.deploy.image import build_context

pytestmark = SDK_WARNINGS

TARGETS = ["aml_managed", "kubernetes", "app_service", "docker"]
USER_ASSIGNED = replace(
    SETTINGS,
    endpoint_identity_id="/subscriptions/0/resourceGroups/rg/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/id-demo-dev-endpoints",
    endpoint_identity_client_id="22222222-2222-2222-2222-222222222222",
)


def load(document: str, loader: Callable[[io.StringIO], Any]) -> Any:
    """Load one YAML document with an SDK loader (runs its schema validation)."""
    return loader(io.StringIO(document))


@pytest.fixture
def root(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    deploy_project(project, monkeypatch)
    (project / "config" / "deployment.yaml").write_text(
        f"environments:\n  dev:\n    targets: {TARGETS}\n", encoding="utf-8"
    )
    return project


@pytest.mark.parametrize("settings", [SETTINGS, USER_ASSIGNED], ids=["system", "user-assigned"])
def test_online_entities_round_trip_through_the_sdk_loaders(
    root: Path, settings: AzureSettings
) -> None:
    context = prepare(root, "demo", "dev", FakeEngine(), settings)
    plans = {item.target: item for item in dry_run(context, TARGETS, fake_build)}
    documents = dict(plans["aml_managed"].documents)
    model = load(documents.pop(next(t for t in documents if t.startswith("model"))), load_model)
    assert model.properties["azureml.promptflow.source_flow_id"] == "demo"
    assert model.tags["content_hash"] == context.flow_hash
    endpoint = load(documents["aml_managed endpoint"], load_online_endpoint)
    deployment = load(documents["aml_managed deployment"], load_online_deployment)
    assert isinstance(endpoint, ManagedOnlineEndpoint)
    assert isinstance(deployment, ManagedOnlineDeployment)
    assert endpoint.auth_mode == "aad_token"
    assert deployment.instance_type == "Standard_DS3_v2"
    sent = yaml.safe_load(documents["aml_managed deployment"])
    assert sent["environment"]["inference_config"]["scoring_route"] == {
        "port": 8080,
        "path": "/score",
    }
    assert deployment.environment_variables["PRT_CONFIG_OVERRIDE"].startswith(
        f"deployment.subscription_id={settings.subscription_id},"
    )
    k8s = dict(plans["kubernetes"].documents)
    kendpoint = load(k8s["kubernetes endpoint"], load_online_endpoint)
    kdeployment = load(k8s["kubernetes deployment"], load_online_deployment)
    assert isinstance(kendpoint, KubernetesOnlineEndpoint)
    assert isinstance(kdeployment, KubernetesOnlineDeployment)
    assert kendpoint.compute.endswith("k8s-compute") and kendpoint.auth_mode == "aml_token"
    if settings.endpoint_identity_id:
        assert endpoint.identity.type == "user_assigned"
        assert deployment.environment_variables["AZURE_CLIENT_ID"].startswith("2222")
        assert plans["aml_managed"].online and not plans["aml_managed"].online.roles
    else:
        assert endpoint.identity.type == "system_assigned"
        assert plans["aml_managed"].online
        roles = [role for role, _ in plans["aml_managed"].online.roles]
        assert roles == ["AzureML Workspace Connection Secrets Reader", "Key Vault Secrets User"]


def test_image_targets_plan_without_secret_values(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AOAI_API_KEY", "sk-SENTINEL-never-shown")
    context = prepare(root, "demo", "dev", FakeEngine(), SETTINGS)
    plans = {item.target: item for item in dry_run(context, ["app_service", "docker"], fake_build)}
    app = yaml.safe_load(dict(plans["app_service"].documents)["app_service web app"])
    assert app["image"].startswith("crdemodev.azurecr.io/demo:")
    assert app["app_settings"]["AOAI_API_KEY"] == (
        "@Microsoft.KeyVault(VaultName=kv-demo-dev;SecretName=aoai-api-key)"
    )
    image = yaml.safe_load(dict(plans["docker"].documents)["docker image"])
    assert image["image"] == app["image"]
    text = "".join(doc for item in plans.values() for _, doc in item.documents)
    assert "SENTINEL" not in text


def test_data_and_environment_entities_round_trip(root: Path) -> None:
    from llmops.register import data_entity, file_hash

    data_file = root / "use_cases" / "demo" / "data" / "train.jsonl"
    data = load(
        entity_builders.to_yaml(data_entity("train", data_file, file_hash(data_file), "d")),
        load_data,
    )
    assert data.type == "uri_file" and data.tags["content_hash"] == file_hash(data_file)
    context = build_context(root, "demo", root / "use_cases/demo/flows/standard", [], fake_build)
    document = entity_builders.to_yaml(entity_builders.serving_environment(context.path))
    environment = load(document, load_environment)
    assert environment.build.path == str(context.path)
    assert yaml.safe_load(document)["inference_config"]["liveness_route"]["path"] == "/health"


def test_build_context_replaces_generated_files_and_never_bakes_values(root: Path) -> None:
    from llmops.config import ConnectionSpec

    spec = ConnectionSpec(
        name="aoai", type="azure_openai", api_version="2024-10-21", deployment="x"
    )
    flow = root / "use_cases/demo/flows/standard"
    (flow / "__pycache__").mkdir()
    (flow / "__pycache__" / "x.pyc").write_bytes(b"0")
    context = build_context(root, "demo", flow, [spec], fake_build)
    files = sorted(p.relative_to(context.path).as_posix() for p in context.path.rglob("*"))
    assert "runit" not in files and "flow/__pycache__" not in files
    assert (context.path / "Dockerfile").read_text().startswith("# Managed by the LLMOps")
    connection = (context.path / "connections" / "aoai.yaml").read_text()
    assert "api_key: ${env:AOAI_API_KEY}" in connection
    assert "api_base: ${env:AOAI_API_BASE}" in connection
    again = build_context(root, "demo", flow, [spec], fake_build)
    assert again.tag == context.tag  # same content, same image tag


def test_dry_run_cli_prints_yaml_documents_that_load(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("llmops.deploy.image.pf_flow_build", fake_build)
    monkeypatch.setattr("llmops.cli_azure.get_engine", lambda **_kwargs: FakeEngine())
    assert cli.main(["deploy", "--env", "dev", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run, nothing is sent to Azure" in out
    loaders = {
        "model": load_model,
        "aml_managed endpoint": load_online_endpoint,
        "aml_managed deployment": load_online_deployment,
        "kubernetes endpoint": load_online_endpoint,
        "kubernetes deployment": load_online_deployment,
    }
    seen = set()
    for chunk in out.split("--- # ")[1:]:
        title, _, document = chunk.partition("\n")
        key = "model" if title.startswith("model") else title
        if key in loaders:
            load(document, loaders[key])
        else:
            assert isinstance(yaml.safe_load(document), dict)
        seen.add(key)
    assert seen == {*loaders, "app_service web app", "docker image"}


def test_targets_can_be_narrowed(root: Path) -> None:
    context = prepare(root, "demo", "dev", FakeEngine(), SETTINGS)
    assert select_targets(context, None) == TARGETS
    assert select_targets(context, ["docker"]) == ["docker"]


def test_dry_run_all_plans_every_use_case(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`llmops deploy --env dev --all`: each use case in turn, then one verdict line."""
    monkeypatch.setattr("llmops.deploy.image.pf_flow_build", fake_build)
    monkeypatch.setattr("llmops.cli_azure.get_engine", lambda **_kwargs: FakeEngine())
    other = root / "use_cases" / "other"
    shutil.copytree(root / "use_cases" / "demo", other)
    experiment = other / "experiment.yaml"
    experiment.write_text(experiment.read_text().replace("name: demo", "name: other"))
    assert cli.main(["deploy", "--env", "dev", "--dry-run", "--all"]) == 0
    out = capsys.readouterr().out
    assert out.count("--- # model") == 2
    assert "[deploy] 2 use cases: demo ok, other ok" in out
