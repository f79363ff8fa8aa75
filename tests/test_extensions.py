"""Unit tests of the Jinja extensions: Azure naming rules and answer validators."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO_ROOT, load_extension

naming = load_extension("naming")
answers = load_extension("answers")


@pytest.mark.parametrize(
    ("text", "slug"),
    [("Contoso Support Bot", "contoso-support-bot"), ("  Café  NER_v2 ", "cafe-ner-v2"), ("", "")],
)
def test_slugify_makes_lowercase_ascii_words(text: str, slug: str) -> None:
    assert naming.slugify(text) == slug


@pytest.mark.parametrize(
    ("parts", "kind", "expected"),
    [
        (["Contoso NER", "dev"], "storage_account", "contosonerdev"),
        (["contoso-ner", "dev"], "key_vault", "contoso-ner-dev"),
        (["contoso-ner", "prod"], "container_registry", "contosonerprod"),
        (
            ["a-very-long-project-name-for-tests", "prod"],
            "storage_account",
            "averylongprojectnamefort",
        ),
    ],
)
def test_azure_name_derives_valid_names(parts: list[str], kind: str, expected: str) -> None:
    name = naming.azure_name(parts, kind)
    assert name == expected
    assert naming.azure_name_error(name, kind) == ""


@pytest.mark.parametrize(
    ("value", "kind", "fragment"),
    [
        ("ab", "storage_account", "Use 3-24 characters"),
        ("Has-Dash", "storage_account", "Only a-z and 0-9"),
        ("kv--double", "key_vault", "single dashes"),
        ("1endpoint", "online_endpoint", "starting with a letter"),
        ("acr", "container_registry", "Use 5-50 characters"),
    ],
)
def test_azure_name_error_explains_the_rule(value: str, kind: str, fragment: str) -> None:
    assert fragment in naming.azure_name_error(value, kind)


def test_azure_name_refuses_what_cannot_be_fixed() -> None:
    with pytest.raises(ValueError, match="container registry"):
        naming.azure_name(["x"], "container_registry")


@pytest.mark.parametrize("name", ["Contoso NER", "bot_2", "A"])
def test_project_name_accepts_readable_names(name: str) -> None:
    assert answers.project_name_error(name) == ""


@pytest.mark.parametrize("name", ["", "   ", "9lives", "Bad/Name", "x" * 61])
def test_project_name_rejects_illegal_names(name: str) -> None:
    assert answers.project_name_error(name)


GOOD_CONNECTION = {
    "name": "aoai",
    "type": "azure_openai",
    "api_version": "2024-10-21",
    "deployment": "gpt-4o",
}


def test_connections_accept_azure_and_openai() -> None:
    openai = {"name": "oai", "type": "openai", "deployment": "gpt-4o-mini"}
    assert answers.connections_error([GOOD_CONNECTION, openai]) == ""


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"name": "my-conn"}, "Name: a letter, then a-z 0-9 _"),
        ({"type": "anthropic"}, "type 'anthropic' is unknown"),
        ({"api_version": "2024/10/21"}, "'2024/10/21' is malformed"),
        ({"api_version": None}, "needs api_version"),
        ({"deployment": "gpt 4o"}, "not a model deployment name"),
        ({"api_key": "sk-123"}, "Secrets go in .env, not in answers"),
    ],
)
def test_connection_errors_name_the_problem(change: dict, fragment: str) -> None:
    connection = {**GOOD_CONNECTION, **change}
    connection = {k: v for k, v in connection.items() if v is not None}
    assert fragment in answers.connections_error([connection])


def test_azure_openai_connection_accepts_terraform_model_settings() -> None:
    connection = {**GOOD_CONNECTION, "model": "gpt-4o", "model_version": "2024-08-06"}
    assert answers.connections_error([{**connection, "capacity": 30}]) == ""


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"capacity": 0}, "1-1000"),
        ({"capacity": "lots"}, "1-1000"),
        ({"model_version": "2024 08"}, "model_version: like 2024-07-18"),
        ({"model": "gpt 4o"}, "model: a name like gpt-4o-mini"),
    ],
)
def test_model_settings_errors_name_the_problem(change: dict, fragment: str) -> None:
    assert fragment in answers.connections_error([{**GOOD_CONNECTION, **change}])


def test_model_settings_only_apply_to_azure_openai() -> None:
    openai = {"name": "oai", "type": "openai", "deployment": "gpt-4o-mini", "capacity": 10}
    assert "capacity: azure_openai only" in answers.connections_error([openai])


@pytest.mark.parametrize(
    ("check", "good", "bad", "fragment"),
    [
        ("azure_location_error", "eastus2", "West Europe", "Use a region id like westeurope"),
        ("resource_prefix_error", "contoso", "contoso-ner", "Use 2-10 a-z or 0-9"),
        ("ado_name_error", "sc-contoso-ner", "-bad name", "Start with a letter or digit"),
        ("cron_error", "0 6 * * 1-5", "every monday", "Use 5 fields"),
    ],
)
def test_single_value_checks(check: str, good: str, bad: str, fragment: str) -> None:
    assert getattr(answers, check)(good) == ""
    assert fragment in getattr(answers, check)(bad)


@pytest.mark.parametrize(
    "value", ["ana@fabrikam.io", "ana@fabrikam.io, [LLM Platform]\\Release Approvers"]
)
def test_approval_notify_accepts_people_and_groups(value: str) -> None:
    assert answers.approval_notify_error(value) == ""


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "Name someone to notify"),
        ("replace@youremail.com", "placeholder"),
        ("approvers", "is neither"),
        ("ana@contoso.com", "placeholder"),
    ],
)
def test_approval_notify_rejects_placeholders(value: str, fragment: str) -> None:
    assert fragment in answers.approval_notify_error(value)


def test_connection_names_must_differ_ignoring_case() -> None:
    error = answers.connections_error([GOOD_CONNECTION, {**GOOD_CONNECTION, "name": "AOAI"}])
    assert "repeats 'aoai'" in error


@pytest.mark.parametrize("value", [None, [], "aoai", [["aoai"]]])
def test_connections_must_be_a_list_of_mappings(value: object) -> None:
    assert answers.connections_error(value)


def envs(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "branch": branch} for name, branch in pairs]


def test_environments_accept_the_default_branch_model() -> None:
    value = envs(("dev", "development"), ("test", "release/*"), ("prod", "main"))
    assert answers.environments_error(value, "development", "main") == ""


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (envs(("dev", "development"), ("prod", "development")), "deploys to both 'dev' and 'prod'"),
        (envs(("dev", "development"), ("dev", "main")), "appears twice"),
        (
            envs(
                ("Production", "main"),
            ),
            "Name: 2-8 a-z/0-9, letter first",
        ),
        (
            envs(
                ("dev", "feature/x"),
            ),
            "Use a known branch or a pattern",
        ),
        (
            envs(
                ("dev", "bad..branch"),
            ),
            "No '..' in a branch name",
        ),
        ([{"name": "dev", "branch": "main", "approvers": "x"}], "Unknown key(s) approvers"),
    ],
)
def test_environment_errors_name_the_problem(value: list, fragment: str) -> None:
    assert fragment in answers.environments_error(value, "development", "main")


@pytest.mark.parametrize("branch", ["main", "release/*", "team/dev-2"])
def test_branch_names_accept_git_names(branch: str) -> None:
    assert answers.branch_name_error(branch) == ""


@pytest.mark.parametrize("branch", ["", "a b", "feat..x", ".hidden", "x.lock", "a//b"])
def test_branch_names_reject_invalid_git_names(branch: str) -> None:
    assert answers.branch_name_error(branch)


def test_extensions_are_pure() -> None:
    """Extensions run in every render: no I/O or subprocess imports allowed."""
    for stem in ("naming", "answers"):
        source = Path(REPO_ROOT / "extensions" / f"{stem}.py").read_text()
        for forbidden in ("import subprocess", "import os", "open(", "requests", "urllib"):
            assert forbidden not in source, f"extensions/{stem}.py uses {forbidden}"


def test_choice_answers_given_as_text_keep_their_text() -> None:
    """`-d python_version=3.10` must stay '3.10', not become the YAML number 3.1."""
    assert answers.one_of_error("3.10", ["3.10", "3.11", "3.12"]) == ""
    assert answers.one_of_error("[docker, aks]", ["docker", "app_service"]) == (
        "Use one of docker, app_service ('aks' is not one)."
    )
    assert answers.non_empty_error("[]", "target").startswith("Pick at least one target")


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Northwind Insurance Claims Bot", "northwind-insurance"),
        ("A", "a-llm"),
        ("x" * 30, "x" * 24),
        ("Contoso NER", "contoso-ner"),
    ],
)
def test_slug_default_cuts_at_a_word_end(name: str, slug: str) -> None:
    assert answers.slug_default(name) == slug
    assert answers.project_slug_error(slug) == ""
