"""Managed by the LLMOps template. Azure access for the outer loop, one small interface per service.

``MLService`` (Azure ML: data, models, endpoints, deployments), ``RegistryService``
(ACR), ``WebAppService`` (App Service) and ``RoleService`` (role assignments) are all
the register, deploy and smoke stages may call. ``connect`` builds the real ones from
the environment (``DefaultAzureCredential``); tests build fakes with the same methods.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmops.azure.az import (
    AzRegistry,
    AzRoles,
    AzWebApps,
    RegistryService,
    RoleService,
    WebAppService,
    WebAppState,
)
from llmops.azure.ml import (
    AssetVersion,
    AzureMLService,
    DeploymentState,
    EndpointState,
    MLService,
)
from llmops.azure.settings import AzureSettings, settings_from_env

__all__ = [
    "AssetVersion",
    "AzureServices",
    "AzureSettings",
    "DeploymentState",
    "EndpointState",
    "MLService",
    "RegistryService",
    "RoleService",
    "WebAppService",
    "WebAppState",
    "connect",
    "settings_from_env",
]


@dataclass
class AzureServices:
    """Everything the outer loop may call in Azure, for one environment."""

    settings: AzureSettings
    ml: MLService
    registry: RegistryService
    web_apps: WebAppService
    roles: RoleService


def connect(settings: AzureSettings) -> AzureServices:
    """The real services (no network call until the first operation)."""
    settings.require("subscription_id", "resource_group", "workspace", purpose="Azure access")
    return AzureServices(
        settings=settings,
        ml=AzureMLService(settings),
        registry=AzRegistry(),
        web_apps=AzWebApps(settings.resource_group),
        roles=AzRoles(),
    )
