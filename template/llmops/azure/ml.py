"""Managed by the LLMOps template. Azure ML operations of the outer loop, behind one interface.

``MLService`` lists every call the register, deploy and smoke stages make. The real
implementation wraps ``azure.ai.ml.MLClient`` with ``DefaultAzureCredential``; tests
pass an in-memory fake with the same methods. Nothing here prints: callers log names
and versions, never keys or tokens (``invoke`` lets the SDK fetch the endpoint's
credential and returns only the response).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from llmops.azure.settings import AzureSettings
from llmops.errors import LLMOpsError

SUCCEEDED = "Succeeded"


@dataclass(frozen=True)
class AssetVersion:
    """One version of a data asset or model, with its tags."""

    name: str
    version: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointState:
    """What the deploy stage needs to know about an online endpoint."""

    name: str
    kind: str
    """``managed`` or ``kubernetes``."""
    traffic: dict[str, int] = field(default_factory=dict)
    identity_type: str | None = None
    principal_id: str | None = None

    @property
    def total_traffic(self) -> int:
        """Sum of the traffic percentages (0 for an endpoint that serves nothing)."""
        return sum(self.traffic.values())


@dataclass(frozen=True)
class DeploymentState:
    """An online deployment and whether it is ready to serve."""

    name: str
    endpoint: str
    provisioning_state: str
    model: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    error: str = ""

    @property
    def healthy(self) -> bool:
        """True once Azure ML reports the deployment as provisioned."""
        return self.provisioning_state == SUCCEEDED


@runtime_checkable
class MLService(Protocol):
    """Azure ML workspace operations used by register, deploy and smoke."""

    def data_versions(self, name: str) -> list[AssetVersion]:
        """Every version of a data asset (empty when the asset does not exist)."""
        ...

    def create_data(self, data: Any) -> AssetVersion:
        """Register an ``azure.ai.ml.entities.Data`` (uploads its local file)."""
        ...

    def model_versions(self, name: str) -> list[AssetVersion]:
        """Every version of a model (empty when the model does not exist)."""
        ...

    def create_model(self, model: Any) -> AssetVersion:
        """Register an ``azure.ai.ml.entities.Model`` (uploads its folder)."""
        ...

    def get_endpoint(self, name: str) -> EndpointState | None:
        """The online endpoint, or None when it does not exist."""
        ...

    def create_endpoint(self, endpoint: Any) -> EndpointState:
        """Create a new online endpoint and wait; only called when it is absent."""
        ...

    def set_traffic(self, endpoint: str, traffic: dict[str, int]) -> EndpointState:
        """Set the traffic split of an existing endpoint (and nothing else) and wait."""
        ...

    def list_deployments(self, endpoint: str) -> list[DeploymentState]:
        """The deployments of an endpoint."""
        ...

    def create_deployment(self, deployment: Any) -> DeploymentState:
        """Create or update a deployment and wait until it is provisioned or failed."""
        ...

    def delete_deployment(self, endpoint: str, name: str) -> None:
        """Delete a deployment that receives no traffic."""
        ...

    def invoke(self, endpoint: str, deployment: str, request_file: Path) -> tuple[int, str]:
        """POST the request file to one deployment; returns ``(HTTP status, body)``."""
        ...


def endpoint_state(endpoint: Any) -> EndpointState:
    """Summarise an SDK endpoint entity."""
    from azure.ai.ml.entities import KubernetesOnlineEndpoint

    identity = getattr(endpoint, "identity", None)
    return EndpointState(
        name=endpoint.name,
        kind="kubernetes" if isinstance(endpoint, KubernetesOnlineEndpoint) else "managed",
        traffic={str(k): int(v) for k, v in (endpoint.traffic or {}).items()},
        identity_type=getattr(identity, "type", None),
        principal_id=getattr(identity, "principal_id", None),
    )


def deployment_state(deployment: Any, error: str = "") -> DeploymentState:
    """Summarise an SDK deployment entity."""
    model = deployment.model
    return DeploymentState(
        name=deployment.name,
        endpoint=deployment.endpoint_name,
        provisioning_state=str(deployment.provisioning_state or "Unknown"),
        model=model if isinstance(model, str) or model is None else str(model.id or model.name),
        tags=dict(deployment.tags or {}),
        error=error,
    )


def first_line(error: BaseException) -> str:
    """A one-line error message (SDK messages can span many lines)."""
    text = (getattr(error, "message", None) or str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__


class AzureMLService:
    """``MLService`` backed by ``azure.ai.ml.MLClient`` (created on first use)."""

    def __init__(self, settings: AzureSettings, credential: Any = None) -> None:
        settings.require("subscription_id", "resource_group", "workspace", purpose="Azure ML")
        self.settings = settings
        self._credential = credential
        self._client: Any = None

    def _ml(self) -> Any:
        if self._client is None:
            from azure.ai.ml import MLClient
            from azure.identity import DefaultAzureCredential

            self._client = MLClient(
                credential=self._credential or DefaultAzureCredential(),
                subscription_id=self.settings.subscription_id,
                resource_group_name=self.settings.resource_group,
                workspace_name=self.settings.workspace,
            )
        return self._client

    def _versions(self, operations: Any, name: str) -> list[AssetVersion]:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            items = list(operations.list(name=name))
        except ResourceNotFoundError:
            return []
        return [AssetVersion(i.name, str(i.version), dict(i.tags or {})) for i in items]

    def data_versions(self, name: str) -> list[AssetVersion]:
        return self._versions(self._ml().data, name)

    def create_data(self, data: Any) -> AssetVersion:
        made = self._ml().data.create_or_update(data)
        return AssetVersion(made.name, str(made.version), dict(made.tags or {}))

    def model_versions(self, name: str) -> list[AssetVersion]:
        return self._versions(self._ml().models, name)

    def create_model(self, model: Any) -> AssetVersion:
        made = self._ml().models.create_or_update(model)
        return AssetVersion(made.name, str(made.version), dict(made.tags or {}))

    def get_endpoint(self, name: str) -> EndpointState | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return endpoint_state(self._ml().online_endpoints.get(name))
        except ResourceNotFoundError:
            return None

    def create_endpoint(self, endpoint: Any) -> EndpointState:
        self._ml().online_endpoints.begin_create_or_update(endpoint).result()
        return endpoint_state(self._ml().online_endpoints.get(endpoint.name))

    def set_traffic(self, endpoint: str, traffic: dict[str, int]) -> EndpointState:
        # Update the entity read from the service: a freshly built endpoint would
        # send an empty traffic map and take every deployment to 0 % (the classic
        # "traffic zeroed on redeploy" bug).
        current = self._ml().online_endpoints.get(endpoint)
        current.traffic = dict(traffic)
        self._ml().online_endpoints.begin_create_or_update(current).result()
        return endpoint_state(self._ml().online_endpoints.get(endpoint))

    def list_deployments(self, endpoint: str) -> list[DeploymentState]:
        return [deployment_state(d) for d in self._ml().online_deployments.list(endpoint)]

    def create_deployment(self, deployment: Any) -> DeploymentState:
        error = ""
        try:
            self._ml().online_deployments.begin_create_or_update(deployment).result()
        except Exception as failure:  # the state below tells what happened
            error = first_line(failure)
        try:
            made = self._ml().online_deployments.get(
                name=deployment.name, endpoint_name=deployment.endpoint_name
            )
        except Exception as failure:
            return DeploymentState(
                deployment.name,
                deployment.endpoint_name,
                "Failed",
                error=error or first_line(failure),
            )
        return deployment_state(made, error)

    def delete_deployment(self, endpoint: str, name: str) -> None:
        self._ml().online_deployments.begin_delete(name=name, endpoint_name=endpoint).result()

    def invoke(self, endpoint: str, deployment: str, request_file: Path) -> tuple[int, str]:
        from azure.core.exceptions import HttpResponseError

        try:
            body = self._ml().online_endpoints.invoke(
                endpoint_name=endpoint, deployment_name=deployment, request_file=str(request_file)
            )
        except HttpResponseError as error:
            return int(error.status_code or 0), first_line(error)
        except Exception as error:
            raise LLMOpsError(
                f"could not invoke {endpoint}/{deployment}: {first_line(error)}"
            ) from None
        return 200, str(body)
