"""Managed by the LLMOps template. The batch runner of the Agent Framework engine.

One asyncio loop per run: every line is a task, at most ``workers`` in flight (an
``asyncio.Semaphore``), each with its own timeout. A failing line is recorded with its
error and the run goes on. Standard runs build a fresh workflow per line (a
``Workflow`` runs one input at a time) around one chat client per connection and
deployment (one HTTP pool for the run). Evaluation runs call the evaluator per line:
azure-ai-evaluation built-ins in worker threads (they are synchronous), code
evaluators directly. Judge answers are checked: a score that is not a finite number in
the judge's range fails the line with the reason, instead of becoming NaN.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmops.connections import ResolvedConnection
from llmops.engine.af_code import load_function, user_error
from llmops.engine.af_manifest import (
    BUILTIN_METRICS,
    JUDGES,
    EvaluatorManifest,
    WorkflowManifest,
)
from llmops.engine.af_prompts import Prompt, load_prompt
from llmops.errors import LLMOpsError
from llmops.workflow import LineContext, LineInputs, Messages

REFERENCE = re.compile(r"^\$\{(?P<source>data|run\.outputs|run\.inputs)\.(?P<key>[^}]+)\}$")
JUDGE_RANGE = (1.0, 5.0)
LINE_TIMEOUT = asyncio.TimeoutError
"""What ``asyncio.wait_for`` raises (the builtin ``TimeoutError`` only from 3.11)."""
LineRecord = dict[str, Any]
LineDone = Callable[[LineRecord], None]


@dataclass(frozen=True)
class Lines:
    """The lines of one run: dataset rows, and the base run's records for evaluations."""

    rows: Sequence[Mapping[str, Any]]
    mapping: Mapping[str, str]
    base: Sequence[LineRecord] | None = None


def map_inputs(
    mapping: Mapping[str, str], row: Mapping[str, Any], base: LineRecord | None
) -> dict[str, Any]:
    """Resolve ``${data.x}``, ``${run.outputs.x}`` and ``${run.inputs.x}``; others are literals."""
    values: dict[str, Any] = {}
    for name, expression in mapping.items():
        found = REFERENCE.match(str(expression))
        if found is None:
            values[name] = expression
            continue
        source, key = found.group("source"), found.group("key")
        if source == "data":
            if key not in row:
                raise LLMOpsError(f"the data line has no column '{key}' (mapped to '{name}')")
            values[name] = row[key]
            continue
        if base is None:
            raise LLMOpsError(f"'{expression}' needs a base run (only evaluations have one)")
        section = base.get("outputs" if source == "run.outputs" else "inputs") or {}
        if key not in section:
            raise LLMOpsError(f"the base run's line has no {source.split('.')[1][:-1]} '{key}'")
        values[name] = section[key]
    return values


async def run_lines(
    lines: Lines,
    run_line: Callable[[dict[str, Any], LineRecord | None], Awaitable[LineRecord]],
    workers: int,
    line_timeout: float,
    flow_dir: Path,
    root: Path,
    on_done: LineDone,
) -> list[LineRecord]:
    """Run every line, ``workers`` at a time; failed lines carry ``error``."""
    slots = asyncio.Semaphore(workers)
    base_by_line = {int(item["line_number"]): item for item in lines.base or ()}

    async def one(number: int, row: Mapping[str, Any]) -> LineRecord:
        base = base_by_line.get(number) if lines.base is not None else None
        record: LineRecord = {"line_number": number, "inputs": {}, "outputs": {}}
        async with slots:
            try:
                if lines.base is not None and (base is None or base.get("error")):
                    raise LLMOpsError("the base run's line failed or is missing")
                inputs = map_inputs(lines.mapping, row, base)
                record["inputs"] = inputs
                record.update(await asyncio.wait_for(run_line(inputs, base), line_timeout))
            except LINE_TIMEOUT:
                record["error"] = f"line timed out after {line_timeout:g} s (runtime.line_timeout)"
            except Exception as error:  # one line must not stop the run
                record["error"] = user_error(error, flow_dir, root)
        on_done(record)
        return record

    return list(await asyncio.gather(*(one(number, row) for number, row in enumerate(lines.rows))))


