"""Managed by the LLMOps template. The azure-ai-ml entities a deployment consists of.

Built the same way for ``--dry-run`` (printed as YAML) and for a real deployment, so
what you review is what is sent. ``to_yaml`` output loads back with the SDK's
``load_*`` functions, which is how the tests catch schema errors offline.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import yaml

from llmops.azure.settings import AzureSettings
from llmops.deployment_config import KubernetesSettings, OnlineSettings

# The SDK warns about its own experimental schema classes while dumping; not actionable here.
logging.getLogger("azure.ai.ml._utils._experimental").setLevel(logging.ERROR)

PORT = 8080
INFERENCE_CONFIG = {
    "liveness_route": {"path": "/health", "port": PORT},
    "readiness_route": {"path": "/health", "port": PORT},
    "scoring_route": {"path": "/score", "port": PORT},
}
PROBE_INITIAL_DELAY_SECONDS = 30
ENDPOINT_ROLES = (
    # Read the workspace connections (API base and key) the flow's nodes use.
    ("AzureML Workspace Connection Secrets Reader", "workspace"),
    # Read secrets the connections reference in the workspace's key vault.
    ("Key Vault Secrets User", "key_vault"),
)


def fingerprint(**parts: Any) -> str:
    """Stable hash of everything that makes a deployment different from another one."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def deployment_name(digest: str) -> str:
    """``rev-<8 hex>``: re-deploying identical content reuses the same deployment."""
    return f"rev-{digest[:8]}"


def online_endpoint(
    target: str, name: str, settings: OnlineSettings, azure: AzureSettings, tags: dict[str, str]
) -> Any:
    """A managed or Kubernetes online endpoint; its identity reads the workspace connections."""
    from azure.ai.ml.entities import (
        IdentityConfiguration,
        KubernetesOnlineEndpoint,
        ManagedIdentityConfiguration,
        ManagedOnlineEndpoint,
    )

    if azure.endpoint_identity_id:
        identity = IdentityConfiguration(
            type="user_assigned",
            user_assigned_identities=[
                ManagedIdentityConfiguration(resource_id=azure.endpoint_identity_id)
            ],
        )
    else:
        identity = IdentityConfiguration(type="system_assigned")
    common = {"name": name, "auth_mode": settings.auth_mode, "identity": identity, "tags": tags}
    if target == "kubernetes":
        if not isinstance(settings, KubernetesSettings):
            raise TypeError("a Kubernetes endpoint needs KubernetesSettings")
        return KubernetesOnlineEndpoint(compute=settings.compute, **common)
    return ManagedOnlineEndpoint(**common)


def serving_environment(context: Path) -> Any:
    """The flow image, built by Azure ML from the build context (no local Docker needed)."""
    from azure.ai.ml.entities import BuildContext, Environment

    return Environment(
        build=BuildContext(path=str(context)),
        inference_config=INFERENCE_CONFIG,
        description="Prompt flow serving image built by llmops deploy",
    )


def serving_variables(
    settings: OnlineSettings,
    azure: AzureSettings,
    endpoint: str,
    deployment: str,
) -> dict[str, str]:
    """Environment variables of an online deployment: names and IDs only, no secrets."""
    override = ",".join(
        f"deployment.{key}={value}"
        for key, value in (
            ("subscription_id", azure.subscription_id),
            ("resource_group", azure.resource_group),
            ("workspace_name", azure.workspace),
            ("endpoint_name", endpoint),
            ("deployment_name", deployment),
        )
    )
    variables = {
        **settings.environment_variables,
        # Connections come from the workspace, read with the endpoint's identity.
        "PRT_CONFIG_OVERRIDE": override,
        "PROMPTFLOW_RUN_MODE": "serving",
        "PROMPTFLOW_WORKER_NUM": str(settings.workers),
    }
    if azure.endpoint_identity_client_id:
        variables["AZURE_CLIENT_ID"] = azure.endpoint_identity_client_id
    return variables


def online_deployment(
    target: str,
    name: str,
    endpoint: str,
    model: str,
    environment: Any,
    settings: OnlineSettings,
    variables: dict[str, str],
    tags: dict[str, str],
) -> Any:
    """A managed or Kubernetes online deployment of the flow image and model."""
    from azure.ai.ml.entities import (
        KubernetesOnlineDeployment,
        ManagedOnlineDeployment,
        OnlineRequestSettings,
        ProbeSettings,
    )

    common = {
        "name": name,
        "endpoint_name": endpoint,
        "model": model,
        "environment": environment,
        "instance_type": settings.instance_type,
        "instance_count": settings.instance_count,
        "environment_variables": variables,
        "request_settings": OnlineRequestSettings(
            request_timeout_ms=settings.request_timeout_ms,
            max_concurrent_requests_per_instance=settings.max_concurrent_requests_per_instance,
        ),
        "liveness_probe": ProbeSettings(initial_delay=PROBE_INITIAL_DELAY_SECONDS),
        "readiness_probe": ProbeSettings(initial_delay=PROBE_INITIAL_DELAY_SECONDS),
        "app_insights_enabled": settings.app_insights,
        "tags": tags,
    }
    if target == "kubernetes":
        return KubernetesOnlineDeployment(**common)
    return ManagedOnlineDeployment(**common)


def role_scopes(azure: AzureSettings) -> list[tuple[str, str]]:
    """``(role, scope)`` pairs a system-assigned endpoint identity gets."""
    scopes = {"workspace": azure.workspace_id, "key_vault": azure.key_vault_id}
    return [
        (role, scopes[kind])
        for role, kind in ENDPOINT_ROLES
        if kind != "key_vault" or azure.key_vault
    ]


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _prune(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_prune(item) for item in value]
    return value


def to_dict(entity: Any) -> dict[str, Any]:
    """Plain data of an SDK entity (``_to_dict`` returns OrderedDicts and nulls)."""
    return _prune(json.loads(json.dumps(entity._to_dict())))


def to_yaml(entity: Any) -> str:
    """YAML of an SDK entity, loadable with the matching ``azure.ai.ml.load_*`` function.

    Call it once per entity: ``_to_dict`` rewrites some nested objects in place.
    """
    return yaml.safe_dump(to_dict(entity), sort_keys=False)
