"""Managed by the LLMOps template. Smoke tests assert on the answer, not just on "no exception"."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from azure_fakes import GOOD_ANSWER, SDK_WARNINGS, FakeML, deploy_project, fake_services

from llmops import azure, cli
from llmops.azure import WebAppState
from llmops.errors import LLMOpsError
from llmops.smoke import (
    SmokeRequest,
    check_response,
    http_invoker,
    load_request,
    run_smoke,
)

pytestmark = SDK_WARNINGS

REQUEST = SmokeRequest(Path("sample-request.json"), {"text": "x"}, frozenset({"entities"}))


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (200, '{"entities": ["Tom"]}', None),
        (500, "boom", "HTTP 500: boom"),
        (None, "connection refused", "unreachable: connection refused"),
        (200, "<html>", "the response is not JSON"),
        (200, '["Tom"]', "the response is a JSON list, not an object"),
        (200, '{"answer": "Tom"}', "output 'entities' is missing"),
        (200, '{"entities": []}', "output 'entities' is empty"),
        (200, '{"entities": "  "}', "output 'entities' is empty"),
        (200, '{"entities": null}', "output 'entities' is empty"),
    ],
)
def test_each_assertion(status: int | None, body: str, problem: str | None) -> None:
    result = check_response(REQUEST, status, body)
    assert result.problems == ([problem] if problem else [])


def test_summary_shows_sizes_not_content() -> None:
    result = check_response(REQUEST, 200, '{"entities": ["Maria Garcia", "Tom Lee"]}')
    assert result.summary == "HTTP 200: entities (list, 2 items)"
    assert "Maria" not in result.summary


def test_retries_only_while_the_service_is_starting() -> None:
    answers = iter([(503, "starting"), (None, "refused"), (200, '{"entities": ["a"]}')])
    slept: list[float] = []
    result = run_smoke(lambda _r: next(answers), REQUEST, attempts=5, sleep=slept.append)
    assert result.passed and len(slept) == 2
    wrong = iter([(200, '{"entities": []}'), (200, '{"entities": ["a"]}')])
    result = run_smoke(lambda _r: next(wrong), REQUEST, attempts=5, sleep=slept.append)
    assert not result.passed  # a wrong answer is not retried


def test_request_file_problems_are_clear(tmp_path: Path) -> None:
    path = tmp_path / "sample-request.json"
    with pytest.raises(LLMOpsError, match="not found"):
        load_request(path, frozenset({"entities"}), "sample-request.json")
    path.write_text("{broken")
    with pytest.raises(LLMOpsError, match=r"sample-request.json:1: not valid JSON"):
        load_request(path, frozenset({"entities"}), "sample-request.json")
    path.write_text("[]")
    with pytest.raises(LLMOpsError, match="expected a JSON object"):
        load_request(path, frozenset({"entities"}), "sample-request.json")


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict]]]:
    """A stand-in flow server on 127.0.0.1 that records the bodies it receives."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            body = json.dumps({"entities": ["Maria Garcia"]}).encode()
            self.send_response(200 if self.path == "/score" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", received
    httpd.shutdown()


def test_http_invoker_posts_the_request(server: tuple[str, list[dict]]) -> None:
    url, received = server
    result = run_smoke(http_invoker(f"{url}/score"), REQUEST)
    assert result.passed and received == [{"text": "x"}]
    assert run_smoke(http_invoker(f"{url}/other"), REQUEST).problems[0].startswith("HTTP 404")


def test_cli_smoke_against_a_url(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    server: tuple[str, list[dict]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    deploy_project(project, monkeypatch)
    monkeypatch.setattr("llmops.cli_azure.get_engine", _fake_engine)
    url, received = server
    assert cli.main(["smoke", "--env", "dev", "--url", f"{url}/score"]) == 0
    assert "passed (HTTP 200: entities (list, 1 items))" in capsys.readouterr().out
    assert received == [{"text": "Maria Garcia met Tom Lee.", "entity_type": "person"}]
    assert cli.main(["smoke", "--env", "dev", "--url", f"{url}/wrong"]) == 1
    assert cli.main(["smoke", "--env", "dev", "--dry-run"]) == 0
    assert "outputs present: entities" in capsys.readouterr().out


def _fake_engine(**_kwargs: object) -> object:
    from conftest import FakeEngine

    return FakeEngine()


def test_cli_smoke_checks_every_serving_target(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy_project(project, monkeypatch)
    overlay = project / "config" / "deployment.yaml"
    overlay.write_text("environments:\n  dev:\n    targets: [aml_managed, app_service, docker]\n")
    for name in ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZURE_ML_WORKSPACE"):
        monkeypatch.setenv(name, "set")
    ml = FakeML().with_endpoint("demo-dev-demo", {"rev-a": 90, "rev-b": 10})
    services = fake_services(ml=ml)
    services.web_apps.apps["app-demo-dev-demo"] = WebAppState(  # type: ignore[attr-defined]
        "app-demo-dev-demo", "image", "app.example"
    )
    urls: list[str] = []

    def invoker(url: str, timeout: float) -> object:
        urls.append(url)
        return lambda _request: GOOD_ANSWER

    monkeypatch.setattr(azure, "connect", lambda _settings: services)
    monkeypatch.setattr("llmops.cli_azure.get_engine", _fake_engine)
    monkeypatch.setattr("llmops.deploy.http_invoker", invoker)
    assert cli.main(["smoke", "--env", "dev"]) == 0
    assert [c for c in ml.calls if c[0] == "invoke"] == [("invoke", "demo-dev-demo", "rev-a")]
    assert urls == ["https://app.example/score"]
    overlay.write_text("environments:\n  dev:\n    targets: [docker]\n")
    capsys.readouterr()
    assert cli.main(["smoke", "--env", "dev"]) == 0
    assert "only build an image; nothing to test" in capsys.readouterr().out


def test_cli_smoke_all_covers_every_use_case(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's `llmops smoke --env ENV` used to exit 2 in a project of two use cases."""
    deploy_project(project, monkeypatch)
    shutil.copytree(project / "use_cases" / "demo", project / "use_cases" / "other")
    write_name(project / "use_cases" / "other" / "experiment.yaml", "demo", "other")
    monkeypatch.setattr("llmops.cli_azure.get_engine", _fake_engine)
    assert cli.main(["smoke", "--env", "dev", "--dry-run"]) == 2
    assert "--use-case" in capsys.readouterr().err
    assert cli.main(["smoke", "--env", "dev", "--dry-run", "--all"]) == 0
    out = capsys.readouterr().out
    assert out.count("--- # smoke aml_managed") == 2
    assert "[smoke] 2 use cases: demo ok, other ok" in out
    assert cli.main(["smoke", "--env", "dev", "--all", "--url", "http://127.0.0.1:9/score"]) == 2
    assert capsys.readouterr().err.count("--url tests one deployment") == 1


def write_name(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(f"name: {old}", f"name: {new}"))
