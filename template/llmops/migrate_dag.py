"""Managed by the LLMOps template. ``llmops migrate-flow``: a standard DAG flow's nodes.

Reads ``flow.dag.yaml`` as YAML and turns each node into a ``Step`` for
``migrate_workflow`` and, for LLM nodes, an entry of ``workflow.yaml`` ``nodes``:

* ``llm`` (chat API, a Jinja2 prompt file in the folder): the prompt file as it is, the
  connection, the deployment when it is not the connection's own, model options
  (temperature, max_tokens, ...); the other inputs are the prompt's values.
  ``node_variants`` become the node's variants (same ids, same default); settings all
  variants share are written once on the node;
* ``prompt``: the template rendered to text, no LLM call;
* ``python``: the function, called with the node's inputs; when it calls a model
  (a Prompty, prompt flow's embedding tool function with its connection input), those
  calls become workflow.yaml nodes and the function takes ``line`` (``migrate_calls``);
* prompt flow's embedding tool: an embedding node (``line.embed``), its deployment.

Refused, naming node and key: other node types and package tools (``source.tool``),
a completion API, tool calling, connections the project does not define, a python
node using its prompt flow connection otherwise, options read from other nodes,
variants that change more than an LLM node's prompt and options, and aggregation nodes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from llmops.config import ConnectionSpec
from llmops.engine.af_manifest import IDENTIFIER, VARIANT_ID
from llmops.errors import LLMOpsError
from llmops.migrate_base import Ref, parse_value, python_literal
from llmops.migrate_calls import OPENAI_EMBEDDING_DEFAULT, FileCalls, Target, plan_calls
from llmops.migrate_code import find_function, parse
from llmops.migrate_prompty import Fallback
from llmops.migrate_workflow import Step
from llmops.paths import relative

OPTIONS = (
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "logit_bias",
    "user",
    "response_format",
)
"""LLM node inputs that are model options (the rest are the prompt's values)."""
DEPLOYMENT_KEYS = ("deployment_name", "model")
EMBEDDING_TOOL = "promptflow.tools.embedding.embedding"
TOOL_CALLING = ("tools", "tool_choice", "functions", "function_call")
RESERVED = frozenset({"inputs", "outputs"})
LLMNode = dict[str, Any]


@dataclasses.dataclass
class Steps:
    """A DAG flow's nodes, read: what the generated workflow and manifest are made of."""

    steps: list[Step]
    """In run order."""
    nodes: dict[str, LLMNode]
    """The manifest's LLM and embedding nodes."""
    lines: list[str]
    """A plan line per node."""
    calls: dict[Path, FileCalls]
    """Python files whose model calls now go through ``line``."""


def read_steps(
    data: dict[str, Any],
    folder: Path,
    root: Path,
    connections: dict[str, ConnectionSpec],
    fallback: Fallback = None,
) -> Steps:
    """The flow's nodes as steps, manifest nodes and plan lines (see ``Steps``)."""
    shown = relative(folder / "flow.dag.yaml", root)
    nodes = data.get("nodes") or []
    variants = data.get("node_variants") or {}
    if not isinstance(nodes, list) or not isinstance(variants, dict):
        raise LLMOpsError(f"{shown}: `nodes` must be a list and `node_variants` a mapping")
    steps: list[Step] = []
    manifest: dict[str, LLMNode] = {}
    lines: dict[str, str] = {}
    for raw in nodes:
        name = str(raw.get("name", "")) if isinstance(raw, dict) else ""
        where = f"{shown}: node '{name}'"
        if not IDENTIFIER.match(name) or name in RESERVED:
            raise LLMOpsError(
                f"{where}: rename the node to a Python name other than inputs/outputs"
            )
        if raw.get("aggregation"):
            raise LLMOpsError(
                f"{where}: an aggregation node in a standard flow has no Agent Framework "
                "counterpart: move it to an evaluation flow"
            )
        if raw.get("use_variants"):
            step, node, line = _variant_step(name, variants.get(name), where, folder, connections)
        else:
            step, node, line = _step(name, raw, where, folder, root, connections)
        steps.append(step)
        lines[name] = line
        if node is not None:
            manifest[name] = node
    calls = _model_calls(steps, folder, root, shown, connections, fallback, manifest, lines)
    return Steps(_in_order(steps, shown), manifest, list(lines.values()), calls)


def _model_calls(
    steps: list[Step],
    folder: Path,
    root: Path,
    shown: str,
    connections: dict[str, ConnectionSpec],
    fallback: Fallback,
    manifest: dict[str, LLMNode],
    lines: dict[str, str],
) -> dict[Path, FileCalls]:
    """Python nodes calling a model: their files' call plans; manifest and steps updated."""
    by_file: dict[str, list[Step]] = {}
    for step in steps:
        if step.kind == "python" and step.function is not None:
            by_file.setdefault(step.source, []).append(step)
    taken = {step.name for step in steps}
    found: dict[Path, FileCalls] = {}
    for source, group in by_file.items():
        targets: dict[str, Target] = {}
        for step in group:
            assert step.function is not None
            where = f"{shown}: node '{step.name}'"
            if step.function.name in targets:
                where = f"{targets[step.function.name].where} and '{step.name}'"
            targets[step.function.name] = Target(step.function.name, where, bound=step.inputs)
        path = folder / source
        calls = plan_calls(
            path, folder, root, list(targets.values()), connections, fallback, taken, manifest
        )
        if calls is None:
            continue
        for step in group:
            assert step.function is not None
            if step.function.name not in calls.converted:
                continue
            if len([s for s in group if s.function == step.function]) > 1:
                raise LLMOpsError(
                    f"{targets[step.function.name].where}: share {source}:{step.function.name}, "
                    "whose model calls become workflow.yaml nodes: give each node a function "
                    "of its own, then run migrate-flow again"
                )
            dropped = calls.converted[step.function.name]
            step.function = dataclasses.replace(step.function, is_async=True, takes_line=True)
            step.inputs = {key: value for key, value in step.inputs.items() if key != dropped}
            lines[step.name] = (
                f"{step.name}: python node -> calls {source}:{step.function.name} (awaited, "
                "with `line` for its model calls)"
            )
        manifest.update(calls.nodes)
        found[path] = calls
    return found


def _step(
    name: str,
    raw: dict[str, Any],
    where: str,
    folder: Path,
    root: Path,
    connections: dict[str, ConnectionSpec],
) -> tuple[Step, LLMNode | None, str]:
    kind = raw.get("type")
    source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
    if source.get("tool") == EMBEDDING_TOOL:
        return _embedding(name, raw, where, connections)
    if source.get("type", "code") != "code" or "tool" in source:
        raise LLMOpsError(
            f"{where}: uses the package tool `{source.get('tool', '?')}`; only llm nodes with a "
            "Jinja2 prompt, prompt nodes and python nodes with code in the flow folder convert"
        )
    path = _own_file(folder, source.get("path"), f"{where}: source.path")
    activate = _activate(raw, where)
    if kind == "llm":
        connection, settings, values = _llm(raw, where, folder, connections)
        blanks = _blank_variables(folder, [str(settings["prompt"])], values)
        node: LLMNode = {"connection": connection, **settings}
        step = Step(name, "llm", values, path, activate, blanks=blanks)
        return step, node, f"{name}: llm node -> workflow.yaml nodes.{name} ({_settings(node)})"
    inputs = _inputs(raw, where)
    if kind == "prompt":
        return Step(name, "prompt", inputs, path, activate), None, f"{name}: prompt node -> render"
    if kind != "python":
        raise LLMOpsError(
            f"{where}: type '{kind}' has no Agent Framework counterpart here "
            "(llm, prompt and python nodes convert)"
        )
    if not path.endswith(".py"):
        raise LLMOpsError(f"{where}: source.path '{path}' is not a .py file")
    shown_file = relative(folder / path, root)
    _, tree = parse(folder / path, shown_file)
    function = find_function(tree, raw.get("function"), shown_file)
    module = path[: -len(".py")].replace("/", ".")
    step = Step(name, "python", inputs, path, activate, function=function, module=module)
    how = "awaited" if function.is_async else "in a worker thread, as prompt flow ran it"
    return step, None, f"{name}: python node -> calls {path}:{function.name} ({how})"


def _embedding(
    name: str, raw: dict[str, Any], where: str, connections: dict[str, ConnectionSpec]
) -> tuple[Step, LLMNode, str]:
    """Prompt flow's embedding tool: an embedding node, one text in, one vector out."""
    inputs = _inputs(raw, where)
    connection = inputs.pop("connection", raw.get("connection"))
    if connection not in connections:
        known = ", ".join(connections) or "none"
        raise LLMOpsError(
            f"{where}: connection '{connection}' is not a connection of config/connections.yaml "
            f"(defined: {known})"
        )
    spec = connections[str(connection)]
    model = inputs.pop("model", OPENAI_EMBEDDING_DEFAULT)
    deployment = inputs.pop("deployment_name", "")
    deployment = deployment if spec.type == "azure_openai" else model
    if isinstance(deployment, Ref) or not deployment or set(inputs) != {"input"}:
        raise LLMOpsError(
            f"{where}: the embedding tool converts with a fixed deployment_name (or model) "
            "and one `input`"
        )
    node: LLMNode = {"kind": "embedding", "connection": str(connection)}
    node["deployment"] = str(deployment)
    step = Step(name, "embedding", inputs, EMBEDDING_TOOL, _activate(raw, where))
    line = f"{name}: embedding tool -> workflow.yaml nodes.{name} ({connection}, {deployment})"
    return step, node, line


def _own_file(folder: Path, path: Any, where: str) -> str:
    """A file inside the flow folder, as a relative POSIX path."""
    if not isinstance(path, str) or not path:
        raise LLMOpsError(f"{where}: missing")
    target = (folder / path).resolve()
    if not target.is_relative_to(folder.resolve()):
        raise LLMOpsError(f"{where}: '{path}' lies outside the flow folder: copy it in first")
    if not target.is_file():
        raise LLMOpsError(f"{where}: '{path}' not found")
    return target.relative_to(folder.resolve()).as_posix()


def _inputs(raw: dict[str, Any], where: str) -> dict[str, Any]:
    inputs = raw.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise LLMOpsError(f"{where}: inputs: expected a mapping")
    return {str(key): parse_value(value, f"{where}: inputs.{key}") for key, value in inputs.items()}


def _activate(raw: dict[str, Any], where: str) -> tuple[Any, Any] | None:
    config = raw.get("activate")
    if config is None:
        return None
    if not isinstance(config, dict) or "when" not in config or "is" not in config:
        raise LLMOpsError(f"{where}: activate: expected `when` and `is`")
    return parse_value(config["when"], f"{where}: activate.when"), config["is"]


def _llm(
    raw: dict[str, Any], where: str, folder: Path, connections: dict[str, ConnectionSpec]
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Connection, manifest settings (prompt, deployment, options) and prompt values."""
    if raw.get("api", "chat") != "chat":
        raise LLMOpsError(
            f"{where}: api '{raw.get('api')}': only the chat API converts (the completion "
            "API's models are retired)"
        )
    connection = raw.get("connection")
    if connection not in connections:
        known = ", ".join(connections) or "none"
        raise LLMOpsError(
            f"{where}: connection '{connection}' is not an azure_openai or openai connection of "
            f"config/connections.yaml (defined: {known}); custom connections do not convert"
        )
    source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
    prompt = _own_file(folder, source.get("path"), f"{where}: source.path")
    if not prompt.endswith(".jinja2"):
        raise LLMOpsError(
            f"{where}: prompt '{prompt}': rename it to a .jinja2 file (and source.path), then "
            "run migrate-flow again"
        )
    settings: dict[str, Any] = {"prompt": prompt}
    options: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for key, value in _inputs(raw, where).items():
        fixed = key in DEPLOYMENT_KEYS or key in OPTIONS or key in TOOL_CALLING or key == "n"
        if fixed and isinstance(value, Ref):
            raise LLMOpsError(
                f"{where}: inputs.{key} reads {value}; workflow.yaml fixes model settings per "
                "node and variant: write the value itself"
            )
        if key in DEPLOYMENT_KEYS:
            if value != connections[str(connection)].deployment:
                settings["deployment"] = str(value)
        elif key in OPTIONS:
            if value not in (None, "", {}, []):
                options[key] = value
        elif key in TOOL_CALLING:
            if value:
                raise LLMOpsError(
                    f"{where}: inputs.{key}: tool calling in an llm node does not convert "
                    "(the workflow reads the reply text only)"
                )
        elif key == "n":
            if value not in (1, "1", None):
                raise LLMOpsError(f"{where}: inputs.n: only one completion per call converts")
        elif key != "stream":
            values[key] = value
    if options:
        settings["options"] = options
    return str(connection), settings, values


def _variant_step(
    name: str,
    spec: Any,
    where: str,
    folder: Path,
    connections: dict[str, ConnectionSpec],
) -> tuple[Step, LLMNode, str]:
    """An LLM node with variants: one connection and values, per-variant settings."""
    variants = spec.get("variants") if isinstance(spec, dict) else None
    if not isinstance(variants, dict) or not variants:
        raise LLMOpsError(f"{where}: use_variants is set but node_variants.{name} has none")
    default = str(spec.get("default_variant_id") or next(iter(variants)))
    if default not in variants:
        raise LLMOpsError(f"{where}: node_variants.{name}.default_variant_id '{default}' unknown")
    per: dict[str, dict[str, Any]] = {}
    values: dict[str, Any] = {}
    connection_names: set[str] = set()
    activates = set()
    for variant_id, variant in variants.items():
        at = f"{where}, variant '{variant_id}'"
        node = variant.get("node") if isinstance(variant, dict) else None
        if not isinstance(node, dict) or node.get("type") != "llm":
            raise LLMOpsError(
                f"{at}: not an llm node; Agent Framework variants change an LLM node's prompt "
                "and options only"
            )
        if not VARIANT_ID.match(str(variant_id)):
            raise LLMOpsError(f"{at}: rename the variant (letters, digits, '_' and '-')")
        connection, settings, given = _llm(node, at, folder, connections)
        connection_names.add(connection)
        activates.add(repr(_activate(node, at)))
        for key, value in given.items():
            if key in values and values[key] != value:
                raise LLMOpsError(
                    f"{at}: inputs.{key} differs between variants; variants may change the "
                    "prompt and options, not the values the prompt is given"
                )
            values[key] = value
        per[str(variant_id)] = settings
    if len(connection_names) > 1 or len(activates) > 1:
        raise LLMOpsError(f"{where}: variants use different connections or activate conditions")
    shared = _shared(list(per.values()))
    node: LLMNode = {
        "connection": connection_names.pop(),
        **shared,
        "default_variant": default,
        "variants": {variant_id: _minus(settings, shared) for variant_id, settings in per.items()},
    }
    prompts = sorted({str(settings["prompt"]) for settings in per.values()})
    blanks = _blank_variables(folder, prompts, values)
    activate = _activate(variants[default]["node"], where)
    step = Step(name, "llm", values, str(per[default]["prompt"]), activate, blanks=blanks)
    ids = ", ".join(f"{vid} (default)" if vid == default else vid for vid in per)
    return step, node, f"{name}: llm node with variants {ids} -> workflow.yaml nodes.{name}"


def _shared(settings: list[dict[str, Any]]) -> dict[str, Any]:
    """Settings every variant has alike (written once on the node)."""
    first, *others = settings
    shared = {
        key: value
        for key, value in first.items()
        if key != "options" and all(other.get(key) == value for other in others)
    }
    options = {
        key: value
        for key, value in (first.get("options") or {}).items()
        if all((other.get("options") or {}).get(key, object()) == value for other in others)
    }
    return {**shared, **({"options": options} if options else {})}


def _minus(settings: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    own = {key: value for key, value in settings.items() if key != "options" and key not in shared}
    common = shared.get("options") or {}
    options = {k: v for k, v in (settings.get("options") or {}).items() if k not in common}
    return {**own, **({"options": options} if options else {})}


def _blank_variables(folder: Path, prompts: list[str], values: dict[str, Any]) -> tuple[str, ...]:
    """Prompt variables the node does not give: prompt flow rendered them empty."""
    import jinja2
    from jinja2 import meta

    used: set[str] = set()
    for prompt in prompts:
        try:
            parsed = jinja2.Environment().parse((folder / prompt).read_text(encoding="utf-8"))
        except jinja2.TemplateSyntaxError as error:
            raise LLMOpsError(f"{prompt}:{error.lineno}: Jinja2 syntax error: {error}") from None
        used |= meta.find_undeclared_variables(parsed)
    return tuple(sorted(used - set(values)))


def _settings(node: LLMNode) -> str:
    parts = [str(node["connection"]), str(node["prompt"])]
    if node.get("deployment"):
        parts.append(f"deployment {node['deployment']}")
    parts += [f"{key} {python_literal(value)}" for key, value in node.get("options", {}).items()]
    return ", ".join(parts)


def _in_order(steps: list[Step], shown: str) -> list[Step]:
    """Every node after the nodes it reads; file order where the DAG leaves a choice."""
    names = {step.name for step in steps}
    for step in steps:
        missing = sorted(step.waits_for - names)
        if missing:
            raise LLMOpsError(f"{shown}: node '{step.name}' reads node '{missing[0]}', not found")
    ordered: list[Step] = []
    done: set[str] = set()
    pending = list(steps)
    while pending:
        ready = next((step for step in pending if step.waits_for <= done), None)
        if ready is None:
            cycle = ", ".join(step.name for step in pending)
            raise LLMOpsError(f"{shown}: nodes {cycle} read each other in a cycle")
        ordered.append(ready)
        done.add(ready.name)
        pending.remove(ready)
    return ordered
