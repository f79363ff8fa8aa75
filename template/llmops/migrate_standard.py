"""Managed by the LLMOps template. ``llmops migrate-flow``: standard flows to workflows.

A DAG flow (``flow.dag.yaml``) becomes ``workflow.yaml`` (inputs with their defaults,
outputs, LLM nodes with prompt, connection, options and variants) and a generated
``workflow.py`` (one executor per node: ``migrate_workflow``). A flex flow
(``flow.flex.yaml``) becomes a ``workflow.py`` whose one executor calls the entry
function, or an instance of the entry class, with the line's inputs. The flow's other
files stay; their Python loses its prompt flow imports (``migrate_code``), and the
model calls of the functions the workflow calls go through ``line`` (``migrate_calls``).
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

from llmops.config import ConnectionSpec, read_yaml
from llmops.engine.af_manifest import IDENTIFIER, WORKFLOW_FILE, WorkflowManifest
from llmops.errors import LLMOpsError
from llmops.migrate_base import (
    FolderPlan,
    Ref,
    block_scalar,
    checked_manifest,
    flow_inputs,
    flow_mapping,
    header_comments,
    input_lines,
    parse_value,
    prompt_flow_files,
    read_flow,
    rewrite_code,
    schema_comment,
)
from llmops.migrate_calls import Target, plan_calls
from llmops.migrate_code import Function, find_function, parse
from llmops.migrate_dag import read_steps
from llmops.migrate_prompty import Fallback
from llmops.migrate_workflow import Step, dag_source, flex_source
from llmops.paths import EXPERIMENT_FILE, relative, use_case_dir

CODE_FILE = "workflow.py"
EMPTY = '""'
ANNOTATION_TYPES = {
    "str": "string",
    "int": "int",
    "float": "double",
    "bool": "bool",
    "list": "list",
    "dict": "object",
}


def plan_dag(
    folder: Path, root: Path, name: str, connections: dict[str, ConnectionSpec]
) -> FolderPlan:
    """workflow.yaml + workflow.py from ``flow.dag.yaml`` (nothing written yet)."""
    flow_file = folder / "flow.dag.yaml"
    shown = relative(flow_file, root)
    data = read_flow(flow_file, root)
    if data.get("additional_includes"):
        raise LLMOpsError(
            f"{shown}: additional_includes: copy those files into the flow folder and drop the "
            "key (an Agent Framework flow folder holds all its files), then run migrate-flow again"
        )
    _refuse_existing(folder, root)
    inputs = flow_inputs(data.get("inputs"), shown)
    fallback = only_connection(root, name, connections)
    read = read_steps(data, folder, root, connections, fallback)
    steps, nodes = read.steps, read.nodes
    outputs = _outputs(data.get("outputs"), shown)
    _check_references(steps, outputs, inputs, shown)
    plan = FolderPlan(folder, "standard flow", lines=read.lines)
    for calls in read.calls.values():
        plan.lines += calls.lines
        plan.notes += calls.notes
    header = header_comments(flow_file)
    title = [line.lstrip("#").strip() for line in header]
    plan.writes[folder / CODE_FILE] = _compiled(dag_source(title, name, steps, outputs), folder)
    descriptions = {
        output: _describe(ref, data["outputs"][output]) for output, ref in outputs.items()
    }
    manifest = _manifest(folder, root, header, "flow.dag.yaml", inputs, descriptions, nodes)
    plan.writes[folder / WORKFLOW_FILE] = manifest
    for step in steps:
        if step.blanks:
            plan.notes.append(
                f"{relative(folder / step.source, root)}: uses {', '.join(step.blanks)}, which "
                f"node '{step.name}' does not give: prompt flow rendered it empty, so "
                'workflow.py passes "" (llmops refuses undefined prompt variables)'
            )
    rewrite_code(plan, root, calls=read.calls)
    prompt_flow_files(plan, flow_file, data, root)
    return plan


def only_connection(root: Path, use_case: str, connections: dict[str, ConnectionSpec]) -> Fallback:
    """The connection code that builds its model configuration at run time must have used:
    the experiment's only connection, else the project's only one."""
    path = use_case_dir(root, use_case) / EXPERIMENT_FILE
    data = read_yaml(path, relative(path, root)) if path.is_file() else {}
    listed = data.get("connections") if isinstance(data, dict) else None
    names = [str(item) for item in listed] if isinstance(listed, list) else []
    if len(names) == 1 and names[0] in connections:
        return names[0], "the experiment's only connection"
    if len(connections) == 1:
        return next(iter(connections)), "the project's only connection"
    return None


def plan_flex(
    folder: Path, root: Path, name: str, connections: dict[str, ConnectionSpec]
) -> FolderPlan:
    """workflow.yaml + workflow.py around a flex flow's entry (nothing written yet)."""
    flow_file = folder / "flow.flex.yaml"
    shown = relative(flow_file, root)
    data = read_flow(flow_file, root)
    _refuse_existing(folder, root)
    entry = data.get("entry")
    module, _, attribute = str(entry or "").partition(":")
    if not module or not attribute.isidentifier():
        raise LLMOpsError(f"{shown}: entry: expected `<module>:<function or class>`, not {entry!r}")
    code_file = folder / (module.replace(".", "/") + ".py")
    shown_code = relative(code_file, root)
    _, tree = parse(code_file, shown_code)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == attribute]
    class_name = classes[0].name if classes else None
    if classes:
        function = _entry_method(classes[0], shown_code)
    else:
        function = find_function(tree, attribute, shown_code)
    declared = data.get("inputs")
    inputs = (
        flow_inputs(declared, shown)
        if isinstance(declared, dict)
        else _signature_inputs(tree, attribute, class_name, shown_code)
    )
    declared_outputs = data.get("outputs")
    outputs = (
        {str(key): "" for key in declared_outputs}
        if isinstance(declared_outputs, dict) and declared_outputs
        else _returned_keys(tree, function, class_name)
    )
    target = Target(function.name, f"{shown}: entry {entry}", class_name)
    fallback = only_connection(root, name, connections)
    calls = plan_calls(code_file, folder, root, [target], connections, fallback, set())
    if calls is not None and function.name in calls.converted:
        function = dataclasses.replace(function, is_async=True, takes_line=True)
    plan = FolderPlan(folder, "flex flow")
    plan.lines.append(
        f"entry {entry}: one executor calls it "
        + ("(awaited)" if function.is_async else "(in a worker thread, as prompt flow ran it)")
    )
    if calls is not None:
        plan.lines += calls.lines
        plan.notes += calls.notes
    header = header_comments(flow_file)
    title = [line.lstrip("#").strip() for line in header]
    source = flex_source(title, name, module, function, class_name, list(inputs))
    plan.writes[folder / CODE_FILE] = _compiled(source, folder)
    plan.writes[folder / WORKFLOW_FILE] = _manifest(
        folder, root, header, "flow.flex.yaml", inputs, outputs, calls.nodes if calls else {}
    )
    rewrite_code(plan, root, calls={code_file: calls} if calls else None)
    prompt_flow_files(plan, flow_file, data, root)
    return plan


