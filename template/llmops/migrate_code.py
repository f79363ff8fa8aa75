"""Managed by the LLMOps template. ``llmops migrate-flow``: the user's Python, minus prompt flow.

A migrated flow keeps its ``.py`` files: the tool functions are reused as they are.
Only what ties them to prompt flow changes, edited by line so everything else (comments,
formatting) stays byte for byte:

* ``@tool`` / ``@trace`` decorators and their ``promptflow`` imports are removed;
* in the aggregation function, ``log_metric("name", value)`` calls become the dict it
  returns (``migrate_metrics``; metric names stay, so gates keep working);
* imports of sibling modules become relative (``from .utils import x``): Agent
  Framework flow folders are imported as a package of their own.

Model calls in the function the flow calls (a Prompty, prompt flow's embedding tool
function) are rewritten to go through ``line`` (``migrate_calls``), and what only they
used goes (``migrate_prune``). Any other ``promptflow`` import (a ``Prompty`` used
elsewhere, connection classes, model configurations) means the code needs prompt flow
to run: the file and line are named and nothing is written.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from llmops.errors import LLMOpsError

if TYPE_CHECKING:
    from llmops.migrate_calls import FileCalls

MODEL_CALLS = (
    "call the model from the function the flow calls, through a Prompty (`p = "
    "Prompty.load(...)`, then `p(...)`) or prompt flow's embedding tool function "
    "(`embedding(connection, text, deployment_name=...)`), which convert to workflow.yaml "
    "nodes; or read <NAME>_API_BASE / <NAME>_API_KEY from the environment (what llmops "
    "sets for every connection)"
)
DROPPED = frozenset({"tool", "trace"})
"""Names whose only job is to register or trace a function with prompt flow."""
HINTS = {
    "Prompty": "load it (`p = Prompty.load(source=..., model=...)`) in the function the flow "
    "calls or at module level, and call it (`p(...)`) in that function: that converts to "
    'a workflow.yaml node and `await line.complete("<node>", ...)`',
    "Connection": MODEL_CALLS,
    "ModelConfiguration": MODEL_CALLS,
}
FROM_MODULE = re.compile(r"from(\s+)")
LINE_CONTEXT = "from llmops.workflow import LineContext\n"


@dataclass(frozen=True)
class Function:
    """A function of a migrated file: how to call it and where it is."""

    name: str
    is_async: bool
    parameters: tuple[str, ...]
    with_default: frozenset[str]
    annotations: dict[str, str]
    line: int
    takes_line: bool = False
    """Converted to take the workflow's ``line`` first (its model calls go through it)."""


@dataclass
class Edits:
    """Line edits on one file, applied bottom-up so line numbers stay valid."""

    lines: list[str]
    changes: list[tuple[int, int, int, list[str]]] = field(default_factory=list)
    """``(first line, last line, order, new lines)``; an insertion has last = first - 1."""
    tight: set[int] = field(default_factory=set)
    """First lines of removals among imports, where one blank line in a row is kept."""

    def replace(self, first: int, last: int, new: list[str], tight: bool = False) -> None:
        self.changes.append((first, last, 0, new))
        if tight:
            self.tight.add(first)

    def insert(self, before: int, new: list[str]) -> None:
        self.changes.append((before, before - 1, -1, new))

    def apply(self) -> str:
        lines = list(self.lines)
        if self.changes and lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"  # an insertion after the last line starts a line of its own
        for first, last, _, new in sorted(self.changes, key=lambda c: (c[0], c[2]), reverse=True):
            lines[first - 1 : last] = new
            if not new:
                _collapse_blank_lines(lines, first - 1, first in self.tight)
        return "".join(lines)


def _collapse_blank_lines(lines: list[str], at: int, tight: bool = False) -> None:
    """Where lines were removed, keep at most two blank lines in a row; one, when an
    import was removed and an import follows."""
    start = at
    while start > 0 and not lines[start - 1].strip():
        start -= 1
    end = at
    while end < len(lines) and not lines[end].strip():
        end += 1
    follows = lines[end].lstrip() if end < len(lines) else ""
    keep = 1 if tight and follows.startswith(("import ", "from ")) else 2
    surplus = (end - start) - (keep if start > 0 else 0)  # none at the top of the file
    if surplus > 0:
        del lines[end - surplus : end]


