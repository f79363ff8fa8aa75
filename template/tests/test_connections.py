"""Managed by the LLMOps template. Secrets come from the environment and never show."""

from __future__ import annotations

import pytest

from llmops.config import ConnectionSpec
from llmops.connections import resolve_connections
from llmops.errors import LLMOpsError

AZURE = ConnectionSpec(name="aoai", type="azure_openai", api_version="2024-10-21", deployment="d")
OPENAI = ConnectionSpec(name="my_oai", type="openai", deployment="gpt-4o-mini")


def test_missing_variables_are_named() -> None:
    with pytest.raises(LLMOpsError) as caught:
        resolve_connections(["aoai", "my_oai"], [AZURE, OPENAI], environ={})
    message = str(caught.value)
    assert "AOAI_API_BASE" in message
    assert "MY_OAI_API_KEY" in message
    assert "AOAI_API_KEY" not in message  # Azure OpenAI may sign in with Entra ID
    assert ".env" in message


def test_empty_value_counts_as_missing() -> None:
    with pytest.raises(LLMOpsError, match="MY_OAI_API_KEY"):
        resolve_connections(["my_oai"], [OPENAI], environ={"MY_OAI_API_KEY": " "})


def test_an_azure_connection_without_a_key_signs_in_with_entra_id() -> None:
    env = {"AOAI_API_BASE": "https://x.openai.azure.com/", "AOAI_API_KEY": ""}
    (conn,) = resolve_connections(["aoai"], [AZURE], environ=env)
    assert conn.keyless and conn.api_key == ""
    (keyed,) = resolve_connections(["aoai"], [AZURE], environ={**env, "AOAI_API_KEY": "k"})
    assert not keyed.keyless


def test_an_undefined_pipeline_macro_counts_as_missing() -> None:
    env = {"AOAI_API_BASE": "$(AOAI_API_BASE)", "AOAI_API_KEY": "k"}
    with pytest.raises(LLMOpsError, match="AOAI_API_BASE"):
        resolve_connections(["aoai"], [AZURE], environ=env)


def test_openai_base_is_optional_and_values_are_resolved() -> None:
    (conn,) = resolve_connections(["my_oai"], [OPENAI], environ={"MY_OAI_API_KEY": "sk-1"})
    assert (conn.type, conn.api_base, conn.api_key) == ("openai", None, "sk-1")


def test_unknown_connection_lists_the_defined_ones() -> None:
    with pytest.raises(LLMOpsError, match=r"'nope' is not defined .*\(defined: aoai\)"):
        resolve_connections(["nope"], [AZURE], environ={})


def test_repr_and_str_hide_the_key() -> None:
    env = {"AOAI_API_BASE": "https://x.openai.azure.com/", "AOAI_API_KEY": "super-secret-value"}
    (conn,) = resolve_connections(["aoai"], [AZURE], environ=env)
    for text in (repr(conn), str(conn), f"{conn}", repr([conn])):
        assert "super-secret-value" not in text
        assert "***" in text
    assert "https://x.openai.azure.com/" in repr(conn)
