"""Managed by the LLMOps template. ``llmops migrate-flow``: a ``Prompty.load`` as a chat node.

A chat node of workflow.yaml needs the prompt file, a connection, a deployment when it
is not the connection's own, and model options. From ``Prompty.load(source, model=)``:

* the file: the one ``.prompty`` path literal in ``source`` (or in the module-level
  constant it names), inside the flow folder; it is kept as it is, and llmops applies
  its front matter's ``model.parameters`` as prompt flow did;
* the connection and deployment, as prompt flow merges ``model=`` over the front
  matter's ``model``: a ``connection`` / ``azure_deployment`` / ``model`` written as a
  literal in the code's configuration, else in the front matter's (a configuration
  object in the code replaces the front matter's; ``${env:...}`` values are skipped);
  else the connection parameter the configuration was built from (a DAG python node);
  else the use case's only connection, with a note, as the code built its
  configuration at run time (endpoint and key come from that connection's variables);
* options: the code's ``parameters`` (a literal), over the front matter's.

A Prompty that prompt flow answers with anything but the reply text (JSON parsed to a
dict, all choices, a stream, the completion API) is refused by line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from llmops.config import ConnectionSpec
from llmops.engine.af_prompts import FRONT_MATTER
from llmops.errors import LLMOpsError
from llmops.paths import relative

MODEL_KEYS = frozenset({"configuration", "parameters", "api", "response"})
CONFIGURATION_KEYS = ("connection", "azure_deployment", "model")
Fallback = tuple[str, str] | None
"""The use case's only connection and why it is the one, when there is one."""


@dataclass
class PromptyNode:
    """A chat node for one ``Prompty.load`` call."""

    settings: dict[str, Any]
    defaults: dict[str, Any] = field(default_factory=dict)
    """Prompty inputs with a default: added to calls that leave them out, as prompt flow did."""
    assumed: str = ""
    """Why the connection was chosen when the code built its configuration at run time."""
    reads: set[str] = field(default_factory=set)
    """Connection parameters the removed model configuration read."""


@dataclass(frozen=True)
class Where:
    """The file being converted, for resolving paths and naming lines."""

    path: Path
    folder: Path
    root: Path
    tree: ast.Module

    @property
    def shown(self) -> str:
        return relative(self.path, self.root)

    def at(self, node: ast.AST) -> str:
        return f"{self.shown}:{getattr(node, 'lineno', 1)}"


def prompty_node(
    load: ast.Call,
    where: Where,
    connections: dict[str, ConnectionSpec],
    fallback: Fallback,
    parameters: dict[str, Any],
) -> PromptyNode:
    """The node settings of ``load``; ``parameters`` are the connection parameters of the
    function it is in, with the values the flow gives them."""
    at = where.at(load)
    keywords = {item.arg: item.value for item in load.keywords}
    if None in keywords or len(load.args) > 1 or set(keywords) - {"source", "model"}:
        raise LLMOpsError(
            f"{at}: Prompty.load converts with `source` and an optional `model` only "
            "(no other arguments, no **kwargs)"
        )
    source = load.args[0] if load.args else keywords.get("source")
    if source is None:
        raise LLMOpsError(f"{at}: Prompty.load without a source")
    prompt = _prompt_file(source, where, at)
    meta = _front_matter(where.folder / prompt, relative(where.folder / prompt, where.root))
    model = _model(keywords.get("model"), at)
    front = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    api = _literal(model.get("api"), at, "model api") or front.get("api") or "chat"
    response = _literal(model.get("response"), at, "model response") or front.get("response")
    code_parameters = _literal(model.get("parameters"), at, "model parameters") or {}
    if not isinstance(code_parameters, dict):
        raise LLMOpsError(f"{at}: model parameters: write a dict literal")
    front_parameters = front.get("parameters") if isinstance(front.get("parameters"), dict) else {}
    _refuse_other_replies(
        at, api, response, {**front_parameters, **code_parameters}, meta.get("template")
    )
    code_configuration = model.get("configuration")
    front_configuration = _plain(front.get("configuration"))
    found = _configuration_literals(code_configuration)
    if code_configuration is None:
        configuration = front_configuration
    elif isinstance(code_configuration, ast.Dict):
        configuration = {**front_configuration, **found}
    else:
        configuration = found
    reads = {
        node.id
        for node in ast.walk(code_configuration or ast.Module(body=[], type_ignores=[]))
        if isinstance(node, ast.Name) and node.id in parameters
    }
    node = PromptyNode({}, _defaults(meta), reads=reads)
    connection = configuration.get("connection")
    if connection is None and reads:
        connection = parameters[sorted(reads)[0]]
    if connection is None and fallback is not None:
        connection, node.assumed = fallback
    if connection is None:
        raise LLMOpsError(
            f"{at}: the Prompty's connection is not written in the code or the front matter: "
            'name it, e.g. `model={"configuration": {"connection": "<name>"}}` or '
            "`connection: <name>` under the front matter's model.configuration "
            f"(defined: {', '.join(connections) or 'none'})"
        )
    if connection not in connections:
        raise LLMOpsError(
            f"{at}: connection '{connection}' is not a connection of config/connections.yaml "
            f"(defined: {', '.join(connections) or 'none'})"
        )
    spec = connections[str(connection)]
    keys = ("azure_deployment", "model") if spec.type == "azure_openai" else ("model",)
    deployment = next((configuration[key] for key in keys if configuration.get(key)), None)
    node.settings = {"connection": str(connection), "prompt": prompt}
    if deployment and deployment != spec.deployment:
        node.settings["deployment"] = str(deployment)
    if code_parameters:
        node.settings["options"] = dict(code_parameters)
    return node


