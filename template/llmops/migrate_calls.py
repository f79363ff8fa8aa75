"""Managed by the LLMOps template. ``llmops migrate-flow``: model calls in the user's Python.

Two prompt flow ways of calling a model from Python convert when the calls happen in a
function the workflow calls (a flex flow's entry, a python node's function):

* a Prompty, loaded in that function or at module level, ``p =
  Prompty.load(source=..., model=...)``, and called there, ``p(name=value)``: the
  .prompty file becomes a chat node of workflow.yaml (``migrate_prompty``) and each
  call ``await line.complete("<node>", name=value)``;
* prompt flow's embedding tool function, ``embedding(connection, text,
  deployment_name=...)``: an embedding node, each call ``(await
  line.embed("<node>", [text]))[0]`` (one text in, its vector out, as the tool did).

The function becomes ``async`` and takes ``line`` first; a parameter that took a prompt
flow connection goes (the node holds the connection). ``migrate_code`` applies the
edits, and ``migrate_prune`` removes what only the removed code used (the model
configuration, the path constant, their imports). Anything else that hands a
connection or a Prompty around is refused by file and line.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops.config import ConnectionSpec
from llmops.errors import LLMOpsError
from llmops.migrate_base import SKIPPED_DIRS, TEST_FILE, python_literal
from llmops.migrate_code import MODEL_CALLS, local_names, parse
from llmops.migrate_prompty import Fallback, Where, prompty_node
from llmops.migrate_prune import Splice, line_removal, node_splice, owns_lines, removal_lines
from llmops.paths import relative

EMBEDDING_MODULE = "promptflow.tools.embedding"
EMBEDDING_PARAMETERS = ("connection", "input", "deployment_name", "model")
OPENAI_EMBEDDING_DEFAULT = "text-embedding-ada-002"
"""The embedding tool's model when an OpenAI connection's call names none."""
Function = ast.FunctionDef | ast.AsyncFunctionDef
NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.GeneratorExp)


@dataclass
class Target:
    """A function the generated workflow calls, and the values the flow gives it."""

    name: str
    where: str
    """The flow file and node or entry, for messages."""
    class_name: str | None = None
    bound: dict[str, Any] = field(default_factory=dict)


@dataclass
class FileCalls:
    """How one Python file changes so that its model calls go through ``line``."""

    path: Path
    tree: ast.Module
    """The syntax tree the other fields point into."""
    splices: list[Splice] = field(default_factory=list)
    removed: list[ast.AST] = field(default_factory=list)
    scopes: list[Function] = field(default_factory=list)
    protected: set[str] = field(default_factory=set)
    converted: dict[str, str] = field(default_factory=dict)
    """Function -> the connection parameter it no longer takes ("" for none)."""
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """New manifest nodes."""
    embedders: set[str] = field(default_factory=set)
    """Embedding nodes the file's calls use."""
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _File:
    where: Where
    text: str
    lines: list[str]
    parents: dict[int, ast.AST]
    functions: dict[str, Function]
    scopes: dict[str, set[int]]
    connection_parameters: dict[str, dict[str, str]]


def plan_calls(
    path: Path,
    folder: Path,
    root: Path,
    targets: list[Target],
    connections: dict[str, ConnectionSpec],
    fallback: Fallback,
    taken: set[str],
    nodes: dict[str, dict[str, Any]] | None = None,
) -> FileCalls | None:
    """The edits that route ``path``'s model calls through ``line``; None when it has none.

    ``taken`` holds the names already used (new node names are added to it); ``nodes``
    the manifest's nodes so far, reused by a call with the very same settings.
    """
    text, tree = parse(path, relative(path, root))
    where = Where(path, folder, root, tree)
    file = _read(where, text, targets)
    prompty = local_names(tree, frozenset({"Prompty"}))
    embedders = _imported(tree, EMBEDDING_MODULE, "embedding")
    loads = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "load"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in prompty
    ]
    embeddings = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in embedders
    ]
    if not loads and not embeddings and not any(file.connection_parameters.values()):
        return None
    calls = FileCalls(path, tree)
    by_name = {target.name: target for target in targets}
    owners: set[str] = set()
    names = {_key(settings): name for name, settings in (nodes or {}).items()}
    for load in sorted(loads, key=lambda node: node.lineno):
        owners |= _convert_load(load, file, by_name, connections, fallback, calls, names, taken)
    for call in sorted(embeddings, key=lambda node: node.lineno):
        owners.add(_convert_embedding(call, file, by_name, connections, calls, names, taken))
    for target in targets:
        parameters = file.connection_parameters[target.name]
        if target.name in owners or parameters:
            _convert_function(target, file, calls)
    calls.protected = _protected(file, calls, targets)
    return calls


