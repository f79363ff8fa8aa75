"""Managed by the LLMOps template. Live: deploy the first use case to a throw-away endpoint.

Skipped unless ``LLMOPS_LIVE_AZURE=1`` and ``AZURE_SUBSCRIPTION_ID``,
``AZURE_RESOURCE_GROUP`` and ``AZURE_ML_WORKSPACE`` name a real workspace (signed in
with ``az login``). It runs the stages ``llmops register-flow``, ``llmops deploy
--target aml_managed`` and ``llmops smoke`` run, with one difference: the managed
online endpoint gets a unique ``llmops-live-<hex>`` name, so nothing that serves
traffic is touched. Afterwards the endpoint is deleted (with its deployments), and so
are the role assignments its system-assigned identity got. The model version stays:
registration is idempotent, like the pipeline's. Expect 15-30 minutes (Azure ML
builds the image), the quota of one instance of the environment's ``instance_type``,
and the workspace connections the flow uses (as for ``llmops run --target azure``).
``LLMOPS_LIVE_ENV`` picks the environment (default: the first in
``config/deployment.base.yaml``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE_VARIABLES = ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZURE_ML_WORKSPACE")
LIVE = os.environ.get("LLMOPS_LIVE_AZURE") == "1" and all(
    os.environ.get(name) for name in WORKSPACE_VARIABLES
)

# `llmops deploy` builds a prompt flow image: skipped in Agent Framework projects.
pytestmark = [
    pytest.mark.promptflow,
    pytest.mark.skipif(
        not LIVE,
        reason="live Azure deploy: set LLMOPS_LIVE_AZURE=1 and " + ", ".join(WORKSPACE_VARIABLES),
    ),
]


def live_env() -> str:
    """``LLMOPS_LIVE_ENV``, else the first environment of the template's deployment config."""
    chosen = os.environ.get("LLMOPS_LIVE_ENV")
    if chosen:
        return chosen
    base = yaml.safe_load((ROOT / "config" / "deployment.base.yaml").read_text(encoding="utf-8"))
    return next(iter(base["environments"]))


@pytest.fixture
def services() -> Any:
    """The real Azure services, from the environment like ``llmops deploy``."""
    from llmops import azure

    return azure.connect(azure.settings_from_env())


@pytest.fixture
def endpoint(services: Any) -> Iterator[str]:
    """A fresh endpoint name; the endpoint and its identity's roles are deleted afterwards."""
    name = f"llmops-live-{secrets.token_hex(4)}"
    yield name
    delete_endpoint(services, name)


def delete_endpoint(services: Any, name: str) -> None:
    """Delete the endpoint, then the roles deploy granted its system-assigned identity."""
    from azure.ai.ml import MLClient
    from azure.identity import DefaultAzureCredential

    from llmops.azure.az import AzCli
    from llmops.deploy.entities import role_scopes

    state = services.ml.get_endpoint(name)
    if state is None:  # deploy failed before creating it
        return
    settings = services.settings
    client = MLClient(
        DefaultAzureCredential(),
        settings.subscription_id,
        settings.resource_group,
        settings.workspace,
    )
    client.online_endpoints.begin_delete(name=name).result()
    if state.principal_id and not settings.endpoint_identity_id:
        az = AzCli()
        for role, scope in role_scopes(settings):
            az("role", "assignment", "delete", "--assignee-object-id", state.principal_id,
               "--role", role, "--scope", scope)  # fmt: skip


def test_first_use_case_deploys_serves_and_takes_all_traffic(services: Any, endpoint: str) -> None:
    from llmops.deploy import deploy, prepare, select_targets, smoke
    from llmops.engine import get_engine
    from llmops.paths import list_use_cases
    from llmops.register import register_flow

    env = live_env()
    use_case = list_use_cases(ROOT)[0]
    context = prepare(ROOT, use_case, env, get_engine(root=ROOT), services.settings)
    managed = context.settings.aml_managed
    if managed is None:
        pytest.skip(f"environment {env} has no aml_managed settings in config/deployment*.yaml")
    context.settings = context.settings.model_copy(
        update={"aml_managed": managed.model_copy(update={"endpoint_name": endpoint})}
    )
    targets = select_targets(context, ["aml_managed"])

    register_flow(services.ml, context.config, env)
    (result,) = deploy(context, services, targets)  # smoke-tests before and after the shift
    assert result.ok, result.message

    state = services.ml.get_endpoint(endpoint)
    assert state is not None and state.kind == "managed"
    serving = {name: share for name, share in state.traffic.items() if share}
    assert list(serving.values()) == [100], state.traffic  # a first deployment takes it all
    assert serving == {name: share for name, share in result.traffic.items() if share}
    check = smoke(context, services, "aml_managed")  # `llmops smoke`: the busiest deployment
    assert check.passed, check.problems