class ChatClients:
    """One Agent Framework chat client per connection and deployment, shared by a run."""

    def __init__(self, connections: Mapping[str, ResolvedConnection]) -> None:
        self._connections = connections
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._credentials: list[Any] = []

    def get(self, connection: str, deployment: str | None, kind: str = "chat") -> Any:
        spec = self._connections.get(connection)
        if spec is None:
            raise LLMOpsError(
                f"connection '{connection}' is not prepared: list it under `connections` "
                "in experiment.yaml"
            )
        model = deployment or spec.deployment
        key = (connection, model, kind)
        if key not in self._clients:
            self._clients[key] = _client(spec, model, kind, self._credentials)
        return self._clients[key]

    async def close(self) -> None:
        """Close each client's HTTP pool (and credential) inside the run's event loop.

        Left open, they are closed by the garbage collector after the loop has ended,
        which prints "Event loop is closed" errors.
        """
        for client in self._clients.values():
            pool = getattr(client, "client", None)
            if pool is not None:
                await pool.close()
        for credential in self._credentials:
            await credential.close()
        self._clients.clear()
        self._credentials.clear()


def _client(spec: ResolvedConnection, model: str, kind: str, credentials: list[Any]) -> Any:
    """Azure OpenAI (key, or Entra ID when no key is set) or an OpenAI-compatible server."""
    from agent_framework.openai import OpenAIChatCompletionClient, OpenAIEmbeddingClient

    client_class: Any = OpenAIEmbeddingClient if kind == "embedding" else OpenAIChatCompletionClient

    if spec.type == "azure_openai":
        auth: dict[str, Any] = {"api_key": spec.api_key}
        if spec.keyless:
            from azure.identity.aio import DefaultAzureCredential

            credential = DefaultAzureCredential()
            credentials.append(credential)
            auth = {"credential": credential}
        return client_class(
            model=model, azure_endpoint=spec.api_base, api_version=spec.api_version, **auth
        )
    return client_class(model=model, api_key=spec.api_key, base_url=spec.api_base)


class StandardRunner:
    """Runs a workflow per line with the variant's prompts and options."""

    def __init__(
        self,
        manifest: WorkflowManifest,
        flow_dir: Path,
        root: Path,
        package: str,
        variant: Mapping[str, str],
        clients: ChatClients,
    ) -> None:
        self.manifest = manifest
        self.flow_dir, self.root = flow_dir, root
        self.factory = load_function(package, manifest.workflow, flow_dir, root)
        self.prompts: dict[str, Callable[[dict[str, Any]], Messages]] = {}
        self.calls: dict[str, tuple[Any, dict[str, Any]]] = {}
        self.embedders: dict[str, Any] = {}
        for name, node in manifest.nodes.items():
            settings = node.settings(variant.get(name))
            if node.kind == "embedding":
                self.embedders[name] = clients.get(node.connection, settings.deployment, node.kind)
                continue
            assert settings.prompt is not None  # the manifest model requires one
            prompt = load_prompt(flow_dir / settings.prompt, root)
            self.prompts[name] = prompt.messages
            options = {**prompt.options, **settings.options}
            self.calls[name] = (clients.get(node.connection, settings.deployment), options)
        from agent_framework import Message

        self._message = Message

    async def _chat(self, node: str, messages: Messages) -> tuple[str, int, int]:
        client, options = self.calls[node]
        response = await client.get_response(
            [self._message(role=role, contents=[text]) for role, text in messages],
            options=dict(options),
        )
        usage = response.usage_details or {}
        return (
            response.text or "",
            int(usage.get("input_token_count") or 0),
            int(usage.get("output_token_count") or 0),
        )

    async def _embed(self, node: str, texts: list[str]) -> tuple[list[list[float]], int]:
        client = self.embedders.get(node)
        if client is None:
            known = ", ".join(self.embedders) or "none"
            raise LLMOpsError(f"node '{node}' is not an embedding node (embedding nodes: {known})")
        generated = await client.get_embeddings(texts)
        usage = generated.usage or {}
        return [list(item.vector) for item in generated], int(usage.get("input_token_count") or 0)

    async def __call__(self, inputs: dict[str, Any], _base: LineRecord | None) -> LineRecord:
        for name, spec in self.manifest.inputs.items():
            if name not in inputs:
                if not spec.has_default:
                    raise LLMOpsError(f"input '{name}' is not mapped and has no default")
                inputs[name] = spec.default
        inputs = LineInputs(inputs)
        line = LineContext(
            inputs=inputs,
            prompts=self.prompts,
            chat=self._chat,
            embedder=self._embed if self.embedders else None,
        )
        try:
            workflow = self.factory(line)
        except Exception as error:
            where = user_error(error, self.flow_dir, self.root)
            raise LLMOpsError(f"the workflow factory failed: {where}") from None
        started = asyncio.get_running_loop().time()
        result = await workflow.run(inputs)
        seconds = asyncio.get_running_loop().time() - started
        outputs = _outputs(result.get_outputs(), self.manifest.outputs)
        usage = line.usage.as_record()
        usage["seconds"] = round(seconds, 4)
        return {"outputs": outputs, "usage": usage}