def _read(where: Where, text: str, targets: list[Target]) -> _File:
    tree = where.tree
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    functions: dict[str, Function] = {}
    for target in targets:
        body = tree.body
        if target.class_name:
            body = next(
                n.body
                for n in tree.body
                if isinstance(n, ast.ClassDef) and n.name == target.class_name
            )
        functions[target.name] = next(
            n for n in body if isinstance(n, Function) and n.name == target.name
        )
    return _File(
        where=where,
        text=text,
        lines=text.splitlines(keepends=True),
        parents=parents,
        functions=functions,
        scopes={name: _own_scope(function) for name, function in functions.items()},
        connection_parameters={
            name: {
                arg.arg: ast.unparse(arg.annotation)
                for arg in _arguments(function)
                if arg.annotation is not None and "Connection" in ast.unparse(arg.annotation)
            }
            for name, function in functions.items()
        },
    )


def _own_scope(function: Function) -> set[int]:
    """Node ids of the function's own body (not of functions, lambdas or generators in it)."""
    found: set[int] = set()
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        found.add(id(node))
        if not isinstance(node, NESTED):
            pending.extend(ast.iter_child_nodes(node))
    return found


def _arguments(function: Function) -> list[ast.arg]:
    arguments = function.args
    return [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]


def _imported(tree: ast.Module, module: str, name: str) -> set[str]:
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == module
        for alias in node.names
        if alias.name == name
    }


def _owner(node: ast.AST, file: _File) -> str | None:
    return next((name for name, scope in file.scopes.items() if id(node) in scope), None)


def _identifier(name: str) -> str:
    """A manifest node name (letters, digits, '_') from a file stem."""
    cleaned = re.sub(r"\W", "_", name).strip("_") or "node"
    return cleaned if cleaned[0].isalpha() else f"node_{cleaned}"


