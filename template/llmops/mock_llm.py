"""Managed by the LLMOps template. A local OpenAI / Azure OpenAI look-alike for offline runs.

Flows reach it through the same connection settings as a real endpoint
(``<NAME>_API_BASE`` / ``<NAME>_API_KEY``), so an offline experiment runs the real
prompt flow code path. It listens on 127.0.0.1 only and never calls out.

Replies come from fixtures: every ``use_cases/*/mock/responses.jsonl`` holds lines
``{"match": "<substring>", "reply": "<text>"}``; the first fixture whose ``match``
occurs in the last user message wins. Otherwise the fallback rule answers with the
capitalised multi-word phrases after the last ``Text:`` marker (or ``None``).
LLM-judge prompts (azure-ai-evaluation's quality evaluators) get the JSON verdict
they parse instead, with a stable score (see ``judge_reply``). Replies honour
``max_completion_tokens`` / ``max_tokens`` (one token = one whitespace-separated
word), and ``usage`` counts the same words, so token numbers are deterministic.
Embeddings are bag-of-words vectors (see ``embed``), so retrieval samples work offline.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from llmops.config import load_connections
from llmops.connections import env_var_names
from llmops.errors import LLMOpsError
from llmops.paths import USE_CASES_DIR

HOST = "127.0.0.1"
EMBEDDING_DIMENSION = 256
WORD = re.compile(r"[a-z0-9]+")
STOP_WORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for"),
        *("from", "how", "i", "in", "is", "it", "of", "on", "or", "the", "to", "what"),
        *("when", "where", "which", "who", "why", "with", "you", "your"),
    }
)
AZURE_ROUTE = re.compile(r"^/openai/deployments/([^/]+)/(chat/completions|embeddings)$")
OPENAI_ROUTE = re.compile(r"^(?:/v1)?/(chat/completions|embeddings)$")
PHRASE = re.compile(r"\b[A-Z][\w'-]*(?: +[A-Z][\w'-]*)+")
TEXT_MARKER = "Text:"
TOKEN = re.compile(r"\S+")
# Every quality-judge prompty of azure-ai-evaluation 1.18 (similarity, relevance, coherence,
# fluency, groundedness, ...) asks for a JSON object with these keys and status values.
JUDGE_MARKERS = ("JSON", "reason", "score", "status", '"completed"', '"skipped"')


@dataclass(frozen=True)
class Fixture:
    """A canned reply for prompts that contain ``match``."""

    match: str
    reply: str


def fixture_files(root: Path) -> list[Path]:
    """All fixture files of a project, in a stable order."""
    return sorted(root.glob(f"{USE_CASES_DIR}/*/mock/responses.jsonl"))


def load_fixtures(paths: Sequence[Path]) -> list[Fixture]:
    """Read fixture files; a bad line is an error naming the file and line."""
    fixtures = []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise LLMOpsError(f"{path}: fixture file not found") from None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                fixtures.append(Fixture(match=str(item["match"]), reply=str(item["reply"])))
            except (json.JSONDecodeError, KeyError, TypeError):
                raise LLMOpsError(
                    f'{path}:{number}: expected {{"match": "...", "reply": "..."}} on each line'
                ) from None
    return fixtures


def fallback_reply(prompt: str) -> str:
    """Capitalised multi-word phrases after the last ``Text:`` marker, comma-separated."""
    _, marker, after = prompt.rpartition(TEXT_MARKER)
    text = after if marker else prompt
    phrases = list(dict.fromkeys(match.group(0) for match in PHRASE.finditer(text)))
    return ", ".join(phrases) if phrases else "None"


def is_judge_prompt(conversation: str) -> bool:
    """Whether a conversation is an LLM-judge prompt asking for a JSON verdict."""
    return all(marker in conversation for marker in JUDGE_MARKERS)


def judge_reply(prompt: str) -> str:
    """The verdict azure-ai-evaluation's judges parse; the score (1-5) is a hash of the prompt.

    Always valid JSON with an integer score and status ``completed``: a judge that
    cannot parse its answer yields NaN or an error, which an offline run must never
    hit. The score is stable across runs and machines, but it is no quality judgement.
    """
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    score = 1 + int.from_bytes(digest[:4], "big") % 5
    reason = f"Mock LLM judge: score {score} comes from a hash of the prompt, not a judgement."
    return json.dumps({"reason": reason, "score": score, "status": "completed"})


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def choose_reply(prompt: str, fixtures: Sequence[Fixture], judge: bool = False) -> str:
    """The first matching fixture's reply, else the fallback rule (or, for a judge, its verdict).

    A judge prompt contains the answer it grades, so ordinary fixtures would match it
    and hand the judge text it cannot parse: for judges only fixtures whose reply is
    a JSON object count (that is how a test pins a judge's verdict).
    """
    for fixture in fixtures:
        if fixture.match in prompt and (not judge or _is_json_object(fixture.reply)):
            return fixture.reply
    return judge_reply(prompt) if judge else fallback_reply(prompt)


def embed(text: str) -> list[float]:
    """A deterministic bag-of-words vector: texts sharing words point the same way.

    Each lower-cased word adds 1 to a dimension picked by a hash of the word, and the
    vector is normalised, so cosine similarity rewards shared words. Retrieval over
    real documents therefore works offline, unlike with random vectors.
    """
    vector = [0.0] * EMBEDDING_DIMENSION
    for word in WORD.findall(text.lower()):
        if word in STOP_WORDS:
            continue
        digest = hashlib.sha256(word.encode("utf-8")).digest()
        vector[int.from_bytes(digest[:4], "big") % EMBEDDING_DIMENSION] += 1.0
    norm = sum(value * value for value in vector) ** 0.5 or 1.0
    return [round(value / norm, 6) for value in vector]


def _message_text(content: Any) -> str:
    if isinstance(content, list):  # content parts: [{"type": "text", "text": "..."}]
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def _message_texts(messages: Any) -> list[tuple[str, str]]:
    if not isinstance(messages, list):
        raise ValueError("'messages' must be a list")
    return [
        (str(message.get("role")), _message_text(message.get("content")))
        for message in messages
        if isinstance(message, dict)
    ]


def _tokens(text: str) -> int:
    return len(TOKEN.findall(text))


def completion_limit(body: dict[str, Any]) -> int | None:
    """The reply length cap: ``max_completion_tokens`` (newer clients) or ``max_tokens``."""
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"'{key}' must be a positive integer")
        return value
    return None


def truncate(reply: str, limit: int | None) -> tuple[str, str]:
    """The reply cut to ``limit`` tokens and the finish reason a real model gives."""
    ends = [match.end() for match in TOKEN.finditer(reply)]
    if limit is None or len(ends) <= limit:
        return reply, "stop"
    return reply[: ends[limit - 1]], "length"


def chat_completion(body: dict[str, Any], model: str, fixtures: Sequence[Fixture]) -> dict:
    """A response shaped like the real ``chat.completion`` object."""
    if body.get("stream"):
        raise ValueError("streaming is not supported by the mock LLM; set stream to false")
    texts = _message_texts(body.get("messages"))
    prompt = next((text for role, text in reversed(texts) if role == "user"), "")
    judge = is_judge_prompt("\n".join(text for _role, text in texts))
    reply, finish_reason = truncate(choose_reply(prompt, fixtures, judge), completion_limit(body))
    prompt_tokens = sum(_tokens(text) for _role, text in texts)
    return {
        "id": f"chatcmpl-mock-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": _tokens(reply),
            "total_tokens": prompt_tokens + _tokens(reply),
        },
    }


def embeddings(body: dict[str, Any], model: str) -> dict:
    """A response shaped like the real embeddings list."""
    texts = body.get("input")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts:
        raise ValueError("'input' must be a string or a non-empty list")
    data = [
        {"object": "embedding", "index": index, "embedding": embed(str(text))}
        for index, text in enumerate(texts)
    ]
    used = sum(_tokens(str(text)) for text in texts)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": used, "total_tokens": used},
    }


class MockLLMServer(ThreadingHTTPServer):
    """The HTTP server; holds fixtures, latency and a request counter (no globals)."""

    daemon_threads = True

    def __init__(self, port: int, fixtures: Sequence[Fixture], latency: float, quiet: bool) -> None:
        super().__init__((HOST, port), _Handler)
        self.fixtures = list(fixtures)
        self.latency = latency
        self.quiet = quiet
        self.request_count = 0
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (Azure api_base = this + "/", OpenAI = this + "/v1")."""
        return f"http://{HOST}:{self.server_address[1]}"

    def count_request(self) -> None:
        """Thread-safe request counter, reported when the server stops."""
        with self._lock:
            self.request_count += 1


class _Handler(BaseHTTPRequestHandler):
    server: MockLLMServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle's algorithm on, the body of every
    # reply after the first on a kept-alive connection waited for the client's delayed
    # ACK, adding ~40 ms per request that no real endpoint adds.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        if urlsplit(self.path).path == "/health":
            self._send(HTTPStatus.OK, {"status": "ok", "requests": self.server.request_count})
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no route for GET {urlsplit(self.path).path}")

    def do_POST(self) -> None:
        self.server.count_request()
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        azure, openai = AZURE_ROUTE.match(path), OPENAI_ROUTE.match(path)
        if not (azure or openai):
            self._error(HTTPStatus.NOT_FOUND, f"no route for POST {path}")
            return
        if not (self.headers.get("api-key") or self.headers.get("Authorization")):
            self._error(HTTPStatus.UNAUTHORIZED, "missing api-key or Authorization header")
            return
        try:
            body = json.loads(raw or b"null")
            if not isinstance(body, dict):
                raise ValueError("the request body must be a JSON object")
            if azure:
                model, operation = azure.group(1), azure.group(2)
            else:
                model, operation = str(body.get("model") or "mock-model"), openai.group(1)
            if operation == "embeddings":
                response = embeddings(body, model)
            else:
                response = chat_completion(body, model, self.server.fixtures)
        except ValueError as error:  # json.JSONDecodeError is a ValueError
            self._error(HTTPStatus.BAD_REQUEST, f"bad request: {error}")
            return
        if self.server.latency > 0:
            time.sleep(self.server.latency)
        self._send(HTTPStatus.OK, response)

    def _error(self, status: HTTPStatus, message: str) -> None:
        error_type = "invalid_request_error" if status != HTTPStatus.UNAUTHORIZED else "auth"
        self._send(status, {"error": {"message": message, "type": error_type, "code": status}})

    def _send(self, status: HTTPStatus, payload: dict) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        # Method, path and status only; headers (which carry keys) are never logged.
        if not self.server.quiet:
            sys.stderr.write(f"mock-llm: {format % args}\n")


def create_server(
    port: int = 0,
    fixtures: Sequence[Fixture] = (),
    latency: float = 0.0,
    quiet: bool = True,
) -> MockLLMServer:
    """Bind the mock to 127.0.0.1:<port> (0 = a free port)."""
    try:
        return MockLLMServer(port, fixtures, latency, quiet)
    except OSError as error:
        raise LLMOpsError(f"cannot listen on {HOST}:{port}: {error.strerror}") from None


@contextlib.contextmanager
def start_in_background(
    port: int = 0,
    fixtures: Sequence[Fixture] = (),
    latency: float = 0.0,
    quiet: bool = True,
) -> Iterator[tuple[MockLLMServer, str]]:
    """Serve from a daemon thread for the duration of a ``with`` block."""
    server = create_server(port, fixtures, latency, quiet)
    thread = threading.Thread(target=server.serve_forever, name="mock-llm", daemon=True)
    thread.start()
    try:
        yield server, server.base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def serve_forever(port: int = 8765, fixtures: Sequence[Fixture] = (), latency: float = 0.0) -> int:
    """Serve in the foreground until Ctrl+C or SIGTERM; used by ``llmops mock-llm``."""
    import signal

    server = create_server(port, fixtures, latency, quiet=False)

    def _stop(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print(
        f"mock LLM on {server.base_url} with {len(fixtures)} fixture(s); "
        f"Azure api_base={server.base_url}/ OpenAI base_url={server.base_url}/v1 "
        "(any non-empty key); Ctrl+C stops it",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print(f"mock LLM stopped after {server.request_count} request(s)", flush=True)
    return 0


@contextlib.contextmanager
def start_in_subprocess(root: Path, latency: float = 0.0) -> Iterator[str]:
    """Serve from a child ``llmops mock-llm`` (with ``root``'s fixtures) for a ``with`` block.

    Like a real endpoint, the mock then takes no CPU or GIL time from the calling
    process, so what the benchmark measures there is llmops and prompt flow alone.
    """
    package_parent = str(Path(__file__).resolve().parent.parent)
    search_path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "llmops", "mock-llm", "--port", "0"]
    command += ["--latency", str(latency)]
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as errors:
        child = subprocess.Popen(
            command,
            cwd=root,
            env={**os.environ, "PYTHONPATH": search_path},
            stdout=subprocess.PIPE,
            stderr=errors,  # one line per request: a pipe nobody reads would fill up
            text=True,
        )
        try:
            banner = child.stdout.readline() if child.stdout else ""
            found = re.search(r"mock LLM on (http://\S+) ", banner)
            if not found:
                child.wait(timeout=10)
                errors.seek(0)
                reason = (errors.read().strip().splitlines() or [banner.strip() or "no output"])[-1]
                raise LLMOpsError(f"the mock LLM process did not start: {reason}")
            yield found.group(1)
        finally:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            if child.stdout:
                child.stdout.close()


@contextlib.contextmanager
def connections_pointed_at(root: Path, base_url: str) -> Iterator[list[str]]:
    """Point every connection of the project at the mock on ``base_url`` for a ``with`` block.

    Sets ``<NAME>_API_BASE`` and ``<NAME>_API_KEY`` exactly as a user would for a
    real endpoint, and restores the previous values afterwards. Yields the names.
    """
    specs = load_connections(root)
    values = {}
    for spec in specs:
        base_var, key_var = env_var_names(spec.name)
        values[base_var] = f"{base_url}/" if spec.type == "azure_openai" else f"{base_url}/v1"
        values[key_var] = "mock-key"
    for proxy_var in ("NO_PROXY", "no_proxy"):  # a CI proxy must not intercept loopback
        values[proxy_var] = ",".join(filter(None, [os.environ.get(proxy_var), HOST]))
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield [spec.name for spec in specs]
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def offline_connections(
    root: Path, echo: Callable[[str], None] = print, latency: float = 0.0
) -> Iterator[str]:
    """Start the mock in this process and point every connection at it for a ``with`` block."""
    fixtures = load_fixtures(fixture_files(root))
    with (
        start_in_background(fixtures=fixtures, latency=latency) as (server, base_url),
        connections_pointed_at(root, base_url) as names,
    ):
        echo(
            f"[mock] local mock LLM on {base_url} ({len(fixtures)} fixtures) for "
            f"connection(s) {', '.join(names)}"
        )
        try:
            yield base_url
        finally:
            echo(f"[mock] served {server.request_count} request(s)")