def parse(path: Path, shown: str) -> tuple[str, ast.Module]:
    """The file's text and syntax tree; a syntax error names the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LLMOpsError(f"{shown}: file not found") from None
    except UnicodeDecodeError:
        raise LLMOpsError(f"{shown}: not UTF-8 text") from None
    try:
        return text, ast.parse(text)
    except SyntaxError as error:
        raise LLMOpsError(f"{shown}:{error.lineno}: syntax error: {error.msg}") from None


def find_function(tree: ast.Module, name: str | None, shown: str) -> Function:
    """The named top-level function, else the one ``@tool`` function of the file."""
    functions = [
        node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    if name is not None:
        chosen = [node for node in functions if node.name == name]
    else:
        tools = local_names(tree, DROPPED)
        chosen = [
            node for node in functions if any(_is_name(d, tools) for d in node.decorator_list)
        ]
    if len(chosen) != 1:
        found = ", ".join(node.name for node in functions) or "none"
        wanted = f"no function `{name}`" if name else f"{len(chosen)} @tool functions"
        raise LLMOpsError(f"{shown}: {wanted} (functions: {found}); name one with `function:`")
    node = chosen[0]
    arguments = [*node.args.posonlyargs, *node.args.args]
    defaults = {arg.arg for arg in arguments[len(arguments) - len(node.args.defaults) :]}
    defaults |= {
        arg.arg
        for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)
        if default is not None
    }
    everything = [*arguments, *node.args.kwonlyargs]
    return Function(
        name=node.name,
        is_async=isinstance(node, ast.AsyncFunctionDef),
        parameters=tuple(arg.arg for arg in everything),
        with_default=frozenset(defaults),
        annotations={arg.arg: ast.unparse(arg.annotation) for arg in everything if arg.annotation},
        line=node.lineno,
    )


def rewrite(
    path: Path,
    shown: str,
    siblings: frozenset[str],
    aggregate: str | None = None,
    depth: int = 0,
    calls: FileCalls | None = None,
) -> tuple[str, list[str]]:
    """The file without prompt flow (see the module docstring), and what changed.

    ``depth`` is how many folders below the flow folder the file lies (its relative
    imports of the flow folder's modules start with ``depth + 1`` dots). ``calls`` are
    the model calls ``migrate_calls`` routes through ``line``.
    """
    text, tree = parse(path, shown)
    tree = calls.tree if calls is not None else tree  # its nodes are what calls point at
    edits = Edits(text.splitlines(keepends=True))
    changed: list[str] = []
    from llmops.migrate_metrics import rewrite_log_metric  # they build on this module
    from llmops.migrate_prune import apply_splices, line_removal, removal_lines, unused_code

    unused: set[str] = set()
    gone: set[int] = set()
    if calls is not None:
        statements, unused = unused_code(
            tree, edits.lines, calls.removed, calls.scopes, calls.protected
        )
        splices = list(calls.splices)
        for statement, body in statements:
            splices.append(line_removal(edits.lines, *removal_lines(edits.lines, statement, body)))
            gone |= {id(node) for node in ast.walk(statement)}
        apply_splices(edits, splices)
        changed.append("model calls go through `line`")
        names = sorted({_defined(s) for s, _ in statements} | unused)
        if names:
            changed.append(f"no longer used, removed: {', '.join(names)}")
    logged = rewrite_log_metric(tree, text, edits, aggregate, shown) if aggregate else []
    dropped = DROPPED | ({"log_metric"} if aggregate else set())
    prefix = "." * (depth + 1)
    handled, placed = _drop_imports(
        tree, edits, dropped, unused, shown, siblings, prefix, calls is not None
    )
    if any(_is_promptflow(getattr(node, "module", None)) for node in handled.values()):
        changed.append("promptflow import removed")
    if calls is not None and not placed:
        _import_line_context(tree, edits)
    if _drop_decorators(tree, edits, shown, gone):
        changed.append("@tool/@trace decorators removed")
    changed += logged
    if _relative_imports(tree, edits, siblings, shown, prefix, set(handled)):
        changed.append("sibling imports made relative")
    new = edits.apply()
    try:
        ast.parse(new)
    except SyntaxError as error:  # e.g. a removed import was the only line of a `try:`
        raise LLMOpsError(
            f"{shown}:{error.lineno}: without its prompt flow lines the file does not parse "
            f"({error.msg}): remove them by hand, then run migrate-flow again"
        ) from None
    return new, changed


def local_names(tree: ast.Module, wanted: frozenset[str]) -> set[str]:
    """Local names bound to ``wanted`` names imported from prompt flow."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _is_promptflow(node.module):
            found |= {alias.asname or alias.name for alias in node.names if alias.name in wanted}
    return found


def _is_promptflow(module: str | None) -> bool:
    return module is not None and (module == "promptflow" or module.startswith("promptflow."))


def _is_name(node: ast.expr, names: set[str]) -> bool:
    """``@tool``, ``@tool(...)``."""
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Name) and target.id in names


