"""Managed by the LLMOps template. The prompt flow implementation of ``FlowEngine``.

This is the only module that imports promptflow. Before the first import it makes
prompt flow quiet and offline-safe, because its settings are read at import time:

* its home (runs, connections database) is ``.llmops/pf-home`` of the project, so
  projects do not share runs and nothing lands in tracked files;
* ``pf.yaml`` in that home turns telemetry off and sets trace destination ``none``
  (otherwise a local trace service may be left running);
* ``pf_version_check.json`` is pre-seeded so no version check calls the package index;
* ``APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED`` stops the Azure Monitor settings fetch;
* local connections are encrypted with a key kept by ``keyring``; unless you chose a
  backend yourself (``PYTHON_KEYRING_BACKEND``), the plaintext file backend from
  keyrings.alt keeps it in ``.llmops/pf-home/keyring_pass.cfg`` (git-ignored).

Variants: a run that overrides one node uses prompt flow's own
``variant="${node.variant_id}"``. Prompt flow cannot override several nodes in one
run, so for a grid combination the engine writes a copy of the flow folder under
``.llmops/variant-flows/`` whose ``default_variant_id`` values are the combination.

Flex flows (``flow.flex.yaml``) are read without importing them: inputs and outputs
come from the YAML when declared there, otherwise from the entry function's signature.

Executors (``runtime.executor``): ``threads`` runs a batch's lines on an asyncio loop
inside this process (prompt flow's ``batch_use_async``), so a run starts at once.
``processes`` is prompt flow's process pool: each run spawns a fresh interpreter that
imports promptflow and forks the workers, about 10 s per run on a 2-core machine
before the first line. Threads win for LLM calls (waiting on the network); processes
isolate lines (a hung line is killed at its timeout, a crash takes one worker) and use
several cores for CPU-heavy Python nodes. Worker count and line timeout travel with
each run, not through ``os.environ``.

Several runs at once (``runtime.concurrent_runs``, threads only): ``pf.run`` changes
the process's working directory to the flow folder for the whole run, so runs of the
same folder (variants of one flow, one evaluator over several runs) share it and run
together, while a run of another folder waits until they are done. A run of a flex
flow, or of a flow with ``additional_includes``, always runs alone (see
``_may_share_folder``). When the last run of a folder ends, the modules imported from
that folder are dropped from ``sys.modules``: with threads the flows run in this
process, and without that an evaluation flow's ``utils.py`` would silently be the
standard flow's ``utils.py`` imported before it.
"""

from __future__ import annotations

import ast
import contextlib
import datetime
import hashlib
import json
import math
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from llmops.config import read_yaml
from llmops.connections import ResolvedConnection
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
from llmops.paths import pf_home, relative, state_dir

FLOW_FILE = "flow.dag.yaml"
FLEX_FILE = "flow.flex.yaml"
POLL_SECONDS = 0.5
VERSION_CHECK_FILE = "pf_version_check.json"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
MAX_NAME_ATTEMPTS = 20
PROCESSES = "processes"
TIMEOUT_CRASH = "'NoneType' object has no attribute 'isoformat'"
"""How prompt flow 1.18's async batch fails when a line passes its timeout (the timed-out
node has no end time to record), which ends the whole run instead of that line."""
TIMEOUT_HINT = (
    " (a line ran past the line timeout: with runtime.executor: threads that fails the "
    "whole run; raise runtime.line_timeout or use executor: processes)"
)


def promptflow_installed() -> bool:
    """Whether promptflow can be imported here (an Agent Framework venv does not hold it)."""
    import importlib.util

    return importlib.util.find_spec("promptflow") is not None


def prepare_environment(root: Path) -> Path:
    """Set prompt flow's environment for this project; call before importing promptflow."""
    home = Path(os.environ.setdefault("PF_HOME_DIRECTORY", str(pf_home(root))))
    home.mkdir(parents=True, exist_ok=True)
    _quiet_config(home / "pf.yaml")
    _seed_version_check(home / VERSION_CHECK_FILE)
    os.environ.setdefault("APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED", "true")
    os.environ.setdefault("PF_LOGGING_LEVEL", "ERROR")  # llmops prints run status itself
    if "PYTHON_KEYRING_BACKEND" not in os.environ:
        os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
        os.environ.setdefault("KEYRING_PROPERTY_FILE_PATH", str(home / "keyring_pass.cfg"))
    return home


