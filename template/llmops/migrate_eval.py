"""Managed by the LLMOps template. ``llmops migrate-flow``: evaluation flows to evaluators.

An evaluation DAG flow becomes ``evaluator.yaml``: its per-line python node is the
code evaluator (``function:``, called with the evaluation inputs by name), and its
aggregation node is ``aggregate:``, whose metrics are the names its ``log_metric``
calls used (``migrate_code`` turns those calls into the dict it returns). Metric names
stay as they were, so the experiment's gates keep working.

The evaluator calls the function with the inputs it names, and keeps the dict it
returns as the line's outputs; so the flow must have that shape: one python node that
takes the flow inputs under their own names and whose outputs are its dict's keys, and
at most one aggregation node reading that node's output. Anything else is refused,
naming the node and what to change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmops.engine.af_manifest import EVALUATOR_FILE, EvaluatorManifest
from llmops.errors import LLMOpsError
from llmops.migrate_base import (
    FolderPlan,
    Ref,
    checked_manifest,
    flow_inputs,
    header_comments,
    input_lines,
    parse_value,
    prompt_flow_files,
    read_flow,
    rewrite_code,
    schema_comment,
)
from llmops.migrate_code import Function, find_function, parse
from llmops.migrate_metrics import metric_names
from llmops.paths import relative


def plan_evaluation(folder: Path, root: Path) -> FolderPlan:
    """evaluator.yaml from an evaluation ``flow.dag.yaml`` (nothing written yet)."""
    flow_file = folder / "flow.dag.yaml"
    shown = relative(flow_file, root)
    if not flow_file.is_file():
        raise LLMOpsError(
            f"{relative(folder, root)}: a flex evaluation flow does not convert: write "
            f"{EVALUATOR_FILE} by hand (`function:` per line, `aggregate:` for the metrics)"
        )
    if (folder / EVALUATOR_FILE).exists():
        raise LLMOpsError(
            f"{relative(folder / EVALUATOR_FILE, root)} already exists: move it aside"
        )
    data = read_flow(flow_file, root)
    inputs = flow_inputs(data.get("inputs"), shown)
    nodes = data.get("nodes") or []
    if not isinstance(nodes, list):
        raise LLMOpsError(f"{shown}: nodes: expected a list")
    for node in nodes:
        _python_only(node, shown)
    per_line = [node for node in nodes if not node.get("aggregation")]
    aggregation = [node for node in nodes if node.get("aggregation")]
    if len(per_line) != 1 or len(aggregation) > 1:
        raise LLMOpsError(
            f"{shown}: {len(per_line)} per-line and {len(aggregation)} aggregation node(s); an "
            "evaluator is one python function per line and at most one aggregation: merge "
            "the per-line nodes into one function, then run migrate-flow again"
        )
    scorer = per_line[0]
    name = str(scorer.get("name"))
    path, function = _function(scorer, folder, root, shown)
    used = _line_inputs(scorer, function, inputs, shown)
    outputs = _line_outputs(data.get("outputs"), name, shown)
    plan = FolderPlan(folder, "evaluation flow")
    plan.lines.append(f"{name}: per-line python node -> function: {path}:{function.name}")
    unused = [key for key in inputs if key not in used]
    if unused:
        plan.notes.append(
            f"{shown}: input(s) {', '.join(unused)} reach no node and are dropped; remove their "
            "mappings from the experiment"
        )
    lines = [
        schema_comment(folder, root, "evaluator.schema.json"),
        *header_comments(flow_file),
        "# Converted from flow.dag.yaml by `llmops migrate-flow`.",
        f"function: {path}:{function.name}",
        *input_lines({key: inputs[key] for key in used}),
        f"outputs: [{', '.join(outputs)}]",
    ]
    aggregate = None
    if aggregation:
        aggregate = _aggregate(aggregation[0], name, folder, root, shown)
        node, file, metrics = aggregate[0], aggregate[1], aggregate[2]
        if metrics:
            lines += [
                "aggregate:",
                f"  function: {file}:{node}",
                f"  metrics: [{', '.join(metrics)}]",
            ]
            plan.lines.append(
                f"{aggregation[0].get('name')}: aggregation node -> aggregate: {file}:{node} "
                f"(metrics {', '.join(metrics)}: the names log_metric gave them)"
            )
        else:
            plan.notes.append(
                f"{shown}: aggregation node '{aggregation[0].get('name')}' logs no metric: "
                "dropped; the evaluator's metrics are the means of its numeric line outputs"
            )
    text = "\n".join(lines) + "\n"
    shown_manifest = relative(folder / EVALUATOR_FILE, root)
    plan.writes[folder / EVALUATOR_FILE] = checked_manifest(text, shown_manifest, EvaluatorManifest)
    rewrite_code(plan, root, (aggregate[1], aggregate[0]) if aggregate else None)
    prompt_flow_files(plan, flow_file, data, root)
    return plan


def _python_only(node: Any, shown: str) -> None:
    if not isinstance(node, dict):
        raise LLMOpsError(f"{shown}: nodes: expected a mapping per node")
    where = f"{shown}: node '{node.get('name')}'"
    source = node.get("source") if isinstance(node.get("source"), dict) else {}
    if node.get("type") != "python" or source.get("type", "code") != "code":
        kind = source.get("tool") or node.get("type")
        raise LLMOpsError(
            f"{where}: a {kind} node in an evaluation flow does not convert: an LLM judge is "
            f"a built-in of {EVALUATOR_FILE} (`builtin: relevance`, `judge: <connection>`), "
            "other scores are Python in the per-line function"
        )
    if node.get("activate"):
        raise LLMOpsError(f"{where}: activate in an evaluation flow does not convert")


def _function(node: dict[str, Any], folder: Path, root: Path, shown: str) -> tuple[str, Function]:
    path = str((node.get("source") or {}).get("path") or "")
    target = (folder / path).resolve()
    if not path.endswith(".py") or not target.is_relative_to(folder.resolve()):
        raise LLMOpsError(
            f"{shown}: node '{node.get('name')}': source.path '{path}' is not a .py file "
            "in the flow folder"
        )
    shown_file = relative(folder / path, root)
    _, tree = parse(folder / path, shown_file)
    return path, find_function(tree, node.get("function"), shown_file)


def _line_inputs(
    node: dict[str, Any], function: Function, inputs: dict[str, Any], shown: str
) -> list[str]:
    """Inputs the per-line node takes; each must be the flow input of its own name."""
    where = f"{shown}: node '{node.get('name')}'"
    used = []
    for key, value in (node.get("inputs") or {}).items():
        parsed = parse_value(value, f"{where}: inputs.{key}")
        if not (isinstance(parsed, Ref) and parsed.node is None and parsed.name == key):
            raise LLMOpsError(
                f"{where}: inputs.{key} is {value!r}; the evaluator passes each evaluation "
                f"input to the parameter of its name: name the flow input '{key}' (and its "
                "experiment mapping), then run migrate-flow again"
            )
        if key not in inputs:
            raise LLMOpsError(f"{where}: inputs.{key} reads a flow input that does not exist")
        used.append(str(key))
    missing = [
        name
        for name in function.parameters
        if name not in used and name not in function.with_default
    ]
    if missing:
        raise LLMOpsError(f"{where}: parameter(s) {', '.join(missing)} get no input")
    return used


def _line_outputs(data: Any, node: str, shown: str) -> list[str]:
    """Output names: each must read the per-line node's dict entry of its own name."""
    if not isinstance(data, dict) or not data:
        raise LLMOpsError(f"{shown}: outputs: an evaluation flow needs at least one output")
    names = []
    for name, spec in data.items():
        reference = spec.get("reference") if isinstance(spec, dict) else None
        parsed = parse_value(reference, f"{shown}: outputs.{name}")
        if not (isinstance(parsed, Ref) and parsed.node == node and parsed.path == (name,)):
            raise LLMOpsError(
                f"{shown}: outputs.{name} reads {reference}; an evaluator's line outputs are "
                f"the keys of the dict {node} returns: make it ${{{node}.output.{name}}}"
            )
        names.append(str(name))
    return names


def _aggregate(
    node: dict[str, Any], scorer: str, folder: Path, root: Path, shown: str
) -> tuple[str, str, list[str]]:
    """``(function, file, metric names)`` of the aggregation node."""
    where = f"{shown}: node '{node.get('name')}'"
    given = node.get("inputs") or {}
    values = [parse_value(value, f"{where}: inputs") for value in given.values()]
    if len(values) != 1 or values[0] != Ref(scorer, scorer):
        raise LLMOpsError(
            f"{where}: an aggregation converts when its one input is ${{{scorer}.output}} "
            "(the list of every line's result)"
        )
    path, function = _function(node, folder, root, shown)
    required = [name for name in function.parameters if name not in function.with_default]
    if len(required) > 1:
        raise LLMOpsError(f"{where}: {path}:{function.name} needs more than the line results")
    metrics = metric_names(folder / path, relative(folder / path, root), function.name)
    return function.name, path, metrics
