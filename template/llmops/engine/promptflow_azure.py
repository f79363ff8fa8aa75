"""Managed by the LLMOps template. The same experiment on Azure ML: prompt flow's Azure client.

``llmops run --target azure`` / ``evaluate --target azure`` submit each batch run to the
workspace in ``AZURE_SUBSCRIPTION_ID`` / ``AZURE_RESOURCE_GROUP`` / ``AZURE_ML_WORKSPACE``
with ``DefaultAzureCredential``. Runs use serverless compute (size:
``runtime.azure_instance_type``, default the service's) unless the experiment names a
compute-instance runtime in ``runtime.azure_runtime``. Variants, ``workers`` and
``line_timeout`` work as for local runs. Connections are the workspace's connections
of the same names (infra/ creates them): no API key is read locally. Local files are uploaded by
prompt flow; each finished run is downloaded to ``.llmops/azure-runs/<run>/`` and
``llmops report`` reads metrics and line results from Azure, so reports stay local.

With ``runtime.concurrent_runs: N`` up to N runs of a stage are in flight at once: they
are submitted one after another and awaited together. Every call to the Azure client
holds one lock, so the SDK is never used from two threads at a time; only the waiting
between polls overlaps, which is where an Azure run spends its minutes.

promptflow-azure is imported on first use only, so local commands never load it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llmops.azure.settings import settings_from_env
from llmops.config import load_experiment
from llmops.engine import AZURE_ENGINE
from llmops.engine.agent_framework import is_agent_framework_flow
from llmops.engine.base import (
    COMPLETED,
    FAILED,
    FlowSignature,
    Progress,
    RunOutcome,
    RunRequest,
)
from llmops.engine.promptflow_engine import PromptflowEngine, prepare_environment
from llmops.errors import LLMOpsError
from llmops.paths import USE_CASES_DIR, relative, state_dir

TERMINAL = frozenset({COMPLETED, FAILED, "Canceled"})
POLL_SECONDS = 15.0
TIMEOUT_SECONDS = 6 * 3600.0


class AzurePromptflowEngine(PromptflowEngine):
    """Runs flows in an Azure ML workspace; reads flows and results like the local engine."""

    name = AZURE_ENGINE

    def __init__(
        self,
        root: Path,
        env: str | None = None,
        client: Any = None,
        poll_seconds: float = POLL_SECONDS,
        timeout_seconds: float = TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        echo: Callable[[str], None] = print,
    ) -> None:
        super().__init__(root)
        self.env = env
        self._client = client
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.sleep = sleep
        self.echo = echo
        self._runtimes: dict[Path, tuple[str | None, str | None]] = {}
        self._calls = threading.RLock()  # one call to the Azure client at a time

    def allows_concurrent_runs(self, executor: str) -> bool:
        """Yes, whatever the (local) executor: runs in flight only wait side by side."""
        return True

    def _pf(self) -> Any:
        with self._calls:
            return self._connect()

    def _connect(self) -> Any:
        if self._client is None:
            settings = settings_from_env()
            settings.require(
                "subscription_id", "resource_group", "workspace", purpose="--target azure"
            )
            prepare_environment(self.root)
            from azure.identity import DefaultAzureCredential
            from promptflow.azure import PFClient

            self._client = PFClient(
                credential=DefaultAzureCredential(),
                subscription_id=settings.subscription_id,
                resource_group_name=settings.resource_group,
                workspace_name=settings.workspace,
            )
        return self._client

    def check_workspace_connections(self, names: list[str]) -> None:
        """Fail early when a connection the flows use is missing from the workspace."""
        connections = self._pf().ml_client.connections  # settings problems surface here
        missing = []
        for name in dict.fromkeys(names):
            try:
                with self._calls:
                    connections.get(name)
            except Exception:  # not found, or no permission to read it: same remedy
                missing.append(name)
        if missing:
            raise LLMOpsError(
                f"workspace connection(s) {', '.join(missing)} not found (or not readable) in "
                "the Azure ML workspace: infra/ creates one per connection answer; check "
                "AZURE_ML_WORKSPACE and your role on the workspace"
            )

    def describe(self, flow_dir: Path) -> FlowSignature:
        """As locally; an Agent Framework folder is refused (its Azure runs come later)."""
        if is_agent_framework_flow(flow_dir):
            raise LLMOpsError(
                f"{relative(flow_dir, self.root)} is an Agent Framework flow: `--target azure` "
                "runs prompt flow use cases only for now; run this one with `--target local`"
            )
        return super().describe(flow_dir)

    def compute_for(self, flow_dir: Path) -> tuple[str | None, str | None]:
        """``(runtime name, serverless instance type)`` from the experiment of ``flow_dir``.

        Both None means serverless compute of the service's default size.
        """
        cases = self.root / USE_CASES_DIR
        try:
            use_case = cases / flow_dir.resolve().relative_to(cases.resolve()).parts[0]
        except (ValueError, IndexError):
            return None, None
        if use_case not in self._runtimes:
            runtime = load_experiment(use_case, self.env).runtime
            self._runtimes[use_case] = (
                getattr(runtime, "azure_runtime", None) or None,
                getattr(runtime, "azure_instance_type", None) or None,
            )
        return self._runtimes[use_case]

    def run(self, request: RunRequest, progress: Progress | None = None) -> RunOutcome:
        """Submit the run, wait for it, download it; a failure is an outcome, not an exception.

        ``progress`` is not called: the service reports no line counts while running.
        """
        try:
            with self._calls:
                runtime, instance_type = self._submit_to_azure(request)
        except Exception as error:  # settings were checked by check_workspace_connections
            return RunOutcome(run_name=request.name, status=FAILED, error=_first_line(error))
        compute = f"runtime {runtime}" if runtime else f"serverless compute {instance_type or ''}"
        self.echo(f"[azure] {request.name}: submitted ({compute.strip()})")
        return self._wait(request.name)

    def _submit_to_azure(self, request: RunRequest) -> tuple[str | None, str | None]:
        """Create the run in the workspace; returns its ``(runtime, instance type)``."""
        pf = self._pf()
        flow, variant = self._flow_for(request)  # variant copies work as locally
        runtime, instance_type = self.compute_for(request.flow_dir)
        from promptflow.entities import Run

        settings = {
            "PF_WORKER_COUNT": request.workers,
            "PF_LINE_TIMEOUT_SEC": request.line_timeout,
        }
        run = Run(
            flow=flow,
            data=str(request.data),
            column_mapping=dict(request.column_mapping),
            run=request.base_run,
            variant=variant,
            name=request.name,
            display_name=request.name,
            tags={"llmops_env": self.env or "none"},
            environment_variables={k: str(v) for k, v in settings.items() if v is not None},
            runtime=runtime,
            resources={"instance_type": instance_type} if instance_type and not runtime else None,
        )
        pf.runs.create_or_update(run, runtime=runtime)
        return runtime, instance_type

    def _wait(self, name: str) -> RunOutcome:
        """Poll until the run ends (the lock is held per call, never while sleeping)."""
        pf = self._pf()
        started = time.monotonic()
        with self._calls:
            run = pf.runs.get(name)
        while run.status not in TERMINAL:
            if time.monotonic() - started > self.timeout_seconds:
                with self._calls, contextlib.suppress(Exception):  # the timeout is the news
                    pf.runs.cancel(name)
                message = f"timed out after {self.timeout_seconds / 3600:.1f} h; cancel requested"
                return RunOutcome(run_name=name, status=FAILED, error=message)
            self.sleep(self.poll_seconds)
            with self._calls:
                run = pf.runs.get(name)
        details: dict[str, Any] = {}
        portal = getattr(run, "_portal_url", None)
        if portal:
            details["portal_url"] = portal
        if run.status == COMPLETED:
            details.update(self._download(name))
            return RunOutcome(run_name=name, status=COMPLETED, details=details)
        return RunOutcome(
            run_name=name, status=run.status, error=_azure_error(run), details=details
        )

    def _download(self, name: str) -> dict[str, Any]:
        """Copy the run's outputs and logs to ``.llmops/azure-runs/``; best effort."""
        target = state_dir(self.root) / "azure-runs"
        target.mkdir(parents=True, exist_ok=True)
        try:
            with self._calls:
                folder = Path(self._pf().runs.download(name, output=str(target), overwrite=True))
        except Exception as error:
            return {"download_error": _first_line(error)}
        details: dict[str, Any] = {"downloaded": relative(folder, self.root)}
        if (folder / "logs.txt").is_file():
            details["log"] = relative(folder / "logs.txt", self.root)
        return details

    def line_results(self, run_name: str) -> list[dict[str, Any]]:
        with self._calls:
            return super().line_results(run_name)

    def metrics(self, run_name: str) -> dict[str, float]:
        with self._calls:
            return super().metrics(run_name)


def _azure_error(run: Any) -> str:
    error = getattr(run, "_error", None)
    if isinstance(error, dict):
        inner = error.get("error") if isinstance(error.get("error"), dict) else error
        message = inner.get("message") if isinstance(inner, dict) else None
        if message:
            return _first_line(message)
    return f"run {run.status}"


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
