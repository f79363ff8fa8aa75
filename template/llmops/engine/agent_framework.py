"""Managed by the LLMOps template. The Microsoft Agent Framework implementation of ``FlowEngine``.

A flow folder with a ``workflow.yaml`` is a standard flow (a workflow factory run once
per line); one with an ``evaluator.yaml`` is an evaluation flow (an azure-ai-evaluation
built-in or a code evaluator, optionally aggregated). ``describe`` reads the manifests
and compiles the prompt files without importing user code; runs import agent-framework
and azure-ai-evaluation only when they start (see ``af_runner``).

Results live under ``.llmops/af-runs/<run>/``: ``lines.jsonl`` (inputs, outputs,
error, and tokens/latency per line), ``metrics.json`` and ``run.json``, so reports and
gates read them without the engine's packages.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import time
from pathlib import Path
from typing import Any

from llmops.connections import ResolvedConnection
from llmops.engine.af_manifest import (
    EVALUATOR_FILE,
    WORKFLOW_FILE,
    EvaluatorManifest,
    WorkflowManifest,
    load_manifest,
)
from llmops.engine.base import (
    COMPLETED,
    FAILED,
    FlowSignature,
    NodeVariants,
    Progress,
    RunOutcome,
    RunRequest,
)
from llmops.errors import LLMOpsError
from llmops.paths import relative, state_dir

RUNS_DIR = "af-runs"
DEFAULT_WORKERS = 8
DEFAULT_LINE_TIMEOUT = 600
MAX_NAME_ATTEMPTS = 20
ERRORS_SHOWN = 3


def packages_installed() -> bool:
    """Whether agent-framework can be imported here (a prompt flow venv cannot hold it)."""
    return importlib.util.find_spec("agent_framework") is not None


def is_agent_framework_flow(flow_dir: Path) -> bool:
    """True when the folder holds an Agent Framework manifest."""
    return (flow_dir / WORKFLOW_FILE).is_file() or (flow_dir / EVALUATOR_FILE).is_file()


def refuse_outside_local_runs(flow_dir: Path, shown: str, command: str) -> None:
    """Until registration and serving support them, name the flow instead of failing late.

    (A stop-gap for ``register-flow`` and ``deploy``: prompt flow's model properties and
    serving image would otherwise be applied to a workflow.)
    """
    if is_agent_framework_flow(flow_dir):
        raise LLMOpsError(
            f"{shown} is an Agent Framework flow: `llmops {command}` handles prompt flow use "
            "cases only for now (Agent Framework registration and serving come next); "
            "`llmops experiment` runs it locally"
        )


class AgentFrameworkEngine:
    """Runs Agent Framework workflows and azure-ai-evaluation evaluators on this machine."""

    name = "agent_framework"

    def __init__(self, root: Path) -> None:
        self.root = root
        self._connections: dict[str, ResolvedConnection] = {}

    def allows_concurrent_runs(self, executor: str) -> bool:
        """Every run has its own loop and state, so runs may overlap in threads."""
        return True

    def describe(self, flow_dir: Path) -> FlowSignature:
        """Inputs, outputs, connections, variants and metrics from the manifest."""
        if (flow_dir / EVALUATOR_FILE).is_file():
            evaluator = load_manifest(flow_dir / EVALUATOR_FILE, self.root, EvaluatorManifest)
            self._check_files(evaluator, flow_dir)
            return FlowSignature(
                inputs=evaluator.input_defaults,
                outputs=evaluator.line_outputs,
                outputs_known=bool(evaluator.builtin or evaluator.outputs),
                connections=evaluator.connections,
                metrics=evaluator.metric_names,
                kind="evaluator",
            )
        path = flow_dir / WORKFLOW_FILE
        if not path.is_file():
            raise LLMOpsError(
                f"{relative(path, self.root)}: not found (an Agent Framework flow folder needs "
                f"a {WORKFLOW_FILE} or an {EVALUATOR_FILE})"
            )
        manifest = load_manifest(path, self.root, WorkflowManifest)
        self._check_files(manifest, flow_dir)
        from llmops.engine.af_runner import load_prompts

        load_prompts(manifest, flow_dir, self.root)
        return FlowSignature(
            inputs={name: spec.has_default for name, spec in manifest.inputs.items()},
            outputs=frozenset(manifest.outputs),
            connections=manifest.connections,
            variants={
                name: NodeVariants(default=node.default_variant or "", ids=tuple(node.variants))
                for name, node in manifest.nodes.items()
                if node.variants
            },
            kind="workflow",
        )

    def _check_files(self, manifest: WorkflowManifest | EvaluatorManifest, flow_dir: Path) -> None:
        """Every Python file the manifest names exists (its code is not imported here)."""
        shown = relative(flow_dir / _manifest_file(manifest), self.root)
        references = []
        if isinstance(manifest, WorkflowManifest):
            references.append(("workflow", manifest.workflow))
        else:
            if manifest.function:
                references.append(("function", manifest.function))
            if manifest.aggregate:
                references.append(("aggregate.function", manifest.aggregate.function))
        for key, reference in references:
            file_name = reference.partition(":")[0]
            if not (flow_dir / file_name).is_file():
                raise LLMOpsError(f"{shown}: {key}: {file_name} not found in the flow folder")

    def ensure_connections(self, connections: list[ResolvedConnection]) -> None:
        """Keep the resolved connections; clients are built per run from them."""
        self._connections.update({connection.name: connection for connection in connections})

    def run(self, request: RunRequest, progress: Progress | None = None) -> RunOutcome:
        """Run here when the packages are installed, else in the Agent Framework venv."""
        folder, name = self._new_run_folder(request.name)
        if not packages_installed():
            from llmops.engine.af_worker import run_elsewhere, side_python

            python = side_python(self.root)
            if python is not None:
                names = sorted(self._connections)
                return run_elsewhere(python, self.root, folder, request, names, progress)
        return self.execute(folder, name, request, progress)

    def execute(
        self, folder: Path, name: str, request: RunRequest, progress: Progress | None
    ) -> RunOutcome:
        """Run every line on an asyncio loop in this thread; record lines as they end."""
        started = time.monotonic()
        if not packages_installed():
            missing = _missing_package("agent_framework")
            return self._save(folder, name, [], {}, started, error=missing)
        try:
            records, metrics = asyncio.run(self._run(request, progress))
        except LLMOpsError as error:
            return self._save(folder, name, [], {}, started, error=str(error))
        except ImportError as error:
            package = (error.name or str(error)).split(".")[0]
            return self._save(folder, name, [], {}, started, error=_missing_package(package))
        return self._save(folder, name, records, metrics, started)

    async def _run(
        self, request: RunRequest, progress: Progress | None
    ) -> tuple[list[dict[str, Any]], dict[str, float]]:
        from llmops.engine import af_runner
        from llmops.engine.af_code import flow_package

        flow_dir = request.flow_dir
        shown = relative(request.data, self.root)
        rows = af_runner.load_rows(request.data, shown)
        base = self.line_results(request.base_run) if request.base_run else None
        lines = af_runner.Lines(rows=rows, mapping=request.column_mapping, base=base)
        done = 0

        def on_done(_record: dict[str, Any]) -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done)

        workers = request.workers or DEFAULT_WORKERS
        timeout = float(request.line_timeout or DEFAULT_LINE_TIMEOUT)
        with flow_package(flow_dir) as package:
            if (flow_dir / EVALUATOR_FILE).is_file():
                manifest = load_manifest(flow_dir / EVALUATOR_FILE, self.root, EvaluatorManifest)
                evaluator = af_runner.EvaluationRunner(
                    manifest, flow_dir, self.root, package, self._connections
                )
                records = await af_runner.run_lines(
                    lines, evaluator, workers, timeout, flow_dir, self.root, on_done
                )
                completed = [record for record in records if not record.get("error")]
                return records, evaluator.metrics(completed) if completed else {}
            manifest = load_manifest(flow_dir / WORKFLOW_FILE, self.root, WorkflowManifest)
            self._check_variant(manifest, dict(request.variant), flow_dir)
            clients = af_runner.ChatClients(self._connections)
            try:
                runner = af_runner.StandardRunner(
                    manifest, flow_dir, self.root, package, request.variant, clients
                )
                records = await af_runner.run_lines(
                    lines, runner, workers, timeout, flow_dir, self.root, on_done
                )
            finally:
                await clients.close()
            return records, {}

    def _check_variant(
        self, manifest: WorkflowManifest, variant: dict[str, str], flow_dir: Path
    ) -> None:
        shown = relative(flow_dir / WORKFLOW_FILE, self.root)
        for node, variant_id in variant.items():
            spec = manifest.nodes.get(node)
            if spec is None or variant_id not in spec.variants:
                raise LLMOpsError(f"{shown}: no variant {node}.{variant_id}")

    def _new_run_folder(self, name: str) -> tuple[Path, str]:
        runs = state_dir(self.root) / RUNS_DIR
        runs.mkdir(parents=True, exist_ok=True)
        candidate = name
        for attempt in range(2, MAX_NAME_ATTEMPTS + 2):
            try:
                (runs / candidate).mkdir()
                return runs / candidate, candidate
            except FileExistsError:
                candidate = f"{name}_{attempt}"
        raise LLMOpsError(f"no free run name for {name} under {relative(runs, self.root)}")

    def _save(
        self,
        folder: Path,
        name: str,
        records: list[dict[str, Any]],
        metrics: dict[str, float],
        started: float,
        error: str = "",
    ) -> RunOutcome:
        failed = [record for record in records if record.get("error")]
        completed = len(records) - len(failed)
        if failed and not error:
            error = f"{len(failed)} of {len(records)} line(s) failed: {_first_errors(failed)}"
        status = COMPLETED if completed and not (error and not records) else FAILED
        with (folder / "lines.jsonl").open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, default=str) + "\n")
        (folder / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        summary = {
            "status": status,
            "error": error,
            "lines_completed": completed,
            "lines_failed": len(failed),
            "seconds": round(time.monotonic() - started, 3),
            "pid": os.getpid(),
        }
        (folder / "run.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        details = {
            "lines_completed": completed,
            "lines_failed": len(failed),
            "log": relative(folder / "lines.jsonl", self.root),
        }
        return RunOutcome(run_name=name, status=status, error=error, details=details)

    def line_results(self, run_name: str) -> list[dict[str, Any]]:
        """Each line's inputs and outputs (and error, and usage) from ``lines.jsonl``."""
        path = state_dir(self.root) / RUNS_DIR / run_name / "lines.jsonl"
        if not path.is_file():
            raise LLMOpsError(f"run {run_name} has no results ({relative(path, self.root)})")
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def metrics(self, run_name: str) -> dict[str, float]:
        """The evaluation run's metrics from ``metrics.json``."""
        path = state_dir(self.root) / RUNS_DIR / run_name / "metrics.json"
        if not path.is_file():
            raise LLMOpsError(f"run {run_name} has no metrics ({relative(path, self.root)})")
        values = json.loads(path.read_text(encoding="utf-8"))
        return {str(key): float(value) for key, value in values.items()}


def _first_errors(failed: list[dict[str, Any]]) -> str:
    """The first distinct errors, each with the lines it ended (a broken factory: once)."""
    lines_by_error: dict[str, list[str]] = {}
    for record in failed:
        lines_by_error.setdefault(str(record["error"]), []).append(str(record["line_number"]))
    shown = []
    for error, numbers in list(lines_by_error.items())[:ERRORS_SHOWN]:
        label = "line" if len(numbers) == 1 else "lines"
        more = f" and {len(numbers) - ERRORS_SHOWN} more" if len(numbers) > ERRORS_SHOWN else ""
        shown.append(f"{label} {', '.join(numbers[:ERRORS_SHOWN])}{more}: {error}")
    return "; ".join(shown)


def _manifest_file(manifest: WorkflowManifest | EvaluatorManifest) -> str:
    return WORKFLOW_FILE if isinstance(manifest, WorkflowManifest) else EVALUATOR_FILE


def _missing_package(package: str) -> str:
    return (
        f"cannot import {package}: this environment has no Agent Framework packages; "
        "run `make setup-agent-framework` (a second venv, .venv-af, for Agent Framework use "
        "cases of a prompt flow project), or answer flow_engine=agent_framework"
    )