def _outputs(produced: list[Any], declared: Mapping[str, str]) -> dict[str, Any]:
    """The line's outputs: the dict(s) the workflow yielded, with every declared key."""
    outputs: dict[str, Any] = {}
    for item in produced:
        if isinstance(item, Mapping):
            outputs.update(item)
        elif len(declared) == 1:
            outputs[next(iter(declared))] = item
        else:
            raise LLMOpsError(
                f"the workflow yielded a {type(item).__name__}; yield a dict with the "
                f"outputs {', '.join(declared)}"
            )
    if not produced:
        raise LLMOpsError("the workflow yielded no output (call `await ctx.yield_output({...})`)")
    missing = [name for name in declared if name not in outputs]
    if missing:
        raise LLMOpsError(
            f"the workflow's output lacks {', '.join(missing)} (workflow.yaml declares it)"
        )
    return outputs


class EvaluationRunner:
    """Calls one evaluator per line and checks what judges answer."""

    def __init__(
        self,
        manifest: EvaluatorManifest,
        flow_dir: Path,
        root: Path,
        package: str,
        connections: Mapping[str, ResolvedConnection],
    ) -> None:
        self.manifest = manifest
        self.parameters = set(manifest.input_defaults)
        if manifest.function:
            self.function: Callable[..., Any] = load_function(
                package, manifest.function, flow_dir, root
            )
            self.threaded = False
        else:
            self.function = _builtin(manifest, connections)
            self.threaded = True
        self.aggregate = (
            load_function(package, manifest.aggregate.function, flow_dir, root)
            if manifest.aggregate
            else None
        )

    async def __call__(self, inputs: dict[str, Any], _base: LineRecord | None) -> LineRecord:
        arguments = {name: value for name, value in inputs.items() if name in self.parameters}
        for name, spec in self.manifest.inputs.items():
            if name not in arguments and spec.has_default:
                arguments[name] = spec.default
        if self.threaded:
            result = await asyncio.to_thread(self.function, **arguments)
        else:
            result = self.function(**arguments)
            if inspect.isawaitable(result):
                result = await result
        if not isinstance(result, Mapping):
            raise LLMOpsError(f"the evaluator returned {type(result).__name__}, not a dict")
        if self.manifest.builtin:
            return {"outputs": _checked_builtin(self.manifest.builtin, dict(result))}
        return {"outputs": dict(result)}

    def metrics(self, records: Sequence[LineRecord]) -> dict[str, float]:
        """The aggregate function's metrics, or the mean of each numeric line output."""
        rows = [record["outputs"] for record in records if not record.get("error")]
        if self.aggregate is not None:
            assert self.manifest.aggregate is not None
            values = self.aggregate(rows)
            if not isinstance(values, Mapping):
                raise LLMOpsError(f"{self.manifest.aggregate.function} returned no dict")
            missing = [name for name in self.manifest.aggregate.metrics if name not in values]
            if missing:
                raise LLMOpsError(
                    f"{self.manifest.aggregate.function} did not return {', '.join(missing)} "
                    "(evaluator.yaml lists it under aggregate.metrics)"
                )
            return {str(key): float(value) for key, value in values.items() if _number(value)}
        return mean_metrics(rows)