def _quiet_config(path: Path) -> None:
    """Turn telemetry and the trace service off in the home's pf.yaml, keeping other keys."""
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        config = {}
    if not isinstance(config, dict):
        config = {}
    quiet = dict(config)
    for key, values in {"telemetry": {"enabled": False}, "trace": {"destination": "none"}}.items():
        section = config.get(key)
        quiet[key] = {**(section if isinstance(section, dict) else {}), **values}
    if quiet != config:
        path.write_text(yaml.safe_dump(quiet, sort_keys=False), encoding="utf-8")


def _seed_version_check(path: Path) -> None:
    """Record a fresh version check so prompt flow does not query the package index."""
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        last = datetime.datetime.strptime(cached["last_check_time"], TIME_FORMAT)
        if datetime.datetime.now() - last < datetime.timedelta(days=1):
            return
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        version = metadata.version("promptflow-devkit")
    except metadata.PackageNotFoundError:
        version = "0"
    now = datetime.datetime.now().strftime(TIME_FORMAT)
    seeded = {
        "current_version": version,
        "latest_version": version,
        "last_check_time": now,
        "last_hint_time": now,
    }
    path.write_text(json.dumps(seeded), encoding="utf-8")


class _SharedFolder:
    """The working directory that runs in flight share (see the module docstring)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._key: str | None = None
        self._users = 0
        self._saved = Path()

    @contextlib.contextmanager
    def use(self, key: str, folder: Path) -> Iterator[None]:
        """Wait until no run of another ``key`` is in flight, then work in ``folder``."""
        with self._changed:
            self._changed.wait_for(lambda: self._users == 0 or self._key == key)
            if self._users == 0:
                self._saved, self._key = Path.cwd(), key
                os.chdir(folder)
            self._users += 1
        try:
            yield
        finally:
            with self._changed:
                self._users -= 1
                if self._users == 0:
                    os.chdir(self._saved)
                    _forget_modules(folder)
                    self._key = None
                    self._changed.notify_all()


def _forget_modules(folder: Path) -> None:
    """Drop the modules imported from a flow folder, so the next flow imports its own."""
    prefixes = tuple({f"{folder}{os.sep}", f"{folder.resolve()}{os.sep}"})
    for name, module in list(sys.modules.items()):
        source = getattr(module, "__file__", None)
        if isinstance(source, str) and source.startswith(prefixes):
            del sys.modules[name]


class PromptflowEngine:
    """Runs DAG flows with a local ``PFClient``; state lives in the project's PF home."""

    name = "promptflow"

    def __init__(self, root: Path) -> None:
        self.root = root
        self._client: Any = None
        self._lock = threading.Lock()
        self._folder = _SharedFolder()

    def _pf(self) -> Any:
        with self._lock:
            if self._client is None:
                prepare_environment(self.root)
                from promptflow.client import PFClient

                self._client = PFClient()
        return self._client

    def allows_concurrent_runs(self, executor: str) -> bool:
        """Whether ``run`` may be called from several threads at once with this executor.

        Not with processes: each run forks this process (prompt flow's queue manager),
        and a fork while another run's thread holds a file lock fails ("os.fork is
        unsafe while filelock is changing descriptor ownership").
        """
        return executor != PROCESSES

    def describe(self, flow_dir: Path) -> FlowSignature:
        """Read inputs, outputs, connections, variants and metrics (no promptflow import)."""
        if (flow_dir / FLEX_FILE).is_file() and not (flow_dir / FLOW_FILE).is_file():
            return _describe_flex(flow_dir, self.root)
        flow_file = flow_dir / FLOW_FILE
        shown = relative(flow_file, self.root)
        if not flow_file.is_file():
            raise LLMOpsError(
                f"{shown}: not found (a flow folder needs a {FLOW_FILE} or a {FLEX_FILE})"
            )
        data = read_yaml(flow_file, shown)
        if not isinstance(data, dict):
            raise LLMOpsError(f"{shown}: expected a mapping with inputs, outputs and nodes")
        inputs = data.get("inputs") or {}
        outputs = data.get("outputs") or {}
        if not isinstance(inputs, dict) or not isinstance(outputs, dict):
            raise LLMOpsError(f"{shown}: 'inputs' and 'outputs' must be mappings")
        return FlowSignature(
            inputs={
                name: isinstance(spec, dict) and "default" in spec for name, spec in inputs.items()
            },
            outputs=frozenset(outputs),
            connections=frozenset(_node_connections(data)),
            variants=_node_variants(data, shown),
            metrics=_logged_metrics(data, flow_dir),
            kind="dag",
        )

    def ensure_connections(self, connections: list[ResolvedConnection]) -> None:
        """Create or update local prompt flow connections (secrets stored encrypted)."""
        if not connections:
            return
        pf = self._pf()
        from promptflow.entities import AzureOpenAIConnection, OpenAIConnection

        for conn in connections:
            if conn.type == "azure_openai":
                options = {"api_version": conn.api_version} if conn.api_version else {}
                if conn.keyless:  # no key: prompt flow signs in with Entra ID
                    options["auth_mode"] = "meid_token"
                entity: Any = AzureOpenAIConnection(
                    name=conn.name,
                    api_key=conn.api_key or None,
                    api_base=conn.api_base,
                    api_type="azure",
                    **options,
                )
            else:
                entity = OpenAIConnection(
                    name=conn.name, api_key=conn.api_key, base_url=conn.api_base or None
                )
            try:
                pf.connections.create_or_update(entity)
            except Exception as error:
                raise LLMOpsError(
                    f"could not store prompt flow connection '{conn.name}': {error}"
                ) from None

    def run(self, request: RunRequest, progress: Progress | None = None) -> RunOutcome:
        """Submit a batch run and wait; any failure becomes a ``Failed`` outcome."""
        pf = self._pf()
        from promptflow._sdk._errors import RunExistsError

        try:
            with self._lock:  # two runs of one grid combination write the same copy
                flow, variant = self._flow_for(request)
            shared = _may_share_folder(flow, self.root)
            key = str(flow.resolve()) if shared else f"run:{request.name}"
        except (OSError, LLMOpsError) as error:
            return RunOutcome(run_name=request.name, status=FAILED, error=_first_line(error))
        name = request.name
        for attempt in range(2, MAX_NAME_ATTEMPTS + 2):
            try:
                with self._folder.use(key, flow):
                    self._submit(pf, request, flow, variant, name, progress)
                break
            except RunExistsError:
                name = f"{request.name}_{attempt}"
            except Exception as error:
                hint = TIMEOUT_HINT if TIMEOUT_CRASH in str(error) else ""
                return RunOutcome(run_name=name, status=FAILED, error=_first_line(error) + hint)
        else:
            return RunOutcome(run_name=name, status=FAILED, error="no free run name")
        return self._outcome(name)

    def _submit(
        self,
        pf: Any,
        request: RunRequest,
        flow: Path,
        variant: str | None,
        name: str,
        progress: Progress | None,
    ) -> None:
        """``pf.run`` in a helper thread while this one reports lines done."""
        failure: list[BaseException] = []

        def target() -> None:
            try:
                pf.run(
                    flow=str(flow),
                    data=str(request.data),
                    column_mapping=dict(request.column_mapping),
                    run=request.base_run,
                    variant=variant,
                    name=name,
                    stream=False,
                    **batch_options(request),
                )
            except BaseException as error:  # re-raised in the calling thread
                failure.append(error)

        if progress is None:
            target()
        else:
            worker = threading.Thread(target=target, name=f"pf-run-{name}", daemon=True)
            worker.start()
            artifacts = Path(os.environ["PF_HOME_DIRECTORY"]) / ".runs" / name / "flow_artifacts"
            while worker.is_alive():
                worker.join(POLL_SECONDS)
                if artifacts.is_dir():
                    progress(sum(1 for _ in artifacts.glob("*.jsonl")))
        if failure:
            raise failure[0]

    def _flow_for(self, request: RunRequest) -> tuple[Path, str | None]:
        """The flow folder and prompt flow ``variant`` argument for a variant choice."""
        overrides = dict(request.variant)
        if not overrides:
            return request.flow_dir, None
        if len(overrides) == 1:
            ((node, variant),) = overrides.items()
            return request.flow_dir, f"${{{node}.{variant}}}"
        return self._combination_copy(request.flow_dir, overrides), None

    def _combination_copy(self, flow_dir: Path, overrides: dict[str, str]) -> Path:
        """A copy of the flow whose default variants are ``overrides`` (grid runs)."""
        data = read_yaml(flow_dir / FLOW_FILE, relative(flow_dir / FLOW_FILE, self.root))
        for node, variant in overrides.items():
            data["node_variants"][node]["default_variant_id"] = variant
        text = yaml.safe_dump(data, sort_keys=False)
        digest = hashlib.sha256(f"{flow_dir.resolve()}\n{text}".encode()).hexdigest()[:12]
        target = state_dir(self.root) / "variant-flows" / f"{flow_dir.name}-{digest}"
        if not (target / FLOW_FILE).is_file():
            temporary = target.with_name(target.name + ".tmp")
            shutil.rmtree(temporary, ignore_errors=True)
            shutil.copytree(
                flow_dir, temporary, ignore=shutil.ignore_patterns(".promptflow", "__pycache__")
            )
            (temporary / FLOW_FILE).write_text(text, encoding="utf-8")
            shutil.rmtree(target, ignore_errors=True)
            temporary.rename(target)
        return target

    def _outcome(self, name: str) -> RunOutcome:
        run = self._pf().runs.get(name)
        counts = run.properties.get("system_metrics") or {}
        done = int(counts.get("__pf__.lines.completed", 0))
        failed = int(counts.get("__pf__.lines.failed", 0))
        details: dict[str, Any] = {
            "lines_completed": done,
            "lines_failed": failed,
            "log": relative(Path(run.properties.get("output_path", "")) / "logs.txt", self.root),
        }
        error = _run_error(run) if (run.status != COMPLETED or failed) else ""
        status = run.status
        if status == COMPLETED and failed and not done:
            status = FAILED  # every line failed: nothing to evaluate
        return RunOutcome(run_name=name, status=status, error=error, details=details)

    def line_results(self, run_name: str) -> list[dict[str, Any]]:
        """Inputs and outputs per line, from ``pf.get_details`` (all lines, not the first 100)."""
        frame = self._pf().get_details(run_name, all_results=True)
        results = []
        for row in frame.to_dict(orient="records"):
            inputs, outputs, line_number = {}, {}, None
            for column, value in row.items():
                section, _, key = str(column).partition(".")
                if column == "inputs.line_number":
                    line_number = _plain(value)
                elif section == "inputs":
                    inputs[key] = _plain(value)
                elif section == "outputs":
                    outputs[key] = _plain(value)
            if line_number is None:
                line_number = len(results)
            results.append({"line_number": int(line_number), "inputs": inputs, "outputs": outputs})
        return results

    def metrics(self, run_name: str) -> dict[str, float]:
        """Numeric metrics logged by the flow's aggregation node."""
        values = self._pf().get_metrics(run_name)
        return {
            str(key): float(value)
            for key, value in values.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }


def batch_options(request: RunRequest) -> dict[str, Any]:
    """Keyword arguments ``pf.run`` hands to prompt flow's batch engine for one run.

    Passed per run instead of ``PF_WORKER_COUNT`` / ``PF_LINE_TIMEOUT_SEC`` in
    ``os.environ`` so nothing process-wide changes; unset values keep prompt flow's
    defaults (10 threads or 4 processes; 600 s per line).
    """
    options: dict[str, Any] = {"batch_use_async": request.executor != PROCESSES}
    if request.workers:
        options["worker_count"] = request.workers
    if request.line_timeout:
        options["line_timeout_sec"] = request.line_timeout
    return options


def _may_share_folder(flow_dir: Path, root: Path) -> bool:
    """Whether a run of this flow may be in flight beside other runs of its folder.

    Not for a flex flow: prompt flow forks this process to read its signature, and a
    fork while another run's thread holds a file lock fails. Not with
    ``additional_includes``: each such run works in a temporary folder of its own.
    """
    path = flow_dir / FLOW_FILE
    if not path.is_file():
        return False
    data = read_yaml(path, relative(path, root))
    return not (isinstance(data, dict) and data.get("additional_includes"))


def _node_variants(flow: dict[str, Any], shown: str) -> dict[str, NodeVariants]:
    """``node_variants`` of a DAG flow; a default that is not a variant is an error."""
    found: dict[str, NodeVariants] = {}
    for node, spec in (flow.get("node_variants") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        ids = tuple((spec.get("variants") or {}).keys())
        default = str(spec.get("default_variant_id") or (ids[0] if ids else ""))
        if default not in ids:
            raise LLMOpsError(
                f"{shown}: node_variants.{node}.default_variant_id: '{default}' is not one of "
                f"its variants ({', '.join(ids) or 'none'})"
            )
        found[str(node)] = NodeVariants(default=default, ids=ids)
    return found


def _logged_metrics(flow: dict[str, Any], flow_dir: Path) -> frozenset[str] | None:
    """Names passed as string literals to ``log_metric`` in aggregation nodes.

    Both ``log_metric("f1", value)`` and ``log_metric(key="f1", value=value)`` (the form of
    Microsoft's samples) count. None when an aggregation node logs a computed name (then
    gates are checked when the metrics exist, not before the run).
    """
    names: set[str] = set()
    for node in flow.get("nodes") or []:
        if not (isinstance(node, dict) and node.get("aggregation")):
            continue
        source = (node.get("source") or {}).get("path")
        if not (isinstance(source, str) and source.endswith(".py")):
            return None
        try:
            tree = ast.parse((flow_dir / source).read_text(encoding="utf-8"))
        except (OSError, SyntaxError):
            return None
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            func = call.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called != "log_metric":
                continue
            name = _metric_name(call)
            if name is None:
                return None
            names.add(name)
    return frozenset(names)


def _metric_name(call: ast.Call) -> str | None:
    """The literal name of a ``log_metric(key, value)`` call, positional or ``key=``."""
    keyword = next((item.value for item in call.keywords if item.arg == "key"), None)
    name = call.args[0] if call.args else keyword
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        return name.value
    return None


def _describe_flex(flow_dir: Path, root: Path) -> FlowSignature:
    """Inputs and outputs of a flex flow from its YAML, else from the entry function."""
    flow_file = flow_dir / FLEX_FILE
    shown = relative(flow_file, root)
    data = read_yaml(flow_file, shown)
    if not isinstance(data, dict) or not isinstance(data.get("entry"), str):
        raise LLMOpsError(f"{shown}: expected `entry: <module>:<function or class>`")
    declared_inputs = data.get("inputs")
    declared_outputs = data.get("outputs")
    if isinstance(declared_inputs, dict):
        inputs = {
            name: isinstance(spec, dict) and "default" in spec
            for name, spec in declared_inputs.items()
        }
    else:
        inputs = _entry_parameters(flow_dir, data["entry"], shown)
    declared = isinstance(declared_outputs, dict)
    outputs = frozenset(declared_outputs) if declared else frozenset()
    return FlowSignature(inputs=inputs, outputs=outputs, kind="flex", outputs_known=declared)


def _entry_parameters(flow_dir: Path, entry: str, shown: str) -> dict[str, bool]:
    """Parameters of a flex entry function (or a class's ``__call__``) -> has a default."""
    module, _, attribute = entry.partition(":")
    path = flow_dir / (module.replace(".", "/") + ".py")
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError) as error:
        raise LLMOpsError(f"{shown}: entry {entry}: cannot read {path.name} ({error})") from None
    for item in tree.body:
        if isinstance(item, ast.ClassDef) and item.name == attribute:
            item = next(
                (f for f in item.body if isinstance(f, ast.FunctionDef) and f.name == "__call__"),
                None,
            )
        if isinstance(item, ast.FunctionDef) and item.name in (attribute, "__call__"):
            args = [arg.arg for arg in item.args.args if arg.arg != "self"]
            with_default = set(args[len(args) - len(item.args.defaults) :])
            return {name: name in with_default for name in args}
    raise LLMOpsError(f"{shown}: entry {entry}: no function or class '{attribute}' in {path.name}")


def _node_connections(flow: dict[str, Any]) -> set[str]:
    """Connection names used by nodes and by node variants."""
    names: set[str] = set()
    for node in flow.get("nodes") or []:
        if isinstance(node, dict) and isinstance(node.get("connection"), str):
            names.add(node["connection"])
    for variants in (flow.get("node_variants") or {}).values():
        for variant in ((variants or {}).get("variants") or {}).values():
            node = (variant or {}).get("node") or {}
            if isinstance(node.get("connection"), str):
                names.add(node["connection"])
    return names


def _run_error(run: Any) -> str:
    """The run's error message (prompt flow keeps it in the run's ``error`` record)."""
    try:
        error = run._to_dict().get("error") or {}
    except Exception:  # private API: an unreadable error must not hide the status
        return f"run {run.status}"
    message = error.get("message") if isinstance(error, dict) else str(error)
    return _first_line(message or f"run {run.status}")


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _plain(value: Any) -> Any:
    """numpy scalars -> Python values; NaN (a failed line's missing output) -> None."""
    if hasattr(value, "item") and not isinstance(value, list | dict | str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
