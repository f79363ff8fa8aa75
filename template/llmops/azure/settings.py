"""Managed by the LLMOps template. Where the Azure resources are: environment variables only.

Workspace coordinates and resource names are per environment and come from the
environment (a pipeline's variable group, or ``.env`` on a laptop), never from files
in the repository. ``infra/`` prints them after an apply (``terraform output``):

============================== ====================================================
variable                       meaning
============================== ====================================================
AZURE_SUBSCRIPTION_ID          subscription of the Azure ML workspace
AZURE_RESOURCE_GROUP           resource group of the workspace
AZURE_ML_WORKSPACE             Azure ML workspace (or AI Foundry hub project) name
AZURE_CONTAINER_REGISTRY       registry for flow images (app_service and docker)
AZURE_KEY_VAULT                key vault holding the connection secrets (optional)
AZURE_ENDPOINT_IDENTITY_ID     user-assigned identity of online endpoints (optional)
AZURE_ENDPOINT_IDENTITY_CLIENT_ID  its client ID (needed with the identity)
AZURE_APP_SERVICE_PLAN         App Service plan of the web apps (app_service)
AZURE_APP_IDENTITY_ID          user-assigned identity of the web apps (app_service)
AZURE_APP_IDENTITY_CLIENT_ID   its client ID (ACR pull with managed identity)
============================== ====================================================

None of these is a secret; credentials come from ``DefaultAzureCredential``
(``az login`` locally, workload identity federation in pipelines).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from llmops.errors import LLMOpsError

VARIABLES = {
    "subscription_id": "AZURE_SUBSCRIPTION_ID",
    "resource_group": "AZURE_RESOURCE_GROUP",
    "workspace": "AZURE_ML_WORKSPACE",
    "container_registry": "AZURE_CONTAINER_REGISTRY",
    "key_vault": "AZURE_KEY_VAULT",
    "endpoint_identity_id": "AZURE_ENDPOINT_IDENTITY_ID",
    "endpoint_identity_client_id": "AZURE_ENDPOINT_IDENTITY_CLIENT_ID",
    "app_service_plan": "AZURE_APP_SERVICE_PLAN",
    "app_identity_id": "AZURE_APP_IDENTITY_ID",
    "app_identity_client_id": "AZURE_APP_IDENTITY_CLIENT_ID",
}
WORKSPACE_FIELDS = ("subscription_id", "resource_group", "workspace")


@dataclass(frozen=True)
class AzureSettings:
    """Names and IDs of the environment's Azure resources (empty string = not set)."""

    subscription_id: str = ""
    resource_group: str = ""
    workspace: str = ""
    container_registry: str = ""
    key_vault: str = ""
    endpoint_identity_id: str = ""
    endpoint_identity_client_id: str = ""
    app_service_plan: str = ""
    app_identity_id: str = ""
    app_identity_client_id: str = ""
    placeholders: bool = False
    """True for a dry run without the variables: unset values read ``<VARIABLE>``."""

    @property
    def workspace_id(self) -> str:
        """ARM resource ID of the workspace (the scope of workspace role assignments)."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{self.workspace}"
        )

    @property
    def key_vault_id(self) -> str:
        """ARM resource ID of the key vault (assumed in the workspace's resource group)."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.KeyVault/vaults/{self.key_vault}"
        )

    @property
    def registry_server(self) -> str:
        """Login server of the container registry."""
        return f"{self.container_registry}.azurecr.io"

    def require(self, *names: str, purpose: str) -> None:
        """Raise one error naming every missing variable that ``purpose`` needs."""
        missing = [VARIABLES[name] for name in names if not getattr(self, name)]
        if missing:
            raise LLMOpsError(
                f"{purpose} needs the environment variable(s) {', '.join(missing)}: set them in "
                ".env (see .env.sample) or in the pipeline's variable group "
                "(`terraform output` in infra/ prints the values)"
            )


def settings_from_env(
    environ: Mapping[str, str] | None = None, *, placeholders: bool = False
) -> AzureSettings:
    """Read the variables; with ``placeholders``, unset ones become ``<VARIABLE>``."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for item in fields(AzureSettings):
        variable = VARIABLES.get(item.name)
        if variable is None:
            continue
        value = env.get(variable, "").strip()
        if value == f"$({variable})":  # an undefined Azure Pipelines macro
            value = ""
        if not value and placeholders and item.name in (*WORKSPACE_FIELDS, "container_registry"):
            value = f"<{variable}>"
        values[item.name] = value
    return AzureSettings(**values, placeholders=placeholders)
