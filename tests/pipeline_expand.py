"""A small expander for Azure Pipelines templates, enough for the generated pipelines.

It does what Azure DevOps does at compile time for the constructs the template uses:
`template:` references (with parameter defaults and types), `${{ each }}`, `${{ if }}` /
`${{ else }}`, and `${{ }}` expressions with parameters, loop variables and the
functions eq, ne, not, and, or, endsWith, startsWith, contains, replace, lower, upper
and format. Runtime syntax (`$( )`, `$[ ]`) is left as it is. The tests assert on the
expanded pipeline, i.e. on what a run would execute.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

WHOLE = re.compile(r"^\$\{\{(.*)\}\}$", re.DOTALL)
INLINE = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
EACH = re.compile(r"^\$\{\{\s*each\s+(\w+)\s+in\s+(.+?)\s*\}\}$")
IF = re.compile(r"^\$\{\{\s*if\s+(.+?)\s*\}\}$")
ELSEIF = re.compile(r"^\$\{\{\s*elseif\s+(.+?)\s*\}\}$")
ELSE = re.compile(r"^\$\{\{\s*else\s*\}\}$")
TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|(\d+(?:\.\d+)?)|([A-Za-z_][\w.-]*)|(.))")


class Item(dict):
    """A mapping entry seen through `each`: `.key` and `.value`."""


def _tokens(text: str) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for string, number, name, other in TOKEN.findall(text):
        if string:
            found.append(("str", string[1:-1].replace("''", "'")))
        elif number:
            found.append(("num", float(number) if "." in number else int(number)))
        elif name:
            found.append(("name", name))
        elif other.strip():
            found.append(("op", other))
    return found


def _compare(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if isinstance(a, bool) or isinstance(b, bool):
        return _truthy(a) == _truthy(b)
    return str(a) == str(b) if isinstance(a, str) or isinstance(b, str) else a == b


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() not in ("", "false", "0")
    return bool(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return "" if value is None else str(value)


FUNCTIONS = {
    "eq": lambda a, b: _compare(a, b),
    "ne": lambda a, b: not _compare(a, b),
    "not": lambda a: not _truthy(a),
    "and": lambda *args: all(_truthy(a) for a in args),
    "or": lambda *args: any(_truthy(a) for a in args),
    "endsWith": lambda a, b: _text(a).lower().endswith(_text(b).lower()),
    "startsWith": lambda a, b: _text(a).lower().startswith(_text(b).lower()),
    "contains": lambda a, b: _text(b).lower() in _text(a).lower(),
    "replace": lambda a, old, new: _text(a).replace(_text(old), _text(new)),
    "lower": lambda a: _text(a).lower(),
    "upper": lambda a: _text(a).upper(),
    "format": lambda fmt, *args: re.sub(
        r"\{(\d+)\}", lambda m: _text(args[int(m.group(1))]), _text(fmt)
    ),
}


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    tokens = _tokens(expression)
    position = 0

    def peek() -> tuple[str, Any] | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> tuple[str, Any]:
        nonlocal position
        token = tokens[position]
        position += 1
        return token

    def value() -> Any:
        kind, text = take()
        if kind in ("str", "num"):
            return text
        if kind != "name":
            raise ValueError(f"unexpected {text!r} in {expression!r}")
        if peek() == ("op", "("):
            take()
            args = []
            while peek() != ("op", ")"):
                args.append(value())
                if peek() == ("op", ","):
                    take()
            take()
            return FUNCTIONS[text](*args)
        if text in ("true", "false"):
            return text == "true"
        head, *rest = text.split(".")
        current = context[head]
        for part in rest:
            current = current[part]
        return current

    result = value()
    if position != len(tokens):
        raise ValueError(f"could not read {expression!r}")
    return result


def interpolate(text: str, context: dict[str, Any]) -> Any:
    whole = WHOLE.match(text.strip()) if text.strip().startswith("${{") else None
    if whole and INLINE.fullmatch(text.strip()):
        return evaluate(whole.group(1), context)
    return INLINE.sub(lambda m: _text(evaluate(m.group(1), context)), text)


def _iterate(collection: Any) -> list[Any]:
    if isinstance(collection, dict):
        return [Item(key=k, value=v) for k, v in collection.items()]
    return list(collection or [])


class Expander:
    def __init__(self, root: Path) -> None:
        self.root = root

    def load(self, path: Path) -> dict[str, Any]:
        return yaml.safe_load(path.read_text())

    def pipeline(self, path: Path, runtime: dict[str, Any] | None = None) -> dict[str, Any]:
        document = self.load(path)
        params = self._parameters(document.get("parameters", []), runtime or {})
        body = {k: v for k, v in document.items() if k != "parameters"}
        return self.node(body, {"parameters": params}, path.parent)

    @staticmethod
    def _parameters(declared: list[dict[str, Any]], given: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for spec in declared:
            name = spec["name"]
            if name in given:
                value = given[name]
            elif "default" in spec:
                value = spec["default"]
            else:
                raise KeyError(f"parameter {name} is required")
            kind = spec.get("type", "string")
            if kind == "boolean" and isinstance(value, str):
                value = value.lower() == "true"
            elif kind == "number" and isinstance(value, str):
                value = int(value)
            if "values" in spec and value not in spec["values"]:
                raise ValueError(f"parameter {name}: {value!r} not in {spec['values']}")
            values[name] = value
        unknown = set(given) - {spec["name"] for spec in declared}
        if unknown:
            raise KeyError(f"unknown parameters {sorted(unknown)}")
        return values

    def template(self, reference: str, given: Any, context: dict, folder: Path) -> list[Any]:
        path = folder / reference
        document = self.load(path)
        arguments = self.node(given or {}, context, folder)
        params = self._parameters(document.get("parameters", []), arguments)
        (key,) = [k for k in document if k != "parameters"]
        return self.node(document[key], {"parameters": params}, path.parent)

    def node(self, node: Any, context: dict[str, Any], folder: Path) -> Any:
        if isinstance(node, str):
            return interpolate(node, context)
        if isinstance(node, list):
            return self.sequence(node, context, folder)
        if isinstance(node, dict):
            return self.mapping(node, context, folder)
        return node

    def _directive(self, key: str, value: Any, context: dict, state: dict) -> Any:
        """Return the items a directive key expands to, or None for an ordinary key."""
        if match := EACH.match(key):
            name, source = match.groups()
            return [
                ({**context, name: item}, value) for item in _iterate(evaluate(source, context))
            ]
        if match := IF.match(key):
            state["taken"] = _truthy(evaluate(match.group(1), context))
            return [(context, value)] if state["taken"] else []
        if match := ELSEIF.match(key):
            if state.get("taken"):
                return []
            state["taken"] = _truthy(evaluate(match.group(1), context))
            return [(context, value)] if state["taken"] else []
        if ELSE.match(key):
            return [] if state.get("taken") else [(context, value)]
        return None

    def sequence(self, items: list[Any], context: dict, folder: Path) -> list[Any]:
        out: list[Any] = []
        state: dict[str, bool] = {}
        for item in items:
            if isinstance(item, dict) and len(item) == 1:
                ((key, value),) = item.items()
                parts = self._directive(str(key), value, context, state)
                if parts is not None:
                    for inner_context, inner in parts:
                        out.extend(self.sequence(inner, inner_context, folder))
                    continue
            if isinstance(item, dict) and "template" in item and len(item) <= 2:
                out.extend(self.template(item["template"], item.get("parameters"), context, folder))
                continue
            out.append(self.node(item, context, folder))
        return out

    def mapping(self, items: dict[str, Any], context: dict, folder: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        state: dict[str, bool] = {}
        for key, value in items.items():
            parts = self._directive(str(key), value, context, state)
            if parts is not None:
                for inner_context, inner in parts:
                    out.update(self.mapping(inner, inner_context, folder))
                continue
            out[_text(interpolate(str(key), context))] = self.node(value, context, folder)
        return out


def walk(node: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """(path, value) of every scalar in a loaded document."""
    if isinstance(node, dict):
        return [pair for k, v in node.items() for pair in walk(v, (*path, k))]
    if isinstance(node, list):
        return [pair for i, v in enumerate(node) for pair in walk(v, (*path, i))]
    return [(path, node)]


def steps_of(pipeline: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(stage, job, step) for every step of an expanded multi-stage pipeline."""
    found = []
    for stage in pipeline.get("stages", []):
        for job in stage.get("jobs", []):
            name = job.get("job") or job.get("deployment")
            steps = job.get("steps")
            if steps is None:
                steps = job["strategy"]["runOnce"]["deploy"]["steps"]
            found.extend((stage["stage"], name, step) for step in steps)
    return found
