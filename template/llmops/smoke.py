"""Managed by the LLMOps template. Smoke stage: one real request, and assertions on the answer.

The request is the use case's ``sample-request.json``. A deployment passes when:

1. the HTTP status is 200;
2. the body is a JSON object;
3. it has every output the standard flow declares (``outputs`` of flow.dag.yaml);
4. no declared output is empty (``null``, ``""``, ``[]`` or ``{}``).

Only output names and sizes are printed, never the answer's text or any credential.
``llmops deploy`` runs this before and after shifting traffic and rolls back on failure.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops.errors import LLMOpsError

Invoke = Callable[["SmokeRequest"], tuple[int | None, str]]
"""Send the request; returns ``(HTTP status or None when unreachable, body)``."""
RETRY_STATUSES = frozenset({None, 408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class SmokeRequest:
    """The request body and the outputs the answer must carry."""

    file: Path
    payload: dict[str, Any]
    outputs: frozenset[str]


@dataclass
class SmokeResult:
    """Outcome of one smoke test; ``problems`` is empty when it passed."""

    status: int | None
    problems: list[str] = field(default_factory=list)
    summary: str = ""

    @property
    def passed(self) -> bool:
        """True when every assertion held."""
        return not self.problems


def load_request(path: Path, outputs: frozenset[str], shown: str) -> SmokeRequest:
    """Read and check the request file before anything is deployed."""
    if not path.is_file():
        raise LLMOpsError(f"{shown}: not found (the smoke test posts it to the deployment)")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise LLMOpsError(f"{shown}:{error.lineno}: not valid JSON: {error.msg}") from None
    if not isinstance(payload, dict) or not payload:
        raise LLMOpsError(f"{shown}: expected a JSON object with the flow's inputs")
    if not outputs:
        raise LLMOpsError(f"{shown}: the flow declares no outputs, so there is nothing to check")
    return SmokeRequest(file=path, payload=payload, outputs=outputs)


def is_empty(value: Any) -> bool:
    """An answer nobody would accept: missing, blank, or an empty collection."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict) and not value


def describe(value: Any) -> str:
    """Type and size of an output, never its content."""
    if isinstance(value, str):
        return f"text, {len(value)} characters"
    if isinstance(value, list | dict):
        return f"{type(value).__name__}, {len(value)} items"
    return type(value).__name__


def check_response(request: SmokeRequest, status: int | None, body: str) -> SmokeResult:
    """Apply the four assertions to one response."""
    if status != 200:
        reason = "unreachable" if status is None else f"HTTP {status}"
        first = body.strip().splitlines()[0][:200] if body.strip() else "no body"
        return SmokeResult(status, [f"{reason}: {first}"])
    try:
        answer = json.loads(body)
    except json.JSONDecodeError:
        return SmokeResult(status, ["the response is not JSON"])
    if not isinstance(answer, dict):
        return SmokeResult(
            status, [f"the response is a JSON {type(answer).__name__}, not an object"]
        )
    problems = [
        f"output '{name}' is missing" for name in sorted(request.outputs) if name not in answer
    ]
    problems += [
        f"output '{name}' is empty"
        for name in sorted(request.outputs)
        if name in answer and is_empty(answer[name])
    ]
    summary = ", ".join(f"{name} ({describe(answer[name])})" for name in sorted(answer))
    return SmokeResult(status, problems, f"HTTP 200: {summary}")


def run_smoke(
    invoke: Invoke,
    request: SmokeRequest,
    attempts: int = 1,
    wait_seconds: float = 10.0,
    sleep: Callable[[float], None] | None = None,
) -> SmokeResult:
    """Invoke and check; retry only while the service is unreachable or starting."""
    result = SmokeResult(None, ["not invoked"])
    for attempt in range(1, max(attempts, 1) + 1):
        status, body = invoke(request)
        result = check_response(request, status, body)
        if result.passed or status not in RETRY_STATUSES or attempt == attempts:
            return result
        (sleep or time.sleep)(wait_seconds)
    return result


def http_invoker(url: str, timeout: float = 120.0) -> Invoke:
    """POST the payload as JSON to ``url`` (a container or an App Service /score route)."""

    def invoke(request: SmokeRequest) -> tuple[int | None, str]:
        data = json.dumps(request.payload).encode()
        post = urllib.request.Request(
            url, data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(post, timeout=timeout) as response:
                return int(response.status), response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode("utf-8", "replace")
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            return None, str(getattr(error, "reason", error))

    return invoke


def report(result: SmokeResult, target: str, echo: Callable[[str], None] = print) -> None:
    """One line on success; one line per failed assertion otherwise."""
    if result.passed:
        echo(f"[smoke] {target}: passed ({result.summary})")
        return
    echo(f"[smoke] {target}: FAILED")
    for problem in result.problems:
        echo(f"[smoke]   {problem}")