def _prompt_file(source: ast.expr, where: Where, at: str) -> str:
    """The flow-folder path of the one ``.prompty`` literal in ``source`` (or its constant)."""
    expressions: list[ast.AST] = [source]
    if isinstance(source, ast.Name):
        expressions += [
            statement.value
            for statement in where.tree.body
            if isinstance(statement, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == source.id for t in statement.targets)
        ]
    found = {
        node.value
        for expression in expressions
        for node in ast.walk(expression)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.endswith(".prompty")
    }
    if len(found) != 1:
        raise LLMOpsError(
            f"{at}: Prompty.load's source: write the .prompty file as a path literal "
            '(e.g. `Path(__file__).parent / "chat.prompty"`), then run migrate-flow again'
        )
    name = found.pop()
    folder = where.folder.resolve()
    for base in (where.path.parent, where.folder):
        target = (base / name).resolve()
        if target.is_file() and target.is_relative_to(folder):
            return target.relative_to(folder).as_posix()
    raise LLMOpsError(f"{at}: {name}: no such .prompty file in the flow folder")


def _front_matter(path: Path, shown: str) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    found = FRONT_MATTER.match(text)
    try:
        data = yaml.safe_load(found.group("meta")) if found else {}
    except yaml.YAMLError as error:
        raise LLMOpsError(f"{shown}: invalid front matter: {error}") from None
    return data if isinstance(data, dict) else {}


def _model(expression: ast.expr | None, at: str) -> dict[str, ast.expr]:
    if expression is None:
        return {}
    if not isinstance(expression, ast.Dict) or not all(
        isinstance(key, ast.Constant) and key.value in MODEL_KEYS for key in expression.keys
    ):
        raise LLMOpsError(
            f"{at}: Prompty.load's model: write a dict literal with keys among "
            f"{', '.join(sorted(MODEL_KEYS))} (values may be expressions), then run "
            "migrate-flow again"
        )
    return {
        str(key.value): value
        for key, value in zip(expression.keys, expression.values, strict=True)
        if isinstance(key, ast.Constant)
    }


def _literal(expression: ast.expr | None, at: str, what: str) -> Any:
    if expression is None:
        return None
    try:
        return ast.literal_eval(expression)
    except ValueError:
        raise LLMOpsError(
            f"{at}: {what}: write the value itself; workflow.yaml fixes it per node"
        ) from None


def _refuse_other_replies(
    at: str, api: Any, response: Any, parameters: dict[str, Any], template: Any
) -> None:
    """prompt flow returns the reply text only in the plain case; line.complete does too."""
    response_format = parameters.get("response_format")
    kind = response_format.get("type") if isinstance(response_format, dict) else response_format
    problem = ""
    if api != "chat":
        problem = f"api {api!r}: only the chat API converts"
    elif response == "all":
        problem = "`response: all` returns the whole response"
    elif kind == "json_object":
        problem = "a json_object response_format returns a parsed dict"
    elif parameters.get("stream"):
        problem = "`stream: true` returns a generator"
    elif template not in (None, "jinja2"):
        problem = f"template {template!r}: only Jinja2 prompts convert"
    if problem:
        raise LLMOpsError(
            f"{at}: this Prompty's {problem}, while the workflow's line.complete returns the "
            "reply text: change the prompt (or parse the text in the code), then run "
            "migrate-flow again"
        )


def _plain(configuration: Any) -> dict[str, str]:
    """Literal settings of a front matter configuration (``${env:...}`` skipped)."""
    if not isinstance(configuration, dict):
        return {}
    return {
        key: value
        for key, value in configuration.items()
        if key in CONFIGURATION_KEYS and isinstance(value, str) and not value.startswith("${")
    }


def _configuration_literals(expression: ast.expr | None) -> dict[str, str]:
    """``{"connection": "aoai"}`` or ``...Configuration(azure_deployment="x")``: the literals."""
    pairs: list[tuple[Any, ast.expr]] = []
    if isinstance(expression, ast.Dict):
        pairs = [
            (key.value, value)
            for key, value in zip(expression.keys, expression.values, strict=True)
            if isinstance(key, ast.Constant)
        ]
    elif isinstance(expression, ast.Call):
        pairs = [(item.arg, item.value) for item in expression.keywords]
    return {
        str(key): value.value
        for key, value in pairs
        if key in CONFIGURATION_KEYS
        and isinstance(value, ast.Constant)
        and isinstance(value.value, str)
        and not value.value.startswith("${")
    }


def _defaults(meta: dict[str, Any]) -> dict[str, Any]:
    inputs = meta.get("inputs")
    if not isinstance(inputs, dict):
        return {}
    return {
        str(name): spec["default"]
        for name, spec in inputs.items()
        if isinstance(spec, dict) and "default" in spec
    }