def _defined(statement: ast.stmt) -> str:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return statement.name
    targets = getattr(statement, "targets", None) or [getattr(statement, "target", None)]
    return ", ".join(t.id for t in targets if isinstance(t, ast.Name))


def _drop_imports(
    tree: ast.Module,
    edits: Edits,
    dropped: frozenset[str] | set[str],
    unused: set[str],
    shown: str,
    siblings: frozenset[str],
    prefix: str,
    line_context: bool,
) -> tuple[dict[int, ast.Import | ast.ImportFrom], bool]:
    """Remove imports of prompt flow's ``dropped`` names and the module's ``unused`` names;
    any other prompt flow import is refused. Returns the import statements edited (a
    statement left with some names is rewritten on one line), and whether the
    ``LineContext`` import took the place of a removed top-level prompt flow import."""
    top = {id(node) for node in tree.body}
    handled: dict[int, ast.Import | ast.ImportFrom] = {}
    placed = False
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        promptflow = isinstance(node, ast.ImportFrom) and _is_promptflow(node.module)
        going = [
            alias
            for alias in node.names
            if (id(node) in top and (alias.asname or alias.name.split(".")[0]) in unused)
            or (promptflow and alias.name in dropped)
        ]
        kept = [alias for alias in node.names if alias not in going]
        if isinstance(node, ast.Import):
            for alias in kept:
                if _is_promptflow(alias.name):
                    raise LLMOpsError(_needs_promptflow(shown, node.lineno, alias.name, []))
        elif promptflow and kept:
            names = [alias.name for alias in kept]
            raise LLMOpsError(_needs_promptflow(shown, node.lineno, str(node.module), names))
        if not going:
            continue
        handled[id(node)] = node
        new: list[str] = []
        if kept:
            line = edits.lines[node.lineno - 1]
            indent = line[: len(line) - len(line.lstrip())]
            listed = ", ".join(_alias(alias) for alias in kept)
            if isinstance(node, ast.Import):
                new = [f"{indent}import {listed}\n"]
            else:
                module = node.module or ""
                local = node.level == 0 and module.split(".")[0] in siblings
                dots = "." * node.level or (prefix if local else "")
                new = [f"{indent}from {dots}{module} import {listed}\n"]
        elif line_context and promptflow and id(node) in top and not placed:
            new, placed = [LINE_CONTEXT], True
        edits.replace(node.lineno, node.end_lineno or node.lineno, new, tight=id(node) in top)
    return handled, placed


def _import_line_context(tree: ast.Module, edits: Edits) -> None:
    """``from llmops.workflow import LineContext`` after the last import, else after the
    docstring (when no removed prompt flow import left it a place)."""
    line = LINE_CONTEXT
    imports = [s for s in tree.body if isinstance(s, ast.Import | ast.ImportFrom)]
    if imports:
        edits.insert((imports[-1].end_lineno or imports[-1].lineno) + 1, [line])
        return
    docstring = tree.body[0] if tree.body and ast.get_docstring(tree) else None
    after = (docstring.end_lineno or 1) if docstring else 0
    edits.insert(after + 1, ["\n", line] if docstring else [line, "\n"])