def _key(settings: dict[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True, default=str)


def _claim(
    settings: dict[str, Any], candidates: list[str], names: dict[str, str], taken: set[str]
) -> str:
    """One manifest node per distinct settings; a fresh name for each new one."""
    key = _key(settings)
    if key in names:
        return names[key]
    options = [_identifier(candidate) for candidate in candidates]
    base = options[0]
    chosen = next((name for name in options if name not in taken), None)
    number = 2
    while chosen is None:
        chosen = f"{base}_{number}" if f"{base}_{number}" not in taken else None
        number += 1
    taken.add(chosen)
    names[key] = chosen
    return chosen


def _convert_load(
    load: ast.Call,
    file: _File,
    targets: dict[str, Target],
    connections: dict[str, ConnectionSpec],
    fallback: Fallback,
    calls: FileCalls,
    names: dict[str, str],
    taken: set[str],
) -> set[str]:
    """Splices for one ``Prompty.load`` and its calls; the functions that now take ``line``."""
    where = file.where
    at = where.at(load)
    parent = file.parents[id(load)]
    owner = _owner(load, file)
    if isinstance(parent, ast.Call) and parent.func is load:
        if owner is None:
            raise LLMOpsError(_outside(at, "Prompty.load(...)(...)", targets, LOAD_HERE))
        sites, statement = [parent], None
    elif (
        isinstance(parent, ast.Assign)
        and len(parent.targets) == 1
        and isinstance(parent.targets[0], ast.Name)
        and owns_lines(file.lines, parent)
    ):
        name = parent.targets[0].id
        statement = parent
        if parent in where.tree.body:
            scope: ast.AST = where.tree
        elif owner is not None:
            scope = file.functions[owner]
        else:
            raise LLMOpsError(_outside(at, "Prompty.load", targets, LOAD_HERE))
        sites = []
        for use in ast.walk(scope):
            if not (isinstance(use, ast.Name) and use.id == name and use is not parent.targets[0]):
                continue
            call = file.parents[id(use)]
            if not (isinstance(call, ast.Call) and call.func is use) or _owner(call, file) is None:
                raise LLMOpsError(
                    f"{where.shown}:{use.lineno}: the Prompty `{name}` is used other than called "
                    f"(`{name}(...)`) in the function the flow calls: call it there, then run "
                    "migrate-flow again"
                )
            sites.append(call)
    else:
        raise LLMOpsError(
            f"{at}: assign the loaded Prompty to a name on a line of its own (`prompty = "
            "Prompty.load(...)`), in the function the flow calls or at module level, and call "
            "it there; then run migrate-flow again"
        )
    owners = {str(_owner(site, file)) for site in sites}
    bound = {
        parameter: targets[owner].bound.get(parameter) if owner else None
        for parameter in (file.connection_parameters.get(owner or "", {}))
    }
    node = prompty_node(load, where, connections, fallback, bound)
    stem = Path(str(node.settings["prompt"])).stem
    node_name = _claim(node.settings, [stem, f"{stem}_prompt"], names, taken)
    calls.nodes[node_name] = node.settings
    calls.lines.append(
        f"{where.shown.rsplit('/', 1)[-1]}:{load.lineno}: Prompty {node.settings['prompt']} -> "
        f"workflow.yaml nodes.{node_name} ({node.settings['connection']}); its calls -> "
        f'await line.complete("{node_name}", ...)'
    )
    if node.assumed:
        calls.notes.append(
            f"{at}: the Prompty's model configuration was computed when the flow ran; "
            f"workflow.yaml nodes.{node_name} uses connection {node.settings['connection']} "
            f"({node.assumed}) and its deployment: check them"
        )
    if statement is not None:
        body = _body_of(statement, file)
        first, last = removal_lines(file.lines, statement, body)
        calls.splices.append(line_removal(file.lines, first, last))
        calls.removed.append(statement)
    else:
        calls.removed.append(load)
    for site in sites:
        if site.args:
            raise LLMOpsError(
                f"{where.shown}:{site.lineno}: a Prompty is called with keyword arguments only"
            )
        calls.splices.append(_complete(site, node_name, node.defaults, file))
        calls.removed.append(site.func)
    return owners


def _outside(at: str, what: str, targets: dict[str, Target], advice: str) -> str:
    functions = ", ".join(f"`{name}`" for name in targets) or "none"
    return (
        f"{at}: {what} is outside the function the flow calls ({functions}): {advice}; then "
        "run migrate-flow again"
    )


LOAD_HERE = "load the Prompty in that function or at module level and call it there"


def _body_of(statement: ast.stmt, file: _File) -> list[ast.stmt]:
    parent = file.parents.get(id(statement), file.where.tree)
    for name in ("body", "orelse", "finalbody"):
        body = getattr(parent, name, None)
        if isinstance(body, list) and statement in body:
            return body
    return [statement]


def _line_name(file: _File, owner: str) -> str:
    """``line``, unless the function already uses that name."""
    function = file.functions[owner]
    used = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)}
    used |= {arg.arg for arg in _arguments(function)}
    return next(name for name in ("line", "line_context", "llmops_line") if name not in used)


def _quoted(node: ast.AST, file: _File, name: str) -> str:
    """``"name"``, or ``'name'`` inside an f-string (one quote kind before Python 3.12)."""
    parent = file.parents.get(id(node))
    while parent is not None:
        if isinstance(parent, ast.JoinedStr):
            return f"'{name}'"
        parent = file.parents.get(id(parent))
    return f'"{name}"'


