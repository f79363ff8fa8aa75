"""Managed by the LLMOps template. Agent Framework runs from a prompt flow environment.

agent-framework and promptflow cannot share one virtual environment (their
OpenTelemetry pins conflict), so a prompt flow project that moves one use case at a
time keeps a second venv, ``.venv-af`` (``make setup-agent-framework``). When the
packages are missing here, the engine runs each Agent Framework run there: this
module's ``main`` in that venv's Python, with this ``llmops`` on ``PYTHONPATH``. The
request goes over stdin; progress and the outcome come back as stdout lines. Secrets
never travel: the child reads them from the environment it inherits, as the parent
did (``.env`` loaded, or the mock's variables when offline).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from llmops.engine.base import FAILED, Progress, RunOutcome, RunRequest
from llmops.errors import LLMOpsError

SIDE_VENV = ".venv-af"
PROGRESS = "progress "
OUTCOME = "outcome "


def side_python(root: Path) -> Path | None:
    """The Agent Framework venv's Python, when the project has one."""
    for relative_path in ("bin/python", "Scripts/python.exe"):
        candidate = root / SIDE_VENV / relative_path
        if candidate.is_file():
            return candidate
    return None


def run_elsewhere(
    python: Path,
    root: Path,
    folder: Path,
    request: RunRequest,
    connections: list[str],
    progress: Progress | None,
) -> RunOutcome:
    """Run one request in ``python``'s interpreter; relay progress; return its outcome."""
    message = {
        "root": str(root),
        "folder": str(folder),
        "name": folder.name,
        "connections": connections,
        "request": {
            "flow_dir": str(request.flow_dir),
            "data": str(request.data),
            "column_mapping": dict(request.column_mapping),
            "name": request.name,
            "base_run": request.base_run,
            "variant": dict(request.variant),
            "workers": request.workers,
            "line_timeout": request.line_timeout,
        },
    }
    package_parent = str(Path(__file__).resolve().parents[2])  # this llmops, not another
    search_path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as errors:
        child = subprocess.Popen(
            [str(python), "-m", "llmops.engine.af_worker"],
            cwd=root,
            env={**os.environ, "PYTHONPATH": search_path},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps(message))
        child.stdin.close()
        outcome: RunOutcome | None = None
        for line in child.stdout:
            if line.startswith(PROGRESS) and progress is not None:
                progress(int(line[len(PROGRESS) :]))
            elif line.startswith(OUTCOME):
                outcome = RunOutcome(**json.loads(line[len(OUTCOME) :]))
        child.wait()
        if outcome is not None:
            return outcome
        errors.seek(0)
        reason = (errors.read().strip().splitlines() or ["no output"])[-1]
        return RunOutcome(
            run_name=folder.name,
            status=FAILED,
            error=f"the Agent Framework venv {SIDE_VENV} could not run it: {reason}",
        )


def main() -> int:
    """The child side: run the request with this interpreter's packages."""
    from llmops.config import load_connections
    from llmops.connections import resolve_connections
    from llmops.engine.agent_framework import AgentFrameworkEngine

    message: dict[str, Any] = json.loads(sys.stdin.read())
    root = Path(message["root"])
    fields = message["request"]
    request = RunRequest(
        flow_dir=Path(fields["flow_dir"]),
        data=Path(fields["data"]),
        column_mapping=fields["column_mapping"],
        name=fields["name"],
        base_run=fields["base_run"],
        variant=fields["variant"],
        workers=fields["workers"],
        line_timeout=fields["line_timeout"],
    )
    engine = AgentFrameworkEngine(root)
    try:
        names = message["connections"]
        engine.ensure_connections(resolve_connections(names, load_connections(root)))
    except LLMOpsError as error:
        failed = {"run_name": message["name"], "status": FAILED, "error": str(error)}
        print(OUTCOME + json.dumps(failed), flush=True)
        return 0

    def report(done: int) -> None:
        print(f"{PROGRESS}{done}", flush=True)

    outcome = engine.execute(Path(message["folder"]), message["name"], request, report)
    print(OUTCOME + json.dumps(vars(outcome)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