def _needs_promptflow(shown: str, line: int, module: str, names: list[str]) -> str:
    what = f"{', '.join(names)} from {module}" if names else module
    hints = [hint for key, hint in HINTS.items() if any(key in name for name in [*names, module])]
    if module.startswith("promptflow.connections"):
        hints = [HINTS["Connection"]]
    advice = hints[0] if hints else "rewrite that part without prompt flow"
    return (
        f"{shown}:{line}: imports {what}, which needs prompt flow at run time (Agent "
        f"Framework flows run without it): {advice}; then run migrate-flow again"
    )


def _drop_decorators(tree: ast.Module, edits: Edits, shown: str, gone: set[int]) -> bool:
    """Remove ``@tool`` / ``@trace``; any other use of those names is refused. ``gone``:
    nodes of definitions removed whole (decorators included)."""
    names = local_names(tree, DROPPED)
    removed: set[int] = set(gone)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if id(node) in gone:
                continue
            for decorator in node.decorator_list:
                if _is_name(decorator, names):
                    edits.replace(decorator.lineno, decorator.end_lineno or decorator.lineno, [])
                    target = decorator.func if isinstance(decorator, ast.Call) else decorator
                    removed.add(id(target))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names and id(node) not in removed:
            raise LLMOpsError(
                f"{shown}:{node.lineno}: `{node.id}` (from prompt flow) is used other than as "
                "a decorator: remove that use; then run migrate-flow again"
            )
    return bool(removed - gone)


def _relative_imports(
    tree: ast.Module,
    edits: Edits,
    siblings: frozenset[str],
    shown: str,
    prefix: str,
    handled: set[int],
) -> bool:
    """``from utils import x`` -> ``from .utils import x``; ``import utils`` likewise
    (``handled`` imports were already rewritten)."""
    changed = False
    for node in ast.walk(tree):
        if id(node) in handled:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in siblings:
                line = edits.lines[node.lineno - 1]
                head = FROM_MODULE.match(line, node.col_offset)
                assert head is not None  # an ImportFrom starts with `from`
                new = f"{line[: head.end()]}{prefix}{line[head.end() :]}"
                edits.replace(node.lineno, node.lineno, [new])
                changed = True
        elif isinstance(node, ast.Import):
            local = [alias for alias in node.names if alias.name.split(".")[0] in siblings]
            if not local:
                continue
            dotted = [alias.name for alias in local if "." in alias.name]
            if dotted or node.lineno != node.end_lineno:
                raise LLMOpsError(
                    f"{shown}:{node.lineno}: `import {', '.join(a.name for a in node.names)}`: "
                    "write `from .<module> import <name>` (the flow folder is imported as a "
                    "package); then run migrate-flow again"
                )
            edits.replace(node.lineno, node.lineno, [_split_import(edits, node, local, prefix)])
            changed = True
    return changed


def _split_import(edits: Edits, node: ast.Import, local: list[ast.alias], prefix: str) -> str:
    line = edits.lines[node.lineno - 1]
    indent = line[: node.col_offset]
    statements = []
    others = [alias for alias in node.names if alias not in local]
    if others:
        statements.append("import " + ", ".join(_alias(alias) for alias in others))
    statements.append(f"from {prefix} import " + ", ".join(_alias(alias) for alias in local))
    rest = line[node.end_col_offset or len(line) :]
    return indent + f"\n{indent}".join(statements) + rest


def _alias(alias: ast.alias) -> str:
    return f"{alias.name} as {alias.asname}" if alias.asname else alias.name


def siblings(flow_dir: Path) -> frozenset[str]:
    """Module names a flow file can import from its own folder."""
    names = {path.stem for path in flow_dir.glob("*.py")}
    names |= {
        path.name
        for path in flow_dir.iterdir()
        if path.is_dir() and path.name.isidentifier() and any(path.glob("*.py"))
    }
    return frozenset(names)