def _complete(site: ast.Call, node: str, defaults: dict[str, Any], file: _File) -> Splice:
    """``p(a=1)`` -> ``await line.complete("node", a=1)`` (its argument text kept)."""
    owner = str(_owner(site, file))
    segment = ast.get_source_segment(file.text, site) or ""
    func = ast.get_source_segment(file.text, site.func) or ""
    inner = segment[len(func) :].strip()[1:-1]
    head = _quoted(site, file, node)
    given = {item.arg for item in site.keywords}
    extra = (
        [f"{key}={python_literal(value)}" for key, value in defaults.items() if key not in given]
        if None not in given
        else []
    )
    if not inner.strip():
        body = ", ".join([head, *extra])
    else:
        if inner.startswith("\n"):
            indent = re.match(r"\n([ \t]*)", inner)
            body = f"\n{indent.group(1) if indent else ''}{head}," + inner
        else:
            body = f"{head}, {inner}"
        if extra:
            kept = body.rstrip()
            body = kept.rstrip(",") + ", " + ", ".join(extra) + body[len(kept) :]
    call = f"await {_line_name(file, owner)}.complete({body})"
    return node_splice(file.lines, site, _grouped(site, call, file))


def _grouped(node: ast.AST, text: str, file: _File) -> str:
    """``text`` in brackets where an ``await`` would otherwise bind to less than the call."""
    parent = file.parents.get(id(node))
    tight = (
        (isinstance(parent, ast.Attribute | ast.Subscript) and parent.value is node)
        or (isinstance(parent, ast.Call) and parent.func is node)
        or isinstance(parent, ast.Await)
    )
    return f"({text})" if tight else text


def _convert_embedding(
    call: ast.Call,
    file: _File,
    targets: dict[str, Target],
    connections: dict[str, ConnectionSpec],
    calls: FileCalls,
    names: dict[str, str],
    taken: set[str],
) -> str:
    """``embedding(connection, text, ...)`` -> ``(await line.embed("node", [text]))[0]``."""
    where = file.where
    at = where.at(call)
    owner = _owner(call, file)
    if owner is None:
        raise LLMOpsError(
            _outside(at, "embedding(...)", targets, "call it there, with its connection parameter")
        )
    if any(isinstance(arg, ast.Starred) for arg in call.args) or any(
        item.arg is None for item in call.keywords
    ):
        raise LLMOpsError(f"{at}: embedding(...) converts with plain arguments (no * or **)")
    given = dict(zip(EMBEDDING_PARAMETERS, call.args, strict=False))
    given |= {str(item.arg): item.value for item in call.keywords}
    connection = given.get("connection")
    parameters = file.connection_parameters[owner]
    target = targets[owner]
    if not (isinstance(connection, ast.Name) and connection.id in parameters):
        raise LLMOpsError(
            f"{at}: embedding(...) converts when its connection is the function's connection "
            f"parameter ({', '.join(parameters) or 'none'}), which the flow sets to a connection"
        )
    name = target.bound.get(connection.id)
    if name not in connections:
        raise LLMOpsError(
            f"{target.where}: input '{connection.id}' is {name!r}, not a connection of "
            f"config/connections.yaml (defined: {', '.join(connections) or 'none'})"
        )
    spec = connections[str(name)]
    key = "deployment_name" if spec.type == "azure_openai" else "model"
    deployment = _fixed(given.get(key), file, file.functions[owner], target, at, key)
    if deployment is None and spec.type == "openai":
        deployment = OPENAI_EMBEDDING_DEFAULT
    text = given.get("input")
    if not deployment or text is None:
        raise LLMOpsError(
            f"{at}: embedding(...) converts with an `input` and a fixed "
            f"{key} (a literal, or a parameter the flow sets to one)"
        )
    settings = {"kind": "embedding", "connection": str(name), "deployment": str(deployment)}
    known = _key(settings) in names
    node = _claim(settings, ["embed", f"{owner}_embed"], names, taken)
    if not known:
        calls.nodes[node] = settings
    if node not in calls.embedders:
        calls.embedders.add(node)
        calls.lines.append(
            f"{where.shown.rsplit('/', 1)[-1]}:{call.lineno}: embedding(...) -> workflow.yaml "
            f"nodes.{node} ({name}, {deployment}); its calls -> "
            f'(await line.embed("{node}", [text]))[0]'
        )
    source = ast.get_source_segment(file.text, text) or ""
    line = _line_name(file, owner)
    replacement = f"(await {line}.embed({_quoted(call, file, node)}, [{source}]))[0]"
    calls.splices.append(node_splice(file.lines, call, replacement))
    calls.removed.append(call)
    return owner


