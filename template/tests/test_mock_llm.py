"""Managed by the LLMOps template. The local mock speaks enough OpenAI for prompt flow."""

from __future__ import annotations

import json
import os
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmops import mock_llm
from llmops.errors import LLMOpsError
from llmops.mock_llm import (
    EMBEDDING_DIMENSION,
    Fixture,
    fallback_reply,
    load_fixtures,
    offline_connections,
    start_in_background,
    start_in_subprocess,
)

FIXTURES = [Fixture(match="Maria Garcia met", reply="Maria Garcia, Tom Lee")]
KEY = {"api-key": "mock-key"}
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # ignore *_PROXY vars


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with start_in_background(fixtures=FIXTURES) as (_server, url):
        yield url


def call(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={**(headers or {})}, method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with NO_PROXY.open(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def chat(text: str) -> dict[str, Any]:
    return {
        "messages": [{"role": "system", "content": "Extract."}, {"role": "user", "content": text}]
    }


def test_azure_route_answers_from_a_fixture(base_url: str) -> None:
    url = f"{base_url}/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"
    status, body = call(url, chat("Entity type: person\nText: Maria Garcia met Tom Lee."), KEY)
    assert status == 200
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4o-mini"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Maria Garcia, Tom Lee",
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["total_tokens"] == (
        body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    )


def test_openai_route_uses_the_fallback_rule(base_url: str) -> None:
    status, body = call(
        f"{base_url}/v1/chat/completions",
        {"model": "gpt-4o-mini", **chat("Text: Ana Souza visited New York with Kenji.")},
        {"Authorization": "Bearer mock-key"},
    )
    assert status == 200
    assert body["choices"][0]["message"]["content"] == "Ana Souza, New York"


def test_requests_without_a_key_are_rejected(base_url: str) -> None:
    status, body = call(f"{base_url}/v1/chat/completions", chat("hi"))
    assert status == 401
    assert "api-key" in body["error"]["message"]


def test_bad_json_is_a_400(base_url: str) -> None:
    status, body = call(f"{base_url}/chat/completions", b"{not json", KEY)
    assert status == 400
    assert body["error"]["message"].startswith("bad request")


def test_embeddings_are_deterministic_small_vectors(base_url: str) -> None:
    azure = f"{base_url}/openai/deployments/emb/embeddings?api-version=2024-10-21"
    _, first = call(azure, {"input": ["alpha", "beta"]}, KEY)
    _, again = call(f"{base_url}/v1/embeddings", {"model": "emb", "input": "alpha"}, KEY)
    vectors = [item["embedding"] for item in first["data"]]
    assert [len(vector) for vector in vectors] == [EMBEDDING_DIMENSION] * 2
    assert vectors[0] != vectors[1]
    assert again["data"][0]["embedding"] == vectors[0]


def test_health_and_unknown_routes(base_url: str) -> None:
    with NO_PROXY.open(f"{base_url}/health", timeout=10) as response:
        assert json.loads(response.read())["status"] == "ok"
    status, _ = call(f"{base_url}/v1/completions/nope", chat("x"), KEY)
    assert status == 404


def test_server_listens_on_loopback_only(base_url: str) -> None:
    assert base_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    ("prompt", "reply"),
    [
        ("Entity type: person\nText: Maria Garcia met Tom Lee in Berlin.", "Maria Garcia, Tom Lee"),
        ("Entity Type: job title\nText: the nurse helped the chef.", "None"),
        (
            "No marker: Grace Hopper and Alan Turing, Grace Hopper again.",
            "Grace Hopper, Alan Turing",
        ),
    ],
)
def test_fallback_rule(prompt: str, reply: str) -> None:
    assert fallback_reply(prompt) == reply


def test_bad_fixture_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "responses.jsonl"
    path.write_text('{"match": "a", "reply": "b"}\n{"match": "only"}\n', encoding="utf-8")
    with pytest.raises(LLMOpsError, match=r"responses\.jsonl:2:"):
        load_fixtures([path])


def test_the_openai_sdk_can_talk_to_it(base_url: str) -> None:
    openai = pytest.importorskip("openai")
    httpx = pytest.importorskip("httpx")
    client = openai.AzureOpenAI(
        azure_endpoint=f"{base_url}/",
        api_key="mock-key",
        api_version="2024-10-21",
        http_client=httpx.Client(trust_env=False),
    )
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Text: Maria Garcia met Tom"}]
    )
    assert completion.choices[0].message.content == "Maria Garcia, Tom Lee"


