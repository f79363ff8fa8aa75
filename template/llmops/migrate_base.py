"""Managed by the LLMOps template. ``llmops migrate-flow``: what every converter shares.

A converter reads one prompt flow folder and returns a ``FolderPlan``: the files to
write and remove, and lines saying what each node became. Nothing is written while
planning, so a refusal (an ``LLMOpsError`` naming the file, node and key) leaves the
project as it was. Manifests are written as text (comments kept, short flow-style
mappings) and then read back through their pydantic models, so a converter bug is
caught before a file is written, not by the next run.
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ValidationError

from llmops.config import format_validation_error, read_yaml
from llmops.errors import LLMOpsError
from llmops.paths import relative

if TYPE_CHECKING:
    from llmops.migrate_calls import FileCalls

REFERENCE = re.compile(r"^\$\{(?P<body>[^{}]+)\}$")
PROPERTY = re.compile(r"(\w+)|\['(.*?)'\]|\[(\d+)\]")
FLOW_INPUT_PREFIXES = ("inputs.", "flow.")
INPUT_TYPES = {"string", "int", "double", "bool", "list", "object"}
PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
SKIPPED_DIRS = frozenset({"__pycache__", "venv", "node_modules"})
"""Folders never rewritten (hidden ones neither: .promptflow, .venv, caches)."""
TEST_FILE = re.compile(r"^(test_.*|.*_test)\.py$")
PROMPTFLOW_PACKAGE = re.compile(r"^promptflow([-_.\[<>=~!;\s]|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Ref:
    """``${inputs.<name>}`` (``node`` is None) or ``${<node>.output<path>}``."""

    node: str | None
    name: str
    path: tuple[str | int, ...] = ()

    def __str__(self) -> str:
        if self.node is None:
            return f"${{inputs.{self.name}}}"
        tail = "".join(f".{part}" if isinstance(part, str) else f"[{part}]" for part in self.path)
        return f"${{{self.node}.output{tail}}}"


@dataclass
class FolderPlan:
    """What migrating one flow folder writes and removes, and what each part became."""

    folder: Path
    kind: str
    writes: dict[Path, str] = field(default_factory=dict)
    removals: list[Path] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_value(value: Any, where: str) -> Any:
    """A node input: a ``Ref`` for ``${...}``, the value itself for a literal."""
    if not isinstance(value, str):
        return value
    found = REFERENCE.match(value)
    if found is None:
        return value
    body = found.group("body").strip()
    for prefix in FLOW_INPUT_PREFIXES:
        if body.startswith(prefix):
            return Ref(None, body[len(prefix) :])
    node, _, port = body.partition(".")
    section, _, tail = port.partition(".")
    if section != "output":
        raise LLMOpsError(f"{where}: '{value}' reads `{section}`; only `${{node.output}}` exists")
    path: list[str | int] = []
    for key, quoted, index in PROPERTY.findall(tail):
        path.append(int(index) if index else (quoted or key))
    return Ref(node, node, tuple(path))


def read_flow(path: Path, root: Path) -> dict[str, Any]:
    """A flow.dag.yaml / flow.flex.yaml as a mapping (never through promptflow)."""
    shown = relative(path, root)
    data = read_yaml(path, shown)
    if not isinstance(data, dict):
        raise LLMOpsError(f"{shown}: expected a mapping (inputs, outputs, nodes or entry)")
    return data


def header_comments(path: Path) -> list[str]:
    """Comment lines before the flow file's first key other than ``$schema``."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# yaml-language-server:"):
            continue  # the manifest gets its own
        if line.startswith("#"):
            found.append(line.rstrip())
        elif line.strip() and not line.startswith("$schema"):
            break
    return found