def _fixed(
    expression: ast.expr | None, file: _File, function: Function, target: Target, at: str, key: str
) -> Any:
    """A literal, a module constant, or a parameter the flow gives a literal (or that has
    a literal default)."""
    if expression is None:
        return None
    if isinstance(expression, ast.Constant):
        return expression.value
    if isinstance(expression, ast.Name):
        value = target.bound.get(expression.id)
        if isinstance(value, str | int | float):
            return value
        constants = [
            statement.value.value
            for statement in file.where.tree.body
            if isinstance(statement, ast.Assign)
            and isinstance(statement.value, ast.Constant)
            and any(isinstance(t, ast.Name) and t.id == expression.id for t in statement.targets)
        ]
        parameters = {arg.arg for arg in _arguments(function)}
        if len(constants) == 1 and expression.id not in parameters:
            return constants[0]
        arguments = function.args
        positional = [*arguments.posonlyargs, *arguments.args]
        defaults = dict(
            zip([a.arg for a in positional][::-1], arguments.defaults[::-1], strict=False)
        )
        default = defaults.get(expression.id)
        if isinstance(default, ast.Constant):
            return default.value
    raise LLMOpsError(
        f"{at}: embedding(...)'s {key} is not fixed; workflow.yaml fixes the deployment per "
        "node: write it as a literal (or set the parameter to one in the flow)"
    )


def _convert_function(target: Target, file: _File, calls: FileCalls) -> None:
    """``async``, ``line`` first, the connection parameter gone: or a refusal."""
    function = file.functions[target.name]
    shown = file.where.shown
    parameters = file.connection_parameters[target.name]
    gone = {id(node) for removed in calls.removed for node in ast.walk(removed)}
    converted = any(_owner(node, file) == target.name for node in calls.removed)
    for parameter, annotation in parameters.items():
        stray = [
            node.lineno
            for node in ast.walk(function)
            if isinstance(node, ast.Name) and node.id == parameter and id(node) not in gone
        ]
        if stray or not converted:
            name = shown.rsplit("/", 1)[-1]
            why = f"{name}:{stray[0]} uses it other than" if stray else "nothing passes it"
            raise LLMOpsError(
                f"{target.where}: input '{parameter}' takes a prompt flow connection "
                f"({annotation}) and {why} as the connection of prompt flow's embedding tool "
                "function or of a Prompty's model configuration; Agent Framework code gets no "
                f"connection: in {name}, {MODEL_CALLS}; then run migrate-flow again"
            )
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id == target.name and id(node) not in gone:
            raise LLMOpsError(
                f"{shown}:{node.lineno}: `{target.name}` calls itself; it becomes async and "
                "takes `line`: convert it by hand"
            )
    dropped = next(iter(parameters), "")
    calls.splices += _signature(function, file, target, dropped)
    calls.removed += [arg for arg in _arguments(function) if arg.arg == dropped]
    calls.converted[target.name] = dropped
    calls.scopes.append(function)
    change = "now async, takes `line`" + (f" instead of `{dropped}`" if dropped else "")
    calls.lines.append(f"{shown.rsplit('/', 1)[-1]}:{target.name}: {change}")


