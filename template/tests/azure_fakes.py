"""Managed by the LLMOps template. In-memory fakes of the Azure services, for offline tests.

Each fake has the methods of its interface in ``llmops.azure`` (``MLService``,
``RoleService``, ``RegistryService``, ``WebAppService``), records every call in
``calls``, and simulates the states the deploy stage must handle: an existing
endpoint with traffic, a deployment that fails to provision, a smoke request that
fails. ``FakeML.traffic_updates`` keeps every traffic split sent, in order.
"""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import write

from llmops.azure import AzureServices, AzureSettings
from llmops.azure.az import WebAppState, check_role
from llmops.azure.ml import AssetVersion, DeploymentState, EndpointState
from llmops.config import ConnectionSpec

with warnings.catch_warnings():
    # azure-ai-ml's schemas warn about marshmallow 4 on first import; not ours to fix.
    warnings.simplefilter("ignore")
    import azure.ai.ml  # noqa: F401

SDK_WARNINGS = pytest.mark.filterwarnings("ignore::marshmallow.warnings.Marshmallow4Warning")
"""azure-ai-ml still uses marshmallow 3 APIs that warn about marshmallow 4; not ours to fix."""

GOOD_ANSWER = (200, json.dumps({"entities": ["Maria Garcia", "Tom Lee"]}))
EMPTY_ANSWER = (200, json.dumps({"entities": []}))

DEPLOYMENT_BASE = """\
# Managed by the LLMOps template (test copy).
defaults:
  targets: [aml_managed]
  traffic: {new: 20, previous: 80}
  smoke: {attempts: 1, wait_seconds: 1}
  aml_managed:
    endpoint_name: "demo-{env}-{use_case}"
    instance_type: Standard_DS3_v2
    instance_count: 1
  kubernetes:
    endpoint_name: "demo-k8s-{env}-{use_case}"
    compute: k8s-compute
    instance_type: defaultinstancetype
    instance_count: 1
  app_service:
    web_app_name: "app-demo-{env}-{use_case}"
  docker:
    repository: "{use_case}"
environments:
  dev: {}
  prod: {}
"""

SETTINGS = AzureSettings(
    subscription_id="00000000-0000-0000-0000-000000000000",
    resource_group="rg-demo-dev",
    workspace="mlw-demo-dev",
    container_registry="crdemodev",
    key_vault="kv-demo-dev",
    app_service_plan="asp-demo-dev",
    app_identity_id="/subscriptions/0/resourceGroups/rg/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/id-demo-dev-app",
    app_identity_client_id="11111111-1111-1111-1111-111111111111",
)


