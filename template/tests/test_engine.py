"""Managed by the LLMOps template. The prompt flow engine: offline set-up and flow reading."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import write

from llmops.engine import get_engine
from llmops.engine.base import COMPLETED, FAILED, FlowEngine, RunOutcome, RunRequest
from llmops.engine.promptflow_engine import _SharedFolder, batch_options, prepare_environment
from llmops.errors import LLMOpsError

# Skipped in Agent Framework projects, which do not install prompt flow.
pytestmark = pytest.mark.promptflow

PYTHON_FLOW = """\
inputs:
  text:
    type: string
outputs:
  loud:
    type: string
    reference: ${shout.output}
nodes:
  - name: shout
    type: python
    source:
      type: code
      path: shout.py
    inputs:
      text: ${inputs.text}
"""
SHOUT = """\
import time
from pathlib import Path

from promptflow.core import tool
from tone import TONE  # a sibling module: each flow folder has its own


@tool
def shout(text: str) -> str:
    if text == "boom":
        raise ValueError("boom")
    if text == "slow":
        time.sleep(4)
    return text.upper() + Path("mark.txt").read_text() + TONE  # mark.txt: in the working folder
"""
ISOLATE = ("PF_HOME_DIRECTORY", "PYTHON_KEYRING_BACKEND", "KEYRING_PROPERTY_FILE_PATH")


def test_environment_keeps_prompt_flow_state_in_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ: dict[str, str] = {}
    monkeypatch.setattr(os, "environ", environ)
    home = prepare_environment(tmp_path)
    assert home == tmp_path / ".llmops" / "pf-home"
    assert environ["PF_HOME_DIRECTORY"] == str(home)
    assert environ["APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED"] == "true"
    assert environ["PYTHON_KEYRING_BACKEND"] == "keyrings.alt.file.PlaintextKeyring"
    assert environ["KEYRING_PROPERTY_FILE_PATH"] == str(home / "keyring_pass.cfg")
    config = (home / "pf.yaml").read_text()
    assert "enabled: false" in config and "destination: none" in config
    seeded = json.loads((home / "pf_version_check.json").read_text())
    assert seeded["last_check_time"] and seeded["current_version"] == seeded["latest_version"]


def test_a_chosen_keyring_backend_is_respected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = {"PYTHON_KEYRING_BACKEND": "keyring.backends.macOS.Keyring"}
    monkeypatch.setattr(os, "environ", environ)
    prepare_environment(tmp_path)
    assert environ["PYTHON_KEYRING_BACKEND"] == "keyring.backends.macOS.Keyring"
    assert "KEYRING_PROPERTY_FILE_PATH" not in environ


def test_describe_reads_inputs_outputs_and_connections(project: Path) -> None:
    engine = get_engine(root=project)
    standard = engine.describe(project / "use_cases/demo/flows/standard")
    assert standard.inputs == {"text": False, "entity_type": False}
    assert standard.outputs == {"entities"}
    assert standard.connections == {"aoai"}
    evaluation = engine.describe(project / "use_cases/demo/flows/evaluation")
    assert evaluation.required_inputs == ["entities", "ground_truth"]


def test_describe_without_a_flow_file(project: Path) -> None:
    folder = write(project / "use_cases/demo/flows/empty/README.md", "nothing here\n").parent
    with pytest.raises(LLMOpsError, match=r"flows/empty/flow\.dag\.yaml: not found"):
        get_engine(root=project).describe(folder)


def test_unknown_engine_name(project: Path) -> None:
    with pytest.raises(LLMOpsError, match="unknown flow engine 'nope'"):
        get_engine("nope", root=project)


def test_batch_options_travel_with_the_run_not_the_environment() -> None:
    base = RunRequest(flow_dir=Path("f"), data=Path("d"), column_mapping={}, name="r")
    assert batch_options(base) == {"batch_use_async": True}
    isolated = RunRequest(
        flow_dir=Path("f"),
        data=Path("d"),
        column_mapping={},
        name="r",
        workers=8,
        line_timeout=30,
        executor="processes",
    )
    assert batch_options(isolated) == {
        "batch_use_async": False,
        "worker_count": 8,
        "line_timeout_sec": 30,
    }


def test_runs_of_one_folder_share_it_and_another_folder_waits(tmp_path: Path) -> None:
    first, second = (tmp_path / "a").resolve(), (tmp_path / "b").resolve()
    first.mkdir()
    second.mkdir()
    start = Path.cwd()
    folder = _SharedFolder()
    both_in = threading.Barrier(3, timeout=30)
    release = threading.Event()
    seen: dict[str, Path] = {}

    def run_in(key: str, path: Path, name: str) -> None:
        with folder.use(key, path):
            seen[name] = Path.cwd()
            if key == "a":
                both_in.wait()  # both runs of folder a are inside together
                assert release.wait(timeout=30)

    runs = [
        threading.Thread(target=run_in, args=("a", first, "a1")),
        threading.Thread(target=run_in, args=("a", first, "a2")),
    ]
    for thread in runs:
        thread.start()
    both_in.wait()
    other = threading.Thread(target=run_in, args=("b", second, "b"))
    other.start()
    other.join(timeout=0.5)
    assert other.is_alive() and "b" not in seen  # waits while folder a is in use
    release.set()
    for thread in [*runs, other]:
        thread.join(timeout=30)
    assert seen == {"a1": first, "a2": first, "b": second}
    assert Path.cwd() == start


def _python_flow(root: Path, folder: str, mark: str) -> Path:
    flow = write(root / folder / "flow.dag.yaml", PYTHON_FLOW).parent
    write(flow / "shout.py", SHOUT)
    write(flow / "mark.txt", mark)
    write(flow / "tone.py", f"TONE = {mark!r}\n")
    return flow


def _isolated_engine(root: Path, monkeypatch: pytest.MonkeyPatch) -> FlowEngine:
    for name in ISOLATE:
        monkeypatch.setenv(name, "")  # recorded, so the engine's values are undone later
        monkeypatch.delenv(name)
    monkeypatch.chdir(root)
    return get_engine(root=root)


@pytest.mark.e2e
@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_a_failed_line_fails_alone_in_either_executor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, executor: str
) -> None:
    engine = _isolated_engine(tmp_path, monkeypatch)
    flow = _python_flow(tmp_path, "flow", "!")
    data = write(tmp_path / "data.jsonl", '{"text": "a"}\n{"text": "boom"}\n{"text": "b"}\n')
    request = RunRequest(
        flow_dir=flow,
        data=data,
        column_mapping={"text": "${data.text}"},
        name=f"shout_{executor}",
        workers=2,
        executor=executor,
    )
    outcome = engine.run(request)
    assert outcome.status == COMPLETED, outcome.error
    assert (outcome.details["lines_completed"], outcome.details["lines_failed"]) == (2, 1)
    lines = engine.line_results(outcome.run_name)
    assert [line["outputs"].get("loud") for line in lines] == ["A!!", "(Failed)", "B!!"]
    assert Path.cwd() == tmp_path


@pytest.mark.e2e
def test_a_line_past_its_timeout_with_threads_fails_the_run_and_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _isolated_engine(tmp_path, monkeypatch)
    flow = _python_flow(tmp_path, "flow", "!")
    data = write(tmp_path / "data.jsonl", '{"text": "a"}\n{"text": "slow"}\n')
    request = RunRequest(flow, data, {"text": "${data.text}"}, "late", line_timeout=1)
    outcome = engine.run(request)
    assert outcome.status == FAILED
    assert "line timeout" in outcome.error and "executor: processes" in outcome.error


@pytest.mark.e2e
def test_concurrent_real_runs_each_use_their_own_flow_folder_and_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _isolated_engine(tmp_path, monkeypatch)
    flows = {"one": _python_flow(tmp_path, "one", "1"), "two": _python_flow(tmp_path, "two", "2")}
    data = write(tmp_path / "data.jsonl", '{"text": "a"}\n{"text": "b"}\n')
    outcomes: dict[str, RunOutcome] = {}

    def run(name: str, flow: str) -> None:
        request = RunRequest(flows[flow], data, {"text": "${data.text}"}, name, workers=2)
        outcomes[name] = engine.run(request)

    threads = [
        threading.Thread(target=run, args=(name, flow))
        for name, flow in [("one_a", "one"), ("one_b", "one"), ("two_a", "two")]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert sorted(outcomes) == ["one_a", "one_b", "two_a"]
    for name, outcome in outcomes.items():
        assert outcome.status == COMPLETED, outcome.error
        mark = "1" if name.startswith("one") else "2"
        lines = engine.line_results(outcome.run_name)
        assert [line["outputs"]["loud"] for line in lines] == [f"A{mark}{mark}", f"B{mark}{mark}"]
    assert Path.cwd() == tmp_path


def test_a_keyless_azure_connection_signs_in_with_entra_id(project: Path) -> None:
    pytest.importorskip("promptflow")
    from llmops.connections import ResolvedConnection
    from llmops.engine.promptflow_engine import PromptflowEngine

    stored: list = []
    engine = PromptflowEngine(project)
    # A stand-in client: the real one's operations send telemetry from inside pytest.
    engine._client = SimpleNamespace(connections=SimpleNamespace(create_or_update=stored.append))
    keyless = ResolvedConnection(
        name="aoai",
        type="azure_openai",
        deployment="d",
        api_base="https://x.openai.azure.com/",
        api_version="2024-10-21",
        api_key="",
    )
    engine.ensure_connections([keyless])
    (entity,) = stored
    assert entity.auth_mode == "meid_token" and entity.api_base == "https://x.openai.azure.com/"
