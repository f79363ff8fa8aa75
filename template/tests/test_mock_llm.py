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

FIXTURES = [
    Fixture(match="Maria Garcia met", reply="Maria Garcia, Tom Lee"),
    Fixture(match="predicted answer: Pinned", reply='{"reason": "pinned", "score": 2}'),
]
KEY = {"api-key": "mock-key"}
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # ignore *_PROXY vars

# Shaped like azure-ai-evaluation 1.18's similarity.prompty as rendered for one row (few-shot
# examples cut): the judge parses the reply as a JSON object and reads "score" and "status".
JUDGE_SYSTEM = (
    "You are an AI assistant. You will be given the definition of an evaluation metric for "
    "assessing the quality of an answer in a question-answering task. Your job is to compute an "
    "accurate evaluation score using the provided evaluation metric. You should return a single "
    "integer value between 1 to 5 representing the evaluation metric."
)
JUDGE_USER = """Equivalence, as a metric, measures the similarity between the predicted answer \
and the correct answer. Given the question, correct answer, and predicted answer, determine the \
value of Equivalence metric using the following rating scale:
One star: the predicted answer is not at all similar to the correct answer
Five stars: the predicted answer is completely similar to the correct answer

question: Who met whom? Text: Maria Garcia met Tom Lee.
correct answer:Maria Garcia, Tom Lee
predicted answer: {answer}

Your output must be a valid JSON object with exactly these keys:
  - reason: a brief explanation of your assessment.
  - score: an integer value between 1 and 5 representing the equivalence metric.
  - status: a string indicating the evaluation status. Must be one of:
      - "completed": evaluation was performed normally.
      - "skipped": evaluation was not performed because the query, response, or ground_truth \
is empty or not provided. When skipped, set score to null.
"""


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


def judge(answer: str) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": JUDGE_SYSTEM},
            {"role": "user", "content": JUDGE_USER.format(answer=answer)},
        ],
        "max_tokens": 800,
        "response_format": {"type": "json_object"},
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


@pytest.mark.parametrize("limit_key", ["max_completion_tokens", "max_tokens"])
def test_replies_stop_at_the_token_limit_like_a_real_model(base_url: str, limit_key: str) -> None:
    """Agent Framework sends max_completion_tokens, prompt flow max_tokens: both cut the reply."""
    prompt = "Text: Ana Souza visited New York with Kenji Tanaka."
    status, body = call(f"{base_url}/v1/chat/completions", {**chat(prompt), limit_key: 3}, KEY)
    assert status == 200
    assert body["choices"][0]["message"]["content"] == "Ana Souza, New"
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 3


@pytest.mark.parametrize("limit", [0, -1, "ten", True])
def test_a_token_limit_that_is_not_a_positive_integer_is_a_400(base_url: str, limit: Any) -> None:
    status, body = call(f"{base_url}/v1/chat/completions", {**chat("x"), "max_tokens": limit}, KEY)
    assert status == 400
    assert "'max_tokens' must be a positive integer" in body["error"]["message"]


def test_usage_counts_words_the_same_way_every_time(base_url: str) -> None:
    request = {**chat("Text: Maria Garcia met Tom Lee."), "max_completion_tokens": 100}
    replies = [call(f"{base_url}/v1/chat/completions", request, KEY)[1] for _ in range(2)]
    # "Extract." is 1 word, the user message 6; the fixture reply "Maria Garcia, Tom Lee" 4.
    expected = {"prompt_tokens": 7, "completion_tokens": 4, "total_tokens": 11}
    assert [reply["usage"] for reply in replies] == [expected, expected]
    assert replies[0]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize("route", ["openai", "azure"])
def test_the_openai_sdk_sees_the_limit_and_usage_on_both_routes(base_url: str, route: str) -> None:
    """The clients of both engines: base_url + /v1 (OpenAI) and azure_endpoint (deployments)."""
    openai = pytest.importorskip("openai")
    httpx = pytest.importorskip("httpx")
    http_client = httpx.Client(trust_env=False)
    client = (
        openai.OpenAI(base_url=f"{base_url}/v1", api_key="mock-key", http_client=http_client)
        if route == "openai"
        else openai.AzureOpenAI(
            azure_endpoint=f"{base_url}/",
            api_key="mock-key",
            api_version="2024-12-01-preview",
            http_client=http_client,
        )
    )
    completion = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Text: Maria Garcia met Tom"}],
        max_completion_tokens=2,
    )
    assert completion.choices[0].message.content == "Maria Garcia,"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    usage = completion.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (5, 2, 7)


def test_a_judge_prompt_gets_the_json_verdict_judges_parse(base_url: str) -> None:
    """azure-ai-evaluation judges json.loads the reply and read score and status; anything
    else raises or, for a JSON value without a score, silently yields NaN."""
    url = f"{base_url}/openai/deployments/judge/chat/completions?api-version=2024-12-01-preview"
    replies = [call(url, judge("Maria Garcia, Tom Lee"), KEY)[1] for _ in range(2)]
    verdict = json.loads(replies[0]["choices"][0]["message"]["content"])
    assert set(verdict) == {"reason", "score", "status"}
    assert verdict["status"] == "completed"
    assert type(verdict["score"]) is int
    assert 1 <= verdict["score"] <= 5
    assert replies[1]["choices"][0]["message"] == replies[0]["choices"][0]["message"]
    assert replies[1]["usage"] == replies[0]["usage"]


def test_judge_scores_are_stable_everywhere_and_cover_1_to_5() -> None:
    """sha256, not hash(): str hashes change per process, scores must not."""

    def score(prompt: str) -> int:
        return json.loads(mock_llm.judge_reply(prompt))["score"]

    scores = {score(JUDGE_USER.format(answer=f"Answer {number}")) for number in range(30)}
    assert scores == {1, 2, 3, 4, 5}
    assert [score(text) for text in ("a", "b", "c")] == [1, 2, 4]


def test_a_json_fixture_pins_a_judge_verdict(base_url: str) -> None:
    """Ordinary fixtures never answer a judge (their match occurs in the graded text);
    a fixture whose reply is a JSON object does, so a test can pin a score."""
    _, body = call(f"{base_url}/v1/chat/completions", judge("Pinned answer"), KEY)
    assert body["choices"][0]["message"]["content"] == '{"reason": "pinned", "score": 2}'


@pytest.mark.parametrize(
    "prompt",
    [
        "Text: Maria Garcia met Tom Lee. Reply in JSON.",
        'Text: Maria Garcia met Tom Lee. Give a reason, a score and a status ("completed").',
    ],
)
def test_ordinary_prompts_still_get_their_fixture_reply(base_url: str, prompt: str) -> None:
    _, body = call(f"{base_url}/v1/chat/completions", chat(prompt), KEY)
    assert body["choices"][0]["message"]["content"] == "Maria Garcia, Tom Lee"