def deploy_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Add what deploy reads to the conftest project: configs, request, serving files."""
    write(project / "config" / "deployment.base.yaml", DEPLOYMENT_BASE)
    case = project / "use_cases" / "demo"
    write(
        case / "sample-request.json",
        '{"text": "Maria Garcia met Tom Lee.", "entity_type": "person"}\n',
    )
    write(case / "flows" / "standard" / "prompt.jinja2", "Extract {{entity_type}}: {{text}}\n")
    write(project / "docker" / "Dockerfile", "# Managed by the LLMOps template.\nFROM scratch\n")
    write(project / "docker" / "serve.sh", "#!/bin/sh\n")
    write(project / "docker" / "requirements-serving.txt", "promptflow==1.18.5\n")
    for name in (
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
    ):
        monkeypatch.delenv(name, raising=False)
    return project


def fake_build(flow_dir: Path, output: Path, specs: list[ConnectionSpec]) -> None:
    """Stands in for ``pf flow build --format docker`` (which takes ~15 s)."""
    shutil.copytree(flow_dir, output / "flow", dirs_exist_ok=True)
    (output / "Dockerfile").write_text("FROM generated\n", encoding="utf-8")
    (output / "runit").mkdir()
    (output / "connections").mkdir()
    for spec in specs:
        (output / "connections" / f"{spec.name}.yaml").write_text("api_base: placeholder\n")


@dataclass
class FakeML:
    """``MLService`` in memory."""

    data: dict[str, list[AssetVersion]] = field(default_factory=dict)
    models: dict[str, list[AssetVersion]] = field(default_factory=dict)
    endpoints: dict[str, EndpointState] = field(default_factory=dict)
    deployments: dict[str, dict[str, DeploymentState]] = field(default_factory=dict)
    failing: bool = False
    """Every new deployment ends up Failed (a container that never gets ready)."""
    answers: list[tuple[int, str]] = field(default_factory=list)
    """Smoke answers in order; once used up, every call gets GOOD_ANSWER."""
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    traffic_updates: list[tuple[str, dict[str, int], dict[str, int]]] = field(default_factory=list)
    """``(endpoint, traffic before, traffic after)`` of every set_traffic call."""
    sent: list[Any] = field(default_factory=list)
    """Entities passed to create_* calls."""

    def with_endpoint(self, name: str, traffic: dict[str, int], kind: str = "managed") -> FakeML:
        """An endpoint that already exists and serves ``traffic`` with healthy deployments."""
        self.endpoints[name] = EndpointState(
            name, kind, dict(traffic), "system_assigned", "principal-1"
        )
        self.deployments[name] = {
            deployment: DeploymentState(deployment, name, "Succeeded") for deployment in traffic
        }
        return self

    def data_versions(self, name: str) -> list[AssetVersion]:
        self.calls.append(("data_versions", name))
        return list(self.data.get(name, []))

    def create_data(self, data: Any) -> AssetVersion:
        self.calls.append(("create_data", data.name, data.version))
        self.sent.append(data)
        made = AssetVersion(data.name, str(data.version), dict(data.tags))
        self.data.setdefault(data.name, []).append(made)
        return made

    def model_versions(self, name: str) -> list[AssetVersion]:
        self.calls.append(("model_versions", name))
        return list(self.models.get(name, []))

    def create_model(self, model: Any) -> AssetVersion:
        self.calls.append(("create_model", model.name, model.version))
        self.sent.append(model)
        assert Path(model.path).is_dir(), "the model folder must exist while it is uploaded"
        made = AssetVersion(model.name, str(model.version), dict(model.tags))
        self.models.setdefault(model.name, []).append(made)
        return made

    def get_endpoint(self, name: str) -> EndpointState | None:
        self.calls.append(("get_endpoint", name))
        return self.endpoints.get(name)

    def create_endpoint(self, endpoint: Any) -> EndpointState:
        self.calls.append(("create_endpoint", endpoint.name))
        self.sent.append(endpoint)
        assert endpoint.name not in self.endpoints, "an existing endpoint was re-created"
        kind = "kubernetes" if type(endpoint).__name__.startswith("Kubernetes") else "managed"
        identity = endpoint.identity.type
        principal = "principal-new" if identity == "system_assigned" else None
        state = EndpointState(endpoint.name, kind, {}, identity, principal)
        self.endpoints[endpoint.name] = state
        self.deployments[endpoint.name] = {}
        return state

    def set_traffic(self, endpoint: str, traffic: dict[str, int]) -> EndpointState:
        self.calls.append(("set_traffic", endpoint, dict(traffic)))
        current = self.endpoints[endpoint]
        unknown = set(traffic) - set(self.deployments[endpoint])
        assert not unknown, f"traffic for deployments that do not exist: {unknown}"
        self.traffic_updates.append((endpoint, dict(current.traffic), dict(traffic)))
        state = EndpointState(
            endpoint, current.kind, dict(traffic), current.identity_type, current.principal_id
        )
        self.endpoints[endpoint] = state
        return state

    def list_deployments(self, endpoint: str) -> list[DeploymentState]:
        self.calls.append(("list_deployments", endpoint))
        return list(self.deployments.get(endpoint, {}).values())

    def create_deployment(self, deployment: Any) -> DeploymentState:
        self.calls.append(("create_deployment", deployment.name))
        self.sent.append(deployment)
        assert deployment.endpoint_name in self.endpoints, "deployment before its endpoint"
        status = "Failed" if self.failing else "Succeeded"
        error = "container did not become ready" if self.failing else ""
        state = DeploymentState(deployment.name, deployment.endpoint_name, status, error=error)
        self.deployments[deployment.endpoint_name][deployment.name] = state
        return state

    def delete_deployment(self, endpoint: str, name: str) -> None:
        self.calls.append(("delete_deployment", endpoint, name))
        assert not self.endpoints[endpoint].traffic.get(name), "deleting a serving deployment"
        del self.deployments[endpoint][name]

    def invoke(self, endpoint: str, deployment: str, request_file: Path) -> tuple[int, str]:
        self.calls.append(("invoke", endpoint, deployment))
        assert deployment in self.deployments[endpoint], "invoking a missing deployment"
        assert json.loads(request_file.read_text())  # the real SDK posts this file
        return self.answers.pop(0) if self.answers else GOOD_ANSWER


@dataclass
class FakeRoles:
    """``RoleService`` in memory; refuses privileged roles like the real one."""

    granted: set[tuple[str, str, str]] = field(default_factory=set)
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def ensure_role(self, principal_id: str, role: str, scope: str) -> bool:
        check_role(role)
        self.calls.append((principal_id, role, scope))
        key = (principal_id, role, scope)
        if key in self.granted:
            return False
        self.granted.add(key)
        return True


@dataclass
class FakeRegistry:
    """``RegistryService`` in memory."""

    images: set[str] = field(default_factory=set)
    builds: list[str] = field(default_factory=list)

    def image_exists(self, registry: str, repository: str, tag: str) -> bool:
        return f"{registry}.azurecr.io/{repository}:{tag}" in self.images

    def build_image(
        self, registry: str, repository: str, tag: str, context: Path, builder: str
    ) -> str:
        assert (context / "Dockerfile").is_file(), "the build context has no Dockerfile"
        reference = f"{registry}.azurecr.io/{repository}:{tag}"
        self.builds.append(reference)
        self.images.add(reference)
        return reference


@dataclass
class FakeWebApps:
    """``WebAppService`` in memory."""

    apps: dict[str, WebAppState] = field(default_factory=dict)
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    settings: dict[str, dict[str, str]] = field(default_factory=dict)

    def get_web_app(self, name: str) -> WebAppState | None:
        return self.apps.get(name)

    def create_web_app(self, name: str, plan: str, image: str) -> WebAppState:
        self.calls.append(("create", name, plan, image))
        self.apps[name] = WebAppState(name, image, f"{name}.azurewebsites.net")
        return self.apps[name]

    def configure_web_app(
        self, name: str, *, identity_id: str, identity_client_id: str, settings: dict[str, str]
    ) -> None:
        self.calls.append(("configure", name, identity_id, identity_client_id))
        self.settings[name] = dict(settings)

    def set_image(self, name: str, image: str, registry_server: str) -> None:
        self.calls.append(("set_image", name, image))
        app = self.apps[name]
        self.apps[name] = WebAppState(name, image, app.host, app.identity_ids)


def fake_services(settings: AzureSettings = SETTINGS, ml: FakeML | None = None) -> AzureServices:
    """All four fakes, bundled like ``llmops.azure.connect`` bundles the real ones."""
    return AzureServices(
        settings=settings,
        ml=ml or FakeML(),
        registry=FakeRegistry(),
        web_apps=FakeWebApps(),
        roles=FakeRoles(),
    )
