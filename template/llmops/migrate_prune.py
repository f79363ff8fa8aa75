"""Managed by the LLMOps template. ``llmops migrate-flow``: text splices and unused code.

When a model call is rewritten to go through ``line``, what only served it (the
Prompty path constant, a function computing the model configuration, their imports)
would be left unused, and often undefined once the prompt flow imports go. This module
finds those definitions, top-level or assigned in a converted function, and removes
them with their comments, so the file still passes ruff's pyflakes rules. A definition
is removed only when it was used before and every use was in removed code: one that
nothing used stays, and so does any name another file of the flow folder mentions.

Splices edit text by position (line and character column) and are turned into the
line edits ``migrate_code`` applies, so every other line stays byte for byte.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from llmops.errors import LLMOpsError
from llmops.migrate_code import Edits

Definition = ast.stmt


@dataclass(frozen=True)
class Splice:
    """Replace the text from ``(line, column)`` to ``(end_line, end_column)`` (1-based lines,
    character columns; the end is exclusive)."""

    line: int
    column: int
    end_line: int
    end_column: int
    text: str


def column(lines: list[str], line: int, offset: int) -> int:
    """The character column of an AST byte offset on a line."""
    return len(lines[line - 1].encode("utf-8")[:offset].decode("utf-8", errors="replace"))


def node_splice(lines: list[str], node: ast.AST, text: str) -> Splice:
    """Replace the source of ``node`` (an expression or statement) with ``text``."""
    start = column(lines, node.lineno, node.col_offset)  # type: ignore[attr-defined]
    end_line = node.end_lineno or node.lineno  # type: ignore[attr-defined]
    end = column(lines, end_line, node.end_col_offset or 0)  # type: ignore[attr-defined]
    return Splice(node.lineno, start, end_line, end, text)  # type: ignore[attr-defined]


def line_removal(lines: list[str], first: int, last: int) -> Splice:
    """Remove whole lines ``first`` to ``last``, their line ends included."""
    return Splice(first, 0, last, len(lines[last - 1]), "")


def owns_lines(lines: list[str], node: ast.stmt) -> bool:
    """True when the statement alone fills its lines (no ``;`` neighbour)."""
    head = lines[node.lineno - 1][: column(lines, node.lineno, node.col_offset)]
    last = node.end_lineno or node.lineno
    tail = lines[last - 1][column(lines, last, node.end_col_offset or 0) :].strip()
    return not head.strip() and (not tail or tail.startswith("#"))


def apply_splices(edits: Edits, splices: list[Splice]) -> None:
    """Turn splices into line edits: overlapping ones are applied together, right to left."""
    clusters: list[list[Splice]] = []
    for splice in sorted(splices, key=lambda s: (s.line, s.column)):
        if clusters and splice.line <= max(s.end_line for s in clusters[-1]):
            clusters[-1].append(splice)
        else:
            clusters.append([splice])
    for cluster in clusters:
        first = cluster[0].line
        last = max(s.end_line for s in cluster)
        text = "".join(edits.lines[first - 1 : last])
        starts = [
            sum(len(x) for x in edits.lines[first - 1 : line - 1])
            for line in range(first, last + 1)
        ]
        previous = len(text) + 1
        for splice in sorted(cluster, key=lambda s: (s.line, s.column), reverse=True):
            start = starts[splice.line - first] + splice.column
            end = starts[splice.end_line - first] + splice.end_column
            if end > previous:
                raise LLMOpsError(
                    f"line {splice.line}: migrate-flow planned two edits of the same code; "
                    "nothing was written: please report this with the file"
                )
            text = text[:start] + splice.text + text[end:]
            previous = start
        edits.replace(first, last, text.splitlines(keepends=True))


def _bound_names(statement: ast.stmt) -> list[str]:
    """Names a removable statement defines (none when it is not one)."""
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [statement.name]
    if isinstance(statement, ast.Assign) and all(
        isinstance(t, ast.Name) for t in statement.targets
    ):
        return [t.id for t in statement.targets if isinstance(t, ast.Name)]
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return [statement.target.id] if statement.value is not None else []
    return []


def import_names(statement: ast.Import | ast.ImportFrom) -> list[tuple[ast.alias, str]]:
    """``(alias, local name)`` per imported name (``*`` imports give none)."""
    return [
        (alias, alias.asname or alias.name.split(".")[0])
        for alias in statement.names
        if alias.name != "*"
    ]


def _subtree(node: ast.AST) -> set[int]:
    return {id(item) for item in ast.walk(node)}


def unused_code(
    tree: ast.Module,
    lines: list[str],
    removed: list[ast.AST],
    scopes: list[ast.FunctionDef | ast.AsyncFunctionDef],
    protected: set[str],
) -> tuple[list[tuple[Definition, list[ast.stmt]]], set[str]]:
    """Definitions only the removed code used: ``(statement, its body)`` pairs to drop,
    and the local names of imports to drop.

    Candidates are the module's top-level definitions and imports, and the plain
    assignments directly in the bodies of ``scopes`` (the converted functions), each
    on lines of its own.
    """
    exported = _exported(tree)
    groups: list[tuple[ast.AST, list[Definition]]] = [(tree, list(tree.body))]
    groups += [(scope, list(scope.body)) for scope in scopes]
    loads: dict[int, list[ast.Name]] = {
        id(owner): [
            n for n in ast.walk(owner) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        ]
        for owner, _ in groups
    }
    gone: set[int] = set()
    for node in removed:
        gone |= _subtree(node)

    def uses(owner: ast.AST, name: str, own: set[int], skip: set[int]) -> int:
        return sum(
            1 for n in loads[id(owner)] if n.id == name and id(n) not in own and id(n) not in skip
        )

    before: dict[tuple[int, str], int] = {}
    candidates: list[tuple[ast.AST, Definition, str, set[int]]] = []
    for owner, body in groups:
        for statement in body:
            if id(statement) in gone:  # removed by the conversion itself
                continue
            own = _subtree(statement)
            if isinstance(statement, ast.Import | ast.ImportFrom):
                if owner is not tree:
                    continue
                names = [local for _, local in import_names(statement)]
                own = set()
            elif owns_lines(lines, statement):
                names = _bound_names(statement)
            else:
                continue
            for name in names:
                if owner is tree and (name in exported or name in protected):
                    continue
                if owner is not tree and not isinstance(statement, ast.Assign):
                    continue
                count = uses(owner, name, own, set())
                if count:
                    before[(id(statement), name)] = count
                    candidates.append((owner, statement, name, own))
    dead: dict[tuple[int, str], bool] = {}
    changed = True
    while changed:
        changed = False
        for owner, statement, name, own in candidates:
            key = (id(statement), name)
            if key not in dead and uses(owner, name, own, gone) == 0:
                dead[key] = True
                changed = True
                if not isinstance(statement, ast.Import | ast.ImportFrom) and all(
                    (id(statement), n) in dead for n in _bound_names(statement)
                ):
                    gone |= _subtree(statement)
    statements: list[tuple[Definition, list[ast.stmt]]] = []
    import_locals: set[str] = set()
    bodies = {id(owner): body for owner, body in groups}
    for owner, statement, name, _ in candidates:
        if (id(statement), name) not in dead:
            continue
        if isinstance(statement, ast.Import | ast.ImportFrom):
            import_locals.add(name)
        elif all((id(statement), n) in dead for n in _bound_names(statement)):
            pair = (statement, bodies[id(owner)])
            if all(found is not statement for found, _ in statements):
                statements.append(pair)
    return statements, import_locals


def _exported(tree: ast.Module) -> set[str]:
    """Names listed in ``__all__``."""
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in statement.targets
        ):
            value = statement.value
            if isinstance(value, ast.List | ast.Tuple):
                return {e.value for e in value.elts if isinstance(e, ast.Constant)}
    return set()


def removal_lines(lines: list[str], statement: Definition, body: list[ast.stmt]) -> tuple[int, int]:
    """The lines a removed definition takes: its decorators, the comment lines right
    above it, and an attribute docstring right below it."""
    decorators = getattr(statement, "decorator_list", [])
    first = min([statement.lineno, *(d.lineno for d in decorators)])
    while first > 1 and lines[first - 2].strip().startswith("#"):
        first -= 1
    last = statement.end_lineno or statement.lineno
    index = body.index(statement)
    if index + 1 < len(body):
        following = body[index + 1]
        if (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
            and following.lineno == last + 1
        ):
            last = following.end_lineno or following.lineno
    return first, last