def _refuse_existing(folder: Path, root: Path) -> None:
    for name in (WORKFLOW_FILE, CODE_FILE):
        if (folder / name).exists():
            raise LLMOpsError(
                f"{relative(folder / name, root)} already exists: migrate-flow writes it; move "
                "it aside (or rename it) and run migrate-flow again"
            )


def _outputs(data: Any, shown: str) -> dict[str, Ref]:
    if not isinstance(data, dict) or not data:
        raise LLMOpsError(f"{shown}: outputs: a workflow needs at least one output")
    outputs: dict[str, Ref] = {}
    for name, spec in data.items():
        reference = spec.get("reference") if isinstance(spec, dict) else None
        value = parse_value(reference, f"{shown}: outputs.{name}.reference")
        if not isinstance(value, Ref):
            raise LLMOpsError(f"{shown}: outputs.{name}.reference: expected ${{<node>.output}}")
        if not IDENTIFIER.match(str(name)):
            raise LLMOpsError(f"{shown}: outputs.{name}: rename it (letters, digits and '_')")
        outputs[str(name)] = value
    return outputs


def _check_references(
    steps: list[Step], outputs: dict[str, Ref], inputs: dict[str, Any], shown: str
) -> None:
    names = {step.name for step in steps}
    for step in steps:
        values = list(step.inputs.values()) + ([step.activate[0]] if step.activate else [])
        for value in values:
            if isinstance(value, Ref) and value.node is None and value.name not in inputs:
                raise LLMOpsError(f"{shown}: node '{step.name}' reads {value}: no such input")
    for name, ref in outputs.items():
        if (ref.node is None and ref.name not in inputs) or (ref.node and ref.node not in names):
            raise LLMOpsError(f"{shown}: outputs.{name} reads {ref}, which does not exist")


def _describe(ref: Ref, spec: Any) -> str:
    if isinstance(spec, dict) and spec.get("description"):
        return str(spec["description"])
    return f"flow input {ref.name}" if ref.node is None else f"from node {ref.node}"


