"""Managed by the LLMOps template. Deployment settings: merge rules and clear errors up front."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure_fakes import SDK_WARNINGS, deploy_project
from conftest import write

from llmops import azure, cli
from llmops.deployment_config import deep_merge, load_deployment_config, resource_name, slug
from llmops.errors import LLMOpsError

pytestmark = SDK_WARNINGS


@pytest.fixture
def root(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    deploy_project(project, monkeypatch)

    def no_azure(*_args: object) -> None:
        raise AssertionError("an Azure client was created before the settings were checked")

    monkeypatch.setattr(azure, "connect", no_azure)
    return project


def overlay(root: Path, text: str) -> None:
    write(root / "config" / "deployment.yaml", text)


def error_of(root: Path, env: str | None) -> str:
    with pytest.raises(LLMOpsError) as caught:
        load_deployment_config(root, env)
    return str(caught.value)


def test_overlay_overrides_base_per_environment(root: Path) -> None:
    overlay(
        root,
        """\
        defaults:
          aml_managed: {instance_count: 2}
        environments:
          prod:
            traffic: {new: 100, previous: 0}
            aml_managed: {environment_variables: {LOG_LEVEL: INFO}}
        """,
    )
    dev = load_deployment_config(root, "dev")
    prod = load_deployment_config(root, "prod")
    assert dev.aml_managed and prod.aml_managed
    assert (dev.traffic.new, dev.aml_managed.instance_count) == (20, 2)
    assert (prod.traffic.new, prod.traffic.previous) == (100, 0)
    assert prod.aml_managed.instance_type == "Standard_DS3_v2"  # merged, not replaced
    assert prod.aml_managed.environment_variables == {"LOG_LEVEL": "INFO"}


def test_unknown_target_names_file_key_and_choices(root: Path) -> None:
    overlay(root, "environments:\n  dev:\n    targets: [aml_managed, lambda]\n")
    message = error_of(root, "dev")
    assert message.startswith("config/deployment.yaml: environments.dev.targets[1]: ")
    assert "'aml_managed', 'kubernetes', 'app_service' or 'docker'" in message


def test_traffic_must_add_up_to_100(root: Path) -> None:
    overlay(root, "environments:\n  prod:\n    traffic: {new: 30, previous: 60}\n")
    assert error_of(root, "prod") == (
        "config/deployment.yaml: environments.prod.traffic: traffic.new + traffic.previous "
        "must be 100 (got 30 + 60 = 90)"
    )


def test_missing_environment_section_says_how_to_add_it(root: Path) -> None:
    message = error_of(root, "qa")
    assert "no section for 'qa' (configured: dev, prod)" in message
    assert "add `environments: {qa: {}}` to config/deployment.yaml" in message
    overlay(root, "environments:\n  qa: {}\n")
    assert load_deployment_config(root, "qa").targets == ["aml_managed"]


def test_environment_is_required(root: Path) -> None:
    assert "pass --env or set ENV_NAME (configured: dev, prod)" in error_of(root, None)


def test_instance_count_below_one(root: Path) -> None:
    overlay(root, "defaults:\n  aml_managed: {instance_count: 0}\n")
    assert error_of(root, "dev") == (
        "config/deployment.yaml: defaults.aml_managed.instance_count: "
        "Input should be greater than or equal to 1"
    )


def test_unknown_key_suggests_the_right_one(root: Path) -> None:
    overlay(root, "defaults:\n  aml_managed: {instance_typ: Standard_D2as_v4}\n")
    message = error_of(root, "dev")
    assert (
        "defaults.aml_managed.instance_typ: unknown key; did you mean 'instance_type'?" in message
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "defaults:\n  kubernetes: {auth_mode: aad_token}\n",
            "Kubernetes online endpoints do not support aad_token",
        ),
        (
            "defaults:\n  aml_managed: {endpoint_name: '{project}-{env}'}\n",
            "unknown placeholder(s) {project}",
        ),
        (
            "defaults:\n  aml_managed: {environment_variables: {AOAI_API_KEY: x}}\n",
            "'AOAI_API_KEY' looks like a secret",
        ),
        ("environments:\n  dev:\n    targets: [app_service, app_service]\n", "listed twice"),
        ("surprise: 1\n", "surprise: unknown key (allowed: defaults, environments)"),
    ],
)
def test_other_mistakes_are_named(root: Path, text: str, expected: str) -> None:
    overlay(root, text)
    assert expected in error_of(root, "dev")


def test_deploy_stops_before_any_azure_call(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay(root, "environments:\n  dev:\n    traffic: {new: 50, previous: 40}\n")
    assert cli.main(["deploy", "--env", "dev"]) == 2
    assert "must be 100 (got 50 + 40 = 90)" in capsys.readouterr().err
    assert cli.main(["deploy", "--env", "staging"]) == 2
    assert "no section for 'staging'" in capsys.readouterr().err


def test_deploy_without_workspace_variables_is_a_clear_error(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["deploy", "--env", "dev"]) == 2
    err = capsys.readouterr().err
    assert "AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP, AZURE_ML_WORKSPACE" in err
    assert "Traceback" not in err


def test_names_fit_azure_limits_and_stay_stable() -> None:
    assert slug("named_entity_recognition") == "named-entity-recognition"
    pattern = "demo-{env}-{use_case}"
    name = resource_name(pattern, "named_entity_recognition", "dev", 32, *_endpoint_rule())
    assert len(name) <= 32 and name.startswith("demo-dev-named-entity-recog")
    assert name == resource_name(pattern, "named_entity_recognition", "dev", 32, *_endpoint_rule())
    short = resource_name(pattern, "ner", "dev", 32, *_endpoint_rule())
    assert short == "demo-dev-ner"
    with pytest.raises(LLMOpsError, match="breaks Azure's naming rules"):
        resource_name("9-{env}", "ner", "dev", 32, *_endpoint_rule())


def _endpoint_rule() -> tuple[object, str]:
    from llmops.deployment_config import ENDPOINT_NAME

    return ENDPOINT_NAME, "endpoint_name"


def test_deep_merge_merges_mappings_and_replaces_lists() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    assert deep_merge(base, {"a": {"y": [3]}, "c": 2}) == {"a": {"x": 1, "y": [3]}, "b": 1, "c": 2}
