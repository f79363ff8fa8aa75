"""Managed by the LLMOps template. ``llmops migrate-flow``: metrics an aggregation returns.

Prompt flow's aggregation node reports metrics through ``log_metric("name", value)``;
an Agent Framework evaluator's ``aggregate`` function returns them as a dict. The calls
go: dropped when every ``return`` already returns those very values under those names
(the usual shape), otherwise each call becomes ``metrics["name"] = value`` and the
function returns ``metrics``. Names must be string literals, so gates can name them.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from llmops.errors import LLMOpsError
from llmops.migrate_code import Edits, local_names, parse


def metric_names(path: Path, shown: str, function: str) -> list[str]:
    """The literal names the aggregation function passes to ``log_metric``, in order."""
    _, tree = parse(path, shown)
    names = local_names(tree, frozenset({"log_metric"}))
    found = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function
    ]
    if not found:
        raise LLMOpsError(f"{shown}: no top-level function `{function}`")
    statements = [
        node
        for node in _own_nodes(found[0])
        if isinstance(node, ast.Expr) and _is_log_metric(node.value, names)
    ]
    statements.sort(key=lambda node: node.lineno)
    return list(dict.fromkeys(_metric(statement, shown)[0] for statement in statements))


def rewrite_log_metric(
    tree: ast.Module, text: str, edits: Edits, function: str, shown: str
) -> list[str]:
    """Turn the aggregation function's ``log_metric`` calls into its returned dict."""
    names = local_names(tree, frozenset({"log_metric"}))
    found = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function
    ]
    if not found:
        raise LLMOpsError(f"{shown}: no top-level function `{function}`")
    definition = found[0]
    own = _own_nodes(definition)
    calls = [node for node in own if _is_log_metric(node, names)]
    statements = [node for node in own if isinstance(node, ast.Expr) and node.value in calls]
    plain = {id(statement.value) for statement in statements}
    stray = [call.lineno for call in calls if id(call) not in plain]
    stray += _used_elsewhere(tree, own, names)
    if stray:
        raise LLMOpsError(
            f"{shown}:{min(stray)}: log_metric is used outside plain `log_metric(name, value)` "
            f"statements of `{function}`: make `{function}` return the metrics as a dict"
        )
    logged = [(statement, *_metric(statement, shown)) for statement in statements]
    metrics = {name: value for _, name, value in logged}
    returns = [node for node in own if isinstance(node, ast.Return)]
    if not logged:
        return []
    if returns and all(_returns_logged(node, metrics) for node in returns):
        for statement, _, _ in logged:
            edits.replace(statement.lineno, statement.end_lineno or statement.lineno, [])
        return [f"log_metric calls dropped ({function} already returns them)"]
    _collect_into_dict(definition, logged, returns, edits, text)
    return [f"log_metric calls now fill the dict `{function}` returns"]


def _own_nodes(definition: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """Nodes of a function body, not of functions or classes defined inside it."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = list(definition.body)
    while pending:
        node = pending.pop()
        found.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))
    return found


def _is_log_metric(node: ast.AST, names: set[str]) -> bool:
    """A call of prompt flow's ``log_metric`` (not another library's, say mlflow's)."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names


def _used_elsewhere(tree: ast.Module, own: list[ast.AST], names: set[str]) -> list[int]:
    """Lines outside the aggregation function that use ``log_metric``."""
    inside = {id(node) for node in own}
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id in names and id(node) not in inside
    ]


def _metric(statement: ast.Expr, shown: str) -> tuple[str, ast.expr]:
    """The literal name and the value expression of ``log_metric(name, value)``."""
    call = statement.value
    assert isinstance(call, ast.Call)
    keywords = {item.arg: item.value for item in call.keywords}
    name = call.args[0] if call.args else keywords.get("key")
    value = call.args[1] if len(call.args) > 1 else keywords.get("value")
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        raise LLMOpsError(
            f"{shown}:{call.lineno}: log_metric with a computed name: gates name metrics, so "
            "write the name as a string literal"
        )
    if value is None:
        raise LLMOpsError(f"{shown}:{call.lineno}: log_metric without a value")
    return name.value, value


def _returns_logged(node: ast.Return, metrics: dict[str, ast.expr]) -> bool:
    """``return {"f1": f1, ...}`` with the very values that were logged."""
    if not isinstance(node.value, ast.Dict):
        return False
    returned = {
        key.value: value
        for key, value in zip(node.value.keys, node.value.values, strict=True)
        if isinstance(key, ast.Constant)
    }
    return all(
        name in returned and ast.dump(returned[name]) == ast.dump(value)
        for name, value in metrics.items()
    )


def _collect_into_dict(
    definition: ast.FunctionDef | ast.AsyncFunctionDef,
    logged: list[tuple[ast.Expr, str, ast.expr]],
    returns: list[ast.Return],
    edits: Edits,
    text: str,
) -> None:
    """``metrics = {}`` first, ``metrics["name"] = value`` per call, ``return metrics``."""
    used = {node.id for node in ast.walk(definition) if isinstance(node, ast.Name)}
    variable = next(name for name in ("metrics", "logged_metrics", "_metrics") if name not in used)
    body = definition.body
    first = body[1] if ast.get_docstring(definition) and len(body) > 1 else body[0]
    indent = edits.lines[first.lineno - 1][: first.col_offset]
    edits.insert(first.lineno, [f"{indent}{variable} = {{}}\n"])
    for statement, name, value in logged:
        source = ast.get_source_segment(text, value) or ""
        source = f"({source})" if "\n" in source else source
        pad = edits.lines[statement.lineno - 1][: statement.col_offset]
        line = f"{pad}{variable}[{json.dumps(name)}] = {source}\n"
        edits.replace(statement.lineno, statement.end_lineno or statement.lineno, [line])
    for node in returns:
        pad = edits.lines[node.lineno - 1][: node.col_offset]
        edits.replace(node.lineno, node.end_lineno or node.lineno, [f"{pad}return {variable}\n"])
    if not isinstance(body[-1], ast.Return):
        after = (definition.end_lineno or body[-1].lineno) + 1
        edits.insert(after, [f"{indent}return {variable}\n"])