def flow_inputs(data: Any, shown: str) -> dict[str, dict[str, Any]]:
    """Manifest ``inputs`` from a flow's inputs: type, default, description."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LLMOpsError(f"{shown}: inputs: expected a mapping of input names")
    inputs: dict[str, dict[str, Any]] = {}
    for name, spec in data.items():
        if not str(name).isidentifier():
            raise LLMOpsError(f"{shown}: inputs.{name}: rename it (letters, digits and '_')")
        spec = spec if isinstance(spec, dict) else {"type": spec}
        kind = str(spec.get("type", "string"))
        if kind not in INPUT_TYPES:
            raise LLMOpsError(
                f"{shown}: inputs.{name}.type: '{kind}' has no Agent Framework counterpart "
                f"(supported: {', '.join(sorted(INPUT_TYPES))})"
            )
        entry: dict[str, Any] = {"type": kind}
        if "default" in spec:
            entry["default"] = spec["default"]
        if spec.get("description"):
            entry["description"] = str(spec["description"])
        inputs[str(name)] = entry
    return inputs


def schema_comment(folder: Path, root: Path, schema: str) -> str:
    """The editor hint line pointing at ``schemas/<schema>`` from ``folder``."""
    target = os.path.relpath(root / "schemas" / schema, folder).replace(os.sep, "/")
    return f"# yaml-language-server: $schema={target}"


def scalar(value: Any) -> str:
    """A YAML scalar or flow collection that reads back as ``value``."""
    if isinstance(value, str) and PLAIN.fullmatch(value) and yaml.safe_load(value) == value:
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def block_scalar(value: Any) -> str:
    """Like ``scalar``, but plain text may hold spaces (after ``key: `` on its own line)."""
    if isinstance(value, str) and value == value.strip() and value:
        try:
            if yaml.safe_load(f"key: {value}") == {"key": value}:
                return value
        except yaml.YAMLError:
            pass
    return scalar(value)


def flow_mapping(values: dict[str, Any]) -> str:
    """``{key: value, ...}`` on one line (nested mappings alike)."""
    items = (
        f"{key}: {flow_mapping(value) if isinstance(value, dict) else scalar(value)}"
        for key, value in values.items()
    )
    return "{" + ", ".join(items) + "}"


def input_lines(inputs: dict[str, dict[str, Any]]) -> list[str]:
    """The ``inputs:`` block of a manifest."""
    if not inputs:
        return ["inputs: {}"]
    lines = ["inputs:"]
    for name, spec in inputs.items():
        if set(spec) == {"type"}:
            lines.append(f"  {name}: {{type: {spec['type']}}}")
            continue
        lines.append(f"  {name}:")
        lines += [f"    {key}: {block_scalar(value)}" for key, value in spec.items()]
    return lines


def checked_manifest(text: str, shown: str, model: type[BaseModel]) -> str:
    """``text`` if it reads back as a valid ``model``; a converter bug otherwise."""
    try:
        model.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as error:
        detail = (
            "; ".join(format_validation_error(error, model, lambda _loc: shown))
            if isinstance(error, ValidationError)
            else str(error)
        )
        raise LLMOpsError(
            f"{shown}: migrate-flow wrote a manifest that does not validate ({detail}); "
            "nothing was written: please report this with the flow file"
        ) from None
    return text


def python_literal(value: Any) -> str:
    """Python source for a YAML literal, strings in double quotes (dates become text)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(python_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{python_literal(key)}: {python_literal(item)}" for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    return json.dumps(str(value))


def rewrite_code(
    plan: FolderPlan,
    root: Path,
    aggregate: tuple[str, str] | None = None,
    calls: dict[Path, FileCalls] | None = None,
) -> None:
    """Every ``.py`` file of the folder without prompt flow (``migrate_code``).

    ``aggregate`` is ``(file, function)`` of an evaluation's aggregation node; ``calls``
    the model calls of a file to route through ``line`` (``migrate_calls``). Test
    files are left as they are: pytest imports them as top-level modules.
    """
    from llmops.migrate_code import rewrite, siblings

    folder = plan.folder
    names = siblings(folder)
    tests: list[str] = []
    relative_imports = False
    imported_before: set[str] = set()
    imported_after: set[str] = set()
    for path in sorted(folder.rglob("*.py")):
        inside = path.relative_to(folder)
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in inside.parts[:-1]):
            continue
        shown = relative(path, root)
        if TEST_FILE.match(path.name):
            tests.append(shown)
            continue
        function = aggregate[1] if aggregate and inside.as_posix() == aggregate[0] else None
        depth = len(inside.parts) - 1
        text, changes = rewrite(path, shown, names, function, depth, (calls or {}).get(path))
        before = path.read_text(encoding="utf-8")
        imported_before |= _imported_modules(before)
        imported_after |= _imported_modules(text)
        if text != before:
            plan.writes[path] = text
            plan.lines.append(f"{inside.as_posix()}: {', '.join(changes)}")
            relative_imports = relative_imports or any("relative" in c for c in changes)
    if tests and relative_imports:
        plan.notes.append(
            f"{', '.join(tests)}: some modules now import their neighbours relatively; a test "
            "importing them as top-level modules needs the flow folder imported as a package"
        )
    for module in sorted((imported_before - imported_after) & names):
        plan.notes.append(
            f"{relative(folder / module, root)}.py: the flow's code no longer imports it (it "
            "served the removed model calls): delete it if nothing else needs it"
        )


def _imported_modules(text: str) -> set[str]:
    """First components of the modules a file imports (relative ones without the dots)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom):
            found.add((node.module or "").split(".")[0])
            if not node.module:
                found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
    return found


def prompt_flow_files(plan: FolderPlan, flow_file: Path, data: dict[str, Any], root: Path) -> None:
    """Schedule the flow file, its requirements.txt and ``.promptflow/`` for removal."""
    plan.removals.append(flow_file)
    environment = data.get("environment")
    listed = environment.get("python_requirements_txt") if isinstance(environment, dict) else None
    requirements = plan.folder / str(listed or "requirements.txt")
    if requirements.is_file() and requirements.resolve().is_relative_to(plan.folder.resolve()):
        plan.removals.append(requirements)
        others = [
            line.strip()
            for line in requirements.read_text(encoding="utf-8").splitlines()
            if line.strip()
            and not line.lstrip().startswith("#")
            and not PROMPTFLOW_PACKAGE.match(line.strip())
        ]
        if others:
            plan.notes.append(
                f"{relative(requirements, root)} also listed {', '.join(others)}: add what the "
                "flow still needs to pyproject.toml ([project.optional-dependencies] extra)"
            )
    cache = plan.folder / ".promptflow"
    if cache.is_dir():
        plan.removals.append(cache)
