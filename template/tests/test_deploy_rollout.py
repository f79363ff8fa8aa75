"""Managed by the LLMOps template. Rollouts against in-memory Azure: A/B traffic, smoke, rollback.

The invariant under test everywhere: once an endpoint serves traffic, no traffic
update leaves it at anything but 100 % (no "traffic zeroed on redeploy").
"""

from __future__ import annotations

from pathlib import Path

import pytest
from azure_fakes import (
    EMPTY_ANSWER,
    GOOD_ANSWER,
    SDK_WARNINGS,
    SETTINGS,
    FakeML,
    deploy_project,
    fake_build,
    fake_services,
)
from conftest import FakeEngine, write

from llmops import azure, cli
from llmops.azure import AzureServices
from llmops.azure.az import FORBIDDEN_ROLES, check_role
from llmops.deploy import DeployContext, deploy, prepare
from llmops.deploy.entities import ENDPOINT_ROLES
from llmops.deploy.online import TrafficInvariantError, check_traffic, plan_traffic
from llmops.deployment_config import TrafficSplit
from llmops.errors import LLMOpsError
from llmops.register import register_flow

pytestmark = SDK_WARNINGS

ENDPOINT = "demo-dev-demo"


def assert_never_zeroed(ml: FakeML) -> None:
    """Every update of an endpoint that had traffic keeps exactly 100 %."""
    for endpoint, before, after in ml.traffic_updates:
        if sum(before.values()) > 0:
            assert sum(after.values()) == 100, (endpoint, before, after)