def _manifest(
    folder: Path,
    root: Path,
    header: list[str],
    source: str,
    inputs: dict[str, dict[str, Any]],
    outputs: dict[str, str],
    nodes: dict[str, dict[str, Any]],
) -> str:
    lines = [
        schema_comment(folder, root, "workflow.schema.json"),
        *header,
        f"# Converted from {source} by `llmops migrate-flow`; the executors are in {CODE_FILE}.",
        f"workflow: {CODE_FILE}:build_workflow",
        *input_lines(inputs),
        "outputs:",
        *(f"  {name}: {block_scalar(text) if text else EMPTY}" for name, text in outputs.items()),
    ]
    if nodes:
        lines.append("nodes:")
        for name, node in nodes.items():
            lines.append(f"  {name}:")
            for key, value in node.items():
                if key == "variants":
                    lines.append("    variants:")
                    lines += [f"      {vid}: {flow_mapping(s)}" for vid, s in value.items()]
                elif isinstance(value, dict):
                    lines.append(f"    {key}: {flow_mapping(value)}")
                else:
                    lines.append(f"    {key}: {block_scalar(value)}")
    text = "\n".join(lines) + "\n"
    return checked_manifest(text, relative(folder / WORKFLOW_FILE, root), WorkflowManifest)


def _compiled(source: str, folder: Path) -> str:
    """Generated code that parses (a converter bug must not reach the user's folder)."""
    try:
        ast.parse(source)
    except SyntaxError as error:
        raise LLMOpsError(
            f"{folder / CODE_FILE}: migrate-flow generated code that does not parse (line "
            f"{error.lineno}: {error.msg}); nothing was written: please report this"
        ) from None
    return source


def _entry_method(definition: ast.ClassDef, shown: str) -> Function:
    """``__call__`` of an entry class whose ``__init__`` needs no values."""
    module = ast.Module(body=definition.body, type_ignores=[])
    init = [n for n in definition.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
    if init:
        arguments = init[0].args
        required = len(arguments.args) - 1 - len(arguments.defaults)
        required += sum(1 for default in arguments.kw_defaults if default is None)
        if required > 0:
            raise LLMOpsError(
                f"{shown}:{init[0].lineno}: {definition.name}.__init__ takes values (prompt "
                "flow's `init`); give its parameters defaults, then run migrate-flow again"
            )
    called = find_function(module, "__call__", shown)
    parameters = tuple(name for name in called.parameters if name != "self")
    return Function(
        called.name,
        called.is_async,
        parameters,
        called.with_default,
        called.annotations,
        called.line,
    )


def _signature_inputs(
    tree: ast.Module, attribute: str, class_name: str | None, shown: str
) -> dict[str, dict[str, Any]]:
    """Inputs from the entry's parameters: type from the annotation, literal defaults."""
    body = tree.body
    if class_name:
        body = _class_body(tree, class_name)
        attribute = "__call__"
    definition = next(
        node
        for node in body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == attribute
    )
    arguments = [arg for arg in definition.args.args if arg.arg != "self"]
    defaults = dict(
        zip([a.arg for a in arguments][::-1], definition.args.defaults[::-1], strict=False)
    )
    inputs: dict[str, dict[str, Any]] = {}
    for argument in arguments:
        annotation = ast.unparse(argument.annotation) if argument.annotation else "str"
        entry: dict[str, Any] = {"type": ANNOTATION_TYPES.get(annotation.split("[")[0], "object")}
        if argument.arg in defaults:
            try:
                entry["default"] = ast.literal_eval(defaults[argument.arg])
            except ValueError:
                raise LLMOpsError(
                    f"{shown}:{definition.lineno}: the default of '{argument.arg}' is not a "
                    "literal: declare `inputs:` with its default in flow.flex.yaml"
                ) from None
        inputs[argument.arg] = entry
    return inputs


def _returned_keys(tree: ast.Module, function: Function, class_name: str | None) -> dict[str, str]:
    """Output names from a TypedDict or dataclass return annotation, else ``output``."""
    annotation = _return_annotation(tree, function, class_name)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == annotation:
            fields = [
                item.target.id
                for item in node.body
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
            ]
            if fields:
                return dict.fromkeys(fields, "")
    return {"output": ""}


def _return_annotation(tree: ast.Module, function: Function, class_name: str | None) -> str:
    body = tree.body
    if class_name:
        body = _class_body(tree, class_name)
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function.name:
            return ast.unparse(node.returns) if node.returns else ""
    return ""


def _class_body(tree: ast.Module, name: str) -> list[ast.stmt]:
    return next(n.body for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