def mean_metrics(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Mean of each numeric key; ``<name>_result`` pass/fail becomes ``<name>_pass_rate``."""
    sums: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            if key.endswith("_threshold"):
                continue
            if key.endswith("_result") and value in ("pass", "fail"):
                sums.setdefault(key.removesuffix("_result") + "_pass_rate", []).append(
                    1.0 if value == "pass" else 0.0
                )
            elif _number(value) or isinstance(value, bool):
                sums.setdefault(key, []).append(float(value))
    return {key: round(sum(values) / len(values), 4) for key, values in sums.items() if values}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _checked_builtin(builtin: str, result: dict[str, Any]) -> dict[str, Any]:
    """Keep the score, its pass/fail and reason; refuse an unreadable judge answer."""
    metric = BUILTIN_METRICS[builtin][0]
    prefix = metric.removesuffix("_score")
    score = result.get(metric)
    low, high = JUDGE_RANGE if builtin in JUDGES else (0.0, 1.0)
    if not _number(score) or not low <= float(score) <= high:
        reason = result.get(f"{prefix}_reason") or result.get(f"{metric}_reason") or ""
        raise LLMOpsError(
            f"{builtin}: the score is {score!r}, not a number from {low:g} to {high:g}: "
            "the judge model's answer could not be read"
            + (f" ({str(reason)[:120]})" if reason else "")
        )
    outcome = result.get(f"{prefix}_result")
    if outcome not in (None, "pass", "fail"):
        raise LLMOpsError(f"{builtin}: the judge's verdict is {outcome!r}, not pass or fail")
    kept = {metric: float(score)}
    if outcome is not None:
        kept[f"{prefix}_result"] = outcome
    for key in (f"{prefix}_reason", f"{prefix}_threshold"):
        if key in result:
            kept[key] = result[key]
    return kept


def _builtin(
    manifest: EvaluatorManifest, connections: Mapping[str, ResolvedConnection]
) -> Callable[..., Any]:
    """An azure-ai-evaluation evaluator, with the judge connection's model configuration."""
    import azure.ai.evaluation as evaluation

    options: dict[str, Any] = {}
    if manifest.threshold is not None:
        options["threshold"] = manifest.threshold
    if manifest.builtin == "f1_score":
        return evaluation.F1ScoreEvaluator(**options)
    assert manifest.judge is not None  # the manifest model requires a judge for judges
    spec = connections.get(manifest.judge)
    if spec is None:
        raise LLMOpsError(
            f"judge connection '{manifest.judge}' is not prepared: list it under "
            "`connections` in experiment.yaml"
        )
    if spec.type == "azure_openai":
        config: Any = evaluation.AzureOpenAIModelConfiguration(
            azure_endpoint=spec.api_base or "",
            azure_deployment=spec.deployment,
            api_version=spec.api_version or "2024-10-21",
        )
        if spec.api_key:
            config["api_key"] = spec.api_key
        else:
            from azure.identity import DefaultAzureCredential

            options["credential"] = DefaultAzureCredential()
    else:
        config = evaluation.OpenAIModelConfiguration(
            type="openai", api_key=spec.api_key, model=spec.deployment, base_url=spec.api_base or ""
        )
    classes = {
        "similarity": evaluation.SimilarityEvaluator,
        "relevance": evaluation.RelevanceEvaluator,
        "coherence": evaluation.CoherenceEvaluator,
        "fluency": evaluation.FluencyEvaluator,
        "groundedness": evaluation.GroundednessEvaluator,
    }
    return classes[str(manifest.builtin)](config, **options)


def load_rows(path: Path, shown: str) -> list[dict[str, Any]]:
    """Rows of a JSONL dataset (validate has checked them before the run)."""
    import json

    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if text.strip():
                try:
                    rows.append(json.loads(text))
                except json.JSONDecodeError as error:
                    raise LLMOpsError(f"{shown}:{number}: invalid JSON: {error.msg}") from None
    return rows


def load_prompts(manifest: WorkflowManifest, flow_dir: Path, root: Path) -> list[Prompt]:
    """Compile every prompt file of every node and variant (validate calls this)."""
    files = set()
    for node in manifest.nodes.values():
        for variant in node.variant_ids:
            prompt = node.settings(None if variant == "default" else variant).prompt
            if prompt:
                files.add(prompt)
    return [load_prompt(flow_dir / name, root) for name in sorted(files)]