@pytest.fixture
def root(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return deploy_project(project, monkeypatch)


def context_for(root: Path, overlay: str = "") -> DeployContext:
    if overlay:
        write(root / "config" / "deployment.yaml", overlay)
    return prepare(root, "demo", "dev", FakeEngine(), SETTINGS)


def registered(context: DeployContext, services: AzureServices) -> None:
    """The register stage ran: the model with the flow's hash exists."""
    register_flow(services.ml, context.config, context.env, echo=lambda _line: None)


def run(context: DeployContext, services: AzureServices, lines: list[str] | None = None) -> bool:
    echo = lines.append if lines is not None else (lambda _line: None)
    results = deploy(context, services, context.settings.targets, fake_build, echo)
    return all(result.ok for result in results)


def test_first_deployment_creates_the_endpoint_and_takes_all_traffic(root: Path) -> None:
    context = context_for(root)
    services = fake_services()
    registered(context, services)
    lines: list[str] = []
    assert run(context, services, lines)
    ml = services.ml
    assert isinstance(ml, FakeML)
    new = next(name for name in ml.deployments[ENDPOINT])
    assert ml.endpoints[ENDPOINT].traffic == {new: 100}
    assert [call[0] for call in ml.calls if call[0].startswith("create_")] == [
        "create_model",
        "create_endpoint",
        "create_deployment",
    ]
    assert [c for c in ml.calls if c[0] == "invoke"] == [("invoke", ENDPOINT, new)] * 2
    roles = sorted(role for _, role, _ in services.roles.calls)  # type: ignore[attr-defined]
    assert roles == ["AzureML Workspace Connection Secrets Reader", "Key Vault Secrets User"]
    assert any("model demo-dev version 1" in line for line in lines)
    assert_never_zeroed(ml)


def test_second_deployment_splits_traffic_and_keeps_the_endpoint(root: Path) -> None:
    context = context_for(root)
    ml = FakeML().with_endpoint(ENDPOINT, {"rev-old": 100})
    services = fake_services(ml=ml)
    registered(context, services)
    assert run(context, services)
    new = next(name for name in ml.deployments[ENDPOINT] if name != "rev-old")
    assert ml.endpoints[ENDPOINT].traffic == {"rev-old": 80, new: 20}
    assert ("create_endpoint", ENDPOINT) not in ml.calls
    assert [after for _, _, after in ml.traffic_updates] == [{"rev-old": 80, new: 20}]
    assert_never_zeroed(ml)


def test_full_rollout_moves_everything_but_keeps_the_previous_deployment(root: Path) -> None:
    context = context_for(root, "defaults:\n  traffic: {new: 100, previous: 0}\n")
    ml = FakeML().with_endpoint(ENDPOINT, {"rev-old": 100})
    services = fake_services(ml=ml)
    registered(context, services)
    assert run(context, services)
    new = next(name for name in ml.deployments[ENDPOINT] if name != "rev-old")
    assert ml.endpoints[ENDPOINT].traffic == {"rev-old": 0, new: 100}
    assert "rev-old" in ml.deployments[ENDPOINT]  # kept for a quick manual rollback
    assert_never_zeroed(ml)


def test_failed_smoke_after_the_shift_restores_the_previous_split(root: Path) -> None:
    context = context_for(root)
    ml = FakeML(answers=[GOOD_ANSWER, EMPTY_ANSWER]).with_endpoint(ENDPOINT, {"rev-old": 100})
    services = fake_services(ml=ml)
    registered(context, services)
    lines: list[str] = []
    assert not run(context, services, lines)
    new = next(name for name in ml.deployments[ENDPOINT] if name != "rev-old")
    assert [after for _, _, after in ml.traffic_updates] == [
        {"rev-old": 80, new: 20},
        {"rev-old": 100, new: 0},
    ]
    assert ml.endpoints[ENDPOINT].traffic == {"rev-old": 100, new: 0}
    assert any("output 'entities' is empty" in line for line in lines)
    assert any("restored rev-old 100 %" in line for line in lines)
    assert_never_zeroed(ml)


def test_failed_smoke_before_the_shift_moves_no_traffic(root: Path) -> None:
    context = context_for(root)
    ml = FakeML(answers=[(500, "upstream error")]).with_endpoint(ENDPOINT, {"rev-old": 100})
    services = fake_services(ml=ml)
    registered(context, services)
    assert not run(context, services)
    assert ml.traffic_updates == []
    assert ml.endpoints[ENDPOINT].traffic == {"rev-old": 100}


def test_a_deployment_that_never_gets_healthy_gets_no_traffic(root: Path) -> None:
    context = context_for(root)
    ml = FakeML(failing=True).with_endpoint(ENDPOINT, {"rev-old": 100})
    services = fake_services(ml=ml)
    registered(context, services)
    lines: list[str] = []
    assert not run(context, services, lines)
    assert ml.traffic_updates == []
    assert not [c for c in ml.calls if c[0] == "invoke"]
    assert any("container did not become ready" in line for line in lines)


def test_running_again_reuses_the_deployment_and_cleans_up_idle_ones(root: Path) -> None:
    context = context_for(root)
    ml = FakeML().with_endpoint(ENDPOINT, {"rev-old": 100, "rev-older": 0})
    services = fake_services(ml=ml)
    registered(context, services)
    assert run(context, services)
    assert ("delete_deployment", ENDPOINT, "rev-older") in ml.calls
    creates = [c for c in ml.calls if c[0] == "create_deployment"]
    assert run(context, services)  # same content: nothing new to create
    assert [c for c in ml.calls if c[0] == "create_deployment"] == creates
    assert len(ml.traffic_updates) == 1  # the split is already in place
    assert_never_zeroed(ml)


def test_an_ab_test_in_progress_hands_its_share_to_the_new_deployment(root: Path) -> None:
    context = context_for(root)
    ml = FakeML().with_endpoint(ENDPOINT, {"rev-a": 70, "rev-b": 30})
    services = fake_services(ml=ml)
    registered(context, services)
    assert run(context, services)
    new = next(name for name in ml.deployments[ENDPOINT] if name not in ("rev-a", "rev-b"))
    assert ml.endpoints[ENDPOINT].traffic == {"rev-a": 80, "rev-b": 0, new: 20}
    assert_never_zeroed(ml)


def test_deploy_needs_the_registered_model(root: Path) -> None:
    context = context_for(root)
    with pytest.raises(LLMOpsError, match="run `llmops register-flow --env dev` first"):
        deploy(context, fake_services(), ["aml_managed"], fake_build, print)


def test_traffic_plans_and_the_invariant_guard() -> None:
    split = TrafficSplit(new=20, previous=80)
    assert plan_traffic({}, "new", split) == {"new": 100}
    assert plan_traffic({"old": 0}, "new", split) == {"new": 100}
    assert plan_traffic({"old": 100}, "new", split) == {"old": 80, "new": 20}
    with pytest.raises(TrafficInvariantError):
        check_traffic({"old": 100}, {"old": 0, "new": 0})
    with pytest.raises(TrafficInvariantError):
        check_traffic({"old": 100}, {"old": 50, "new": 20})
    check_traffic({}, {"new": 100})


def test_no_privileged_role_is_ever_assigned() -> None:
    assert not {role for role, _ in ENDPOINT_ROLES} & FORBIDDEN_ROLES
    for role in ("Owner", "Contributor"):
        with pytest.raises(LLMOpsError, match="least-privilege"):
            check_role(role)
    package = Path(__file__).resolve().parent.parent / "llmops"
    for path in package.rglob("*.py"):
        if path.name == "az.py":
            continue  # the refusal list itself
        assert '"Owner"' not in path.read_text(encoding="utf-8"), path


def test_user_assigned_identity_gets_no_role_grants(root: Path) -> None:
    from dataclasses import replace

    settings = replace(
        SETTINGS, endpoint_identity_id="/id/endpoints", endpoint_identity_client_id="c"
    )
    context = prepare(root, "demo", "dev", FakeEngine(), settings)
    services = fake_services(settings)
    registered(context, services)
    assert run(context, services)
    assert services.roles.calls == []  # type: ignore[attr-defined]


def test_app_service_rollout_and_rollback(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    context = context_for(root, "environments:\n  dev:\n    targets: [app_service]\n")
    services = fake_services()
    registered(context, services)
    answers = iter([(200, '{"entities": ["x"]}'), (503, "starting"), (200, '{"entities": []}')])
    monkeypatch.setattr(
        "llmops.deploy.http_invoker", lambda url, timeout: lambda request: next(answers)
    )
    monkeypatch.setattr("llmops.smoke.time.sleep", lambda _seconds: None)
    assert run(context, services)
    web = services.web_apps
    app = web.apps["app-demo-dev-demo"]  # type: ignore[attr-defined]
    first_image = app.image
    assert first_image.startswith("crdemodev.azurecr.io/demo:")
    settings = web.settings["app-demo-dev-demo"]  # type: ignore[attr-defined]
    assert settings["AOAI_API_KEY"].startswith("@Microsoft.KeyVault(")
    # A changed flow, a new image whose answer is empty: back to the first image.
    write(root / "use_cases/demo/flows/standard/prompt.jinja2", "Changed prompt\n")
    context = context_for(root)
    registered(context, services)
    assert not run(context, services)
    assert web.apps["app-demo-dev-demo"].image == first_image  # type: ignore[attr-defined]
    assert len(services.registry.builds) == 2  # type: ignore[attr-defined]


def test_docker_target_builds_once_per_content(root: Path) -> None:
    context = context_for(root, "environments:\n  dev:\n    targets: [docker]\n")
    services = fake_services()
    registered(context, services)
    assert run(context, services)
    assert run(context, services)
    assert len(services.registry.builds) == 1  # type: ignore[attr-defined]


def test_cli_deploy_exits_1_after_a_rollback(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in (
        ("AZURE_SUBSCRIPTION_ID", SETTINGS.subscription_id),
        ("AZURE_RESOURCE_GROUP", SETTINGS.resource_group),
        ("AZURE_ML_WORKSPACE", SETTINGS.workspace),
    ):
        monkeypatch.setenv(name, value)
    ml = FakeML(answers=[GOOD_ANSWER, EMPTY_ANSWER]).with_endpoint(ENDPOINT, {"rev-old": 100})
    services = fake_services(ml=ml)
    monkeypatch.setattr(azure, "connect", lambda _settings: services)
    monkeypatch.setattr("llmops.cli_azure.get_engine", lambda **_kwargs: FakeEngine())
    monkeypatch.setattr("llmops.deploy.image.pf_flow_build", fake_build)
    assert cli.main(["register-flow", "--env", "dev"]) == 0
    assert cli.main(["deploy", "--env", "dev"]) == 1
    out = capsys.readouterr().out
    assert "[register-flow] version: 1" in out
    assert "FAILED" in out and "restored rev-old 100 %" in out
    assert ml.endpoints[ENDPOINT].traffic["rev-old"] == 100
    assert_never_zeroed(ml)