def _signature(function: Function, file: _File, target: Target, dropped: str) -> list[Splice]:
    """``async def f(line: LineContext, ...)`` without the connection parameter."""
    text, lines = file.text, file.lines
    starts = [0]
    for item in lines:
        starts.append(starts[-1] + len(item))

    def offset(line: int, col: int) -> int:
        return starts[line - 1] + len(lines[line - 1].encode()[:col].decode(errors="replace"))

    def at(position: int) -> tuple[int, int]:
        line = max(i for i, start in enumerate(starts) if start <= position and i < len(lines))
        return line + 1, position - starts[line]

    def splice(start: int, end: int, new: str) -> Splice:
        return Splice(*at(start), *at(end), new)

    line = _line_name(file, target.name)
    declared = f"{line}: LineContext"
    arguments = _arguments(function)
    if target.class_name and arguments:
        arguments = arguments[1:]
    found: list[Splice] = []
    if isinstance(function, ast.FunctionDef):
        keyword = offset(function.lineno, function.col_offset)
        found.append(splice(keyword, keyword, "async "))
    first = arguments[0] if arguments else None
    for arg in arguments:
        if arg.arg != dropped:
            continue
        start = offset(arg.lineno, arg.col_offset)
        end = offset(arg.end_lineno or arg.lineno, arg.end_col_offset or 0)
        if arg is first:
            return [*found, splice(start, end, declared)]
        if _has_default(function, arg):
            raise LLMOpsError(f"{file.where.shown}:{arg.lineno}: give `{dropped}` no default")
        comma = re.match(r"[ \t]*,[ \t]*", text[end:])
        if comma:
            end += comma.end()
            line_start = text.rfind("\n", 0, start) + 1
            if not text[line_start:start].strip() and text[end : end + 1] == "\n":
                start, end = line_start, end + 1
        else:
            before = re.search(r",\s*$", text[:start])
            start = before.start() if before else start
        found.append(splice(start, end, ""))
    if first is not None:
        start = offset(first.lineno, first.col_offset)
        line_start = text.rfind("\n", 0, start) + 1
        indent = text[line_start:start]
        gap = (
            f",\n{indent}"
            if not indent.strip() and text[line_start - 2 : line_start - 1] == "("
            else ", "
        )
        found.append(splice(start, start, declared + gap))
    elif target.class_name and _arguments(function):
        self_arg = _arguments(function)[0]
        end = offset(self_arg.end_lineno or self_arg.lineno, self_arg.end_col_offset or 0)
        found.append(splice(end, end, f", {declared}"))
    else:
        opening = text.index("(", offset(function.lineno, function.col_offset))
        found.append(splice(opening + 1, opening + 1, declared))
    return found


def _has_default(function: Function, arg: ast.arg) -> bool:
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    if arg in positional:
        return positional.index(arg) >= len(positional) - len(arguments.defaults)
    index = arguments.kwonlyargs.index(arg)
    return arguments.kw_defaults[index] is not None


def _protected(file: _File, calls: FileCalls, targets: list[Target]) -> set[str]:
    """Names other files of the folder import from this one (kept even when unused here).

    A converted function another module imports is refused; one a test imports is noted.
    """
    folder = file.where.folder
    module = file.where.path.stem
    protected = {target.name for target in targets}
    protected |= {target.class_name for target in targets if target.class_name}
    for path in sorted(folder.rglob("*.py")):
        inside = path.relative_to(folder)
        if path == file.where.path or any(
            part in SKIPPED_DIRS or part.startswith(".") for part in inside.parts[:-1]
        ):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        used: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == module:
                used |= {alias.name for alias in node.names}
            elif isinstance(node, ast.Import) and any(
                alias.name.split(".")[-1] == module for alias in node.names
            ):
                used |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        for name in sorted(set(calls.converted) & used):
            if TEST_FILE.match(path.name):
                calls.notes.append(
                    f"{inside.as_posix()} uses {name}, which is now async and takes `line` first"
                )
            else:
                raise LLMOpsError(
                    f"{relative(path, file.where.root)} uses `{name}`, which migrate-flow makes "
                    "async with a `line` parameter: call the model only from the function the "
                    "flow calls, then run migrate-flow again"
                )
        protected |= used
    return protected