def test_offline_connections_use_the_ordinary_variables(project: Path) -> None:
    with offline_connections(project, echo=lambda _line: None) as base_url:
        assert os.environ["AOAI_API_BASE"] == f"{base_url}/"
        assert os.environ["OAI_API_BASE"] == f"{base_url}/v1"
        assert os.environ["AOAI_API_KEY"] == os.environ["OAI_API_KEY"] == "mock-key"
        url = f"{os.environ['OAI_API_BASE']}/chat/completions"
        headers = {"Authorization": f"Bearer {os.environ['OAI_API_KEY']}"}
        _, body = call(url, chat("Text: Maria Garcia met Tom Lee."), headers)
        assert body["choices"][0]["message"]["content"] == "Maria Garcia, Tom Lee"
    assert "AOAI_API_BASE" not in os.environ
    assert "OAI_API_KEY" not in os.environ


def test_replies_are_not_held_back_by_nagles_algorithm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Headers and body are two writes: with Nagle on, each reply on a kept-alive connection
    after the first waited ~40 ms for the client's delayed ACK, on every offline run."""
    nodelay: list[int] = []
    original_setup = mock_llm._Handler.setup

    def setup(handler: mock_llm._Handler) -> None:
        original_setup(handler)
        nodelay.append(handler.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(mock_llm._Handler, "setup", setup)
    with start_in_background() as (_server, url):
        assert call(f"{url}/v1/chat/completions", chat("Text: Ada Lovelace"), KEY)[0] == 200
    assert nodelay and all(nodelay)


def test_a_mock_in_its_own_process_serves_the_project_fixtures_and_stops(project: Path) -> None:
    """The benchmark's mock: a child process, so its work is not measured as llmops's."""
    with start_in_subprocess(project, latency=0.0) as base_url:
        url = f"{base_url}/v1/chat/completions"
        status, body = call(url, chat("Text: Maria Garcia met Tom"), KEY)
        assert (status, body["choices"][0]["message"]["content"]) == (200, "Maria Garcia, Tom Lee")
        port = int(base_url.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass


def test_a_mock_process_that_cannot_start_says_why(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = project / "broken-python"
    broken.write_text("#!/bin/sh\necho 'No module named llmops' >&2\nexit 1\n", encoding="utf-8")
    broken.chmod(0o755)
    monkeypatch.setattr(mock_llm.sys, "executable", str(broken))
    with (
        pytest.raises(LLMOpsError, match="mock LLM process did not start: No module named llmops"),
        start_in_subprocess(project),
    ):
        pass


def test_embeddings_reward_shared_words() -> None:
    from llmops.mock_llm import embed

    def cosine(left: list[float], right: list[float]) -> float:
        return sum(a * b for a, b in zip(left, right, strict=True))

    question = embed("How many vacation days do new employees get?")
    related = embed("New employees get 25 vacation days per calendar year.")
    unrelated = embed("Submit receipts in the expense tool within 30 days.")
    assert cosine(question, related) > cosine(question, unrelated)


def test_requests_are_served_at_the_same_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batch runs send `workers` requests at once; a serial mock would hide parallelism."""
    together = 4
    all_in = threading.Barrier(together, timeout=10)
    monkeypatch.setattr(mock_llm.time, "sleep", lambda _seconds: all_in.wait())
    statuses: list[int] = []
    with start_in_background(latency=1.0) as (_server, url):

        def ask() -> None:
            statuses.append(call(f"{url}/v1/chat/completions", chat("Text: Ada Lovelace"), KEY)[0])

        callers = [threading.Thread(target=ask) for _ in range(together)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(timeout=30)
    assert statuses == [200] * together  # each reply waited for all the others to arrive
