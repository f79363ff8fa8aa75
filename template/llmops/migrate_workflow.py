"""Managed by the LLMOps template. ``llmops migrate-flow``: write a flow's ``workflow.py``.

Design: one Agent Framework executor per prompt flow node, chained in an order where
each node comes after every node it reads (file order where the DAG allows). The
message along the chain is ``state``, a dict of the line so far: ``state["inputs"]``
holds the flow inputs, ``state["<node>"]`` each node's result. Why a chain rather
than fan-out/fan-in edges: the runner already runs many lines at once, so parallel
branches inside one line gain little, while conditional edges into a fan-in would
wait forever for a branch prompt flow bypassed. In a chain, a bypassed node simply
leaves no entry, and prompt flow's rules read plainly in each executor:

* a node with ``activate: {when, is}`` runs only when the value equals ``is`` (and
  the node it reads was not bypassed);
* a node without one is bypassed when every node it reads was bypassed;
* a bypassed node read by a running node gives ``None`` (or the Python parameter's
  default); flow outputs read ``None`` from it.

A flex flow becomes a single executor around its entry function or class.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

from llmops.migrate_base import Ref, python_literal
from llmops.migrate_code import Function

LINE_LENGTH = 100
HEADER_NAMES = frozenset(
    {
        "asyncio",
        "Any",
        "Path",
        "jinja2",
        "Workflow",
        "WorkflowBuilder",
        "WorkflowContext",
        "executor",
        "Never",
        "LineContext",
        "State",
        "HERE",
        "render",
        "build_workflow",
        "line",
        "state",
        "ctx",
        "values",
        "flow_inputs",
        "flow_outputs",
        "entry",
        "as_outputs",
        "dataclasses",
        "functools",
        "inputs",
    }
)


@dataclass
class Step:
    """One prompt flow node as the generated workflow runs it."""

    name: str
    kind: str
    inputs: dict[str, Any]
    source: str
    activate: tuple[Any, Any] | None = None
    function: Function | None = None
    module: str = ""
    blanks: tuple[str, ...] = ()
    """Variables the LLM node's prompt uses but the node does not give."""
    alias: str = ""
    python_name: str = ""

    @property
    def reads(self) -> list[str]:
        """Nodes whose results this node's inputs use."""
        return list(dict.fromkeys(v.node for v in self.inputs.values() if _is_node(v)))

    @property
    def waits_for(self) -> set[str]:
        """Nodes that must have run (or been bypassed) first."""
        condition = self.activate[0] if self.activate else None
        return set(self.reads) | ({condition.node} if _is_node(condition) else set())


@dataclass
class Names:
    """Python names in the generated module, kept apart from each other."""

    taken: set[str] = field(default_factory=lambda: set(HEADER_NAMES))

    def claim(self, *candidates: str) -> str:
        for candidate in candidates:
            if candidate.isidentifier() and candidate not in self.taken:
                self.taken.add(candidate)
                return candidate
        base = candidates[-1]
        number = 2
        while f"{base}_{number}" in self.taken:
            number += 1
        self.taken.add(f"{base}_{number}")
        return f"{base}_{number}"


def _is_node(value: Any) -> bool:
    return isinstance(value, Ref) and value.node is not None


def bypassable(steps: list[Step]) -> set[str]:
    """Nodes prompt flow may bypass on some line (``steps`` in run order)."""
    maybe: set[str] = set()
    for step in steps:
        reads = step.reads
        if step.activate is not None or (reads and all(name in maybe for name in reads)):
            maybe.add(step.name)
    return maybe


def dag_source(
    title: list[str], workflow_name: str, steps: list[Step], outputs: dict[str, Ref]
) -> str:
    """The whole ``workflow.py`` of a DAG flow (see the module docstring)."""
    names = Names()
    imported: dict[tuple[str, str], str] = {}
    for step in steps:
        step.python_name = names.claim(f"{step.name}_step", "node_step")
        if step.function is not None:
            key = (step.module, step.function.name)
            if key not in imported:
                fallback = f"{step.module.replace('.', '_')}_{step.function.name}"
                imported[key] = names.claim(step.function.name, fallback)
            step.alias = imported[key]
    imports = [
        f"from .{module} import {function}" + ("" if alias == function else f" as {alias}")
        for (module, function), alias in imported.items()
    ]
    maybe = bypassable(steps)
    uses_threads = any(s.function is not None and not s.function.is_async for s in steps)
    uses_prompts = any(step.kind == "prompt" for step in steps)
    order = " -> ".join(["inputs", *(step.name for step in steps), "outputs"])
    about = textwrap.wrap(
        "Written by `llmops migrate-flow` from flow.dag.yaml; yours to edit from now on. "
        "One executor per prompt flow node, run in an order where every node comes after "
        f'the nodes it reads: {order}. `state` is the line so far: `state["inputs"]` '
        'holds the flow inputs, `state["<node>"]` the result of each node that ran; a '
        "node prompt flow would have bypassed leaves no entry. LLM nodes call "
        "`line.complete`; their prompt file, connection, options and variants are in "
        "workflow.yaml.",
        width=88,
        break_on_hyphens=False,
    )
    lines = [
        '"""' + (title[0] if title else "The flow as an Agent Framework workflow."),
        *title[1:],
        "",
        *about,
        '"""',
        "",
    ]
    lines += ["import asyncio"] if uses_threads else []
    lines += ["from pathlib import Path"] if uses_prompts else []
    lines += ["from typing import Any", ""]
    lines += ["import jinja2"] if uses_prompts else []
    lines += [
        "from agent_framework import Workflow, WorkflowBuilder, WorkflowContext, executor",
        "from typing_extensions import Never",
        "",
        "from llmops.workflow import LineContext",
        "",
    ]
    lines += [*sorted(imports), ""] if imports else []
    lines += [
        "State = dict[str, Any]",
        '"""The line so far: ``inputs``, then one entry per node that ran."""',
    ]
    if uses_prompts:
        lines += ["HERE = Path(__file__).parent", "", "", *_RENDER]
    lines += [
        "",
        "",
        "def build_workflow(line: LineContext) -> Workflow:",
        '    """One workflow per line: the nodes in order, then the flow outputs."""',
        "",
        '    @executor(id="inputs")',
        "    async def flow_inputs(inputs: dict[str, Any], ctx: WorkflowContext[State]) -> None:",
        '        await ctx.send_message({"inputs": inputs})',
    ]
    for step in steps:
        lines += ["", *_step_lines(step, maybe)]
    produced = {name: _value(ref, maybe) for name, ref in outputs.items()}
    lines += [
        "",
        '    @executor(id="outputs")',
        "    async def flow_outputs("
        "state: State, ctx: WorkflowContext[Never, dict[str, Any]]) -> None:",
        *_call("        await ctx.yield_output({", _items(produced), "})"),
        "",
    ]
    chain = ["flow_inputs", *(step.python_name for step in steps), "flow_outputs"]
    lines += _builder(workflow_name, chain)
    return "\n".join(lines) + "\n"


_RENDER = [
    "def render(file: str, **values: Any) -> str:",
    '    """A prompt node: its template rendered as prompt flow rendered it, no LLM call."""',
    '    text = (HERE / file).read_text(encoding="utf-8")',
    "    template = jinja2.Template(text, trim_blocks=True, keep_trailing_newline=True)",
    "    return template.render(**values)",
]


def _step_lines(step: Step, maybe: set[str]) -> list[str]:
    summary = {
        "embedding": f"embedding node: workflow.yaml, nodes.{step.name}",
        "llm": f"llm node: {step.source} (workflow.yaml, nodes.{step.name})",
        "prompt": f"prompt node: renders {step.source}",
        "python": f"python node: {step.source}:{step.function.name if step.function else ''}",
    }[step.kind]
    lines = [
        f'    @executor(id="{step.name}")',
        f"    async def {step.python_name}(state: State, ctx: WorkflowContext[State]) -> None:",
        f'        """{summary}."""',
    ]
    condition, comment, present = _condition(step, maybe)
    indent = "        "
    if condition:
        lines.append(f"        # {comment}")
        single = f"        if {condition}:"
        fits = len(single) <= LINE_LENGTH
        lines += [single] if fits else ["        if (", f"            {condition}", "        ):"]
        indent = "            "
    lines += _run_lines(step, maybe - present, indent)
    lines.append("        await ctx.send_message(state)")
    return lines


def _condition(step: Step, maybe: set[str]) -> tuple[str, str, set[str]]:
    """The test that runs the node, a comment on it, and the nodes it proves ran."""
    if step.activate is not None:
        when, expected = step.activate
        value = _value(when, set()) if isinstance(when, Ref) else python_literal(when)
        test = f"{value} == {python_literal(expected)}"
        present: set[str] = set()
        if _is_node(when) and when.node in maybe:
            test = f'"{when.node}" in state and {test}'
            present = {when.node}
        shown = str(when) if isinstance(when, Ref) else python_literal(when)
        comment = (
            f"activate: prompt flow ran this node only when {shown} is {python_literal(expected)}"
        )
        return test, comment, present
    reads = step.reads
    if reads and all(name in maybe for name in reads):
        test = " or ".join(f'"{name}" in state' for name in reads)
        comment = "prompt flow bypassed this node when every node it reads was bypassed"
        return test, comment, set(reads) if len(reads) == 1 else set()
    return "", "", set()


def _run_lines(step: Step, maybe: set[str], indent: str) -> list[str]:
    target = f'{indent}state["{step.name}"] = '
    given = {name: value for name, value in step.inputs.items()}
    optional = {
        name
        for name, value in given.items()
        if step.function is not None
        and name in step.function.with_default
        and _is_node(value)
        and value.node in maybe
    }
    arguments = [f"{name}={_value(value, maybe)}" for name, value in given.items()]
    if step.kind == "llm":
        arguments += [f'{name}=""' for name in step.blanks]
        return _call(f"{target}await line.complete(", [f'"{step.name}"', *arguments], ")")
    if step.kind == "prompt":
        return _call(f"{target}render(", [f'"{step.source}"', *arguments], ")")
    if step.kind == "embedding":  # one text in, its vector out, as prompt flow's tool did
        text = _value(given["input"], maybe)
        return _call(f'{target}(await line.embed("{step.name}", [', [text], "]))[0]")
    assert step.function is not None
    lines: list[str] = []
    given_line = ["line"] if step.function.takes_line else []
    if optional:  # prompt flow leaves these out when their node was bypassed (default used)
        kept = {name: _value(value, maybe) for name, value in given.items() if name not in optional}
        lines += _call(f"{indent}values = {{", _items(kept), "}")
        for name in sorted(optional):
            node = given[name].node
            lines += [f'{indent}if "{node}" in state:']
            lines += [f'{indent}    values["{name}"] = {_value(given[name], set())}']
        arguments = ["**values"]
    arguments = given_line + arguments
    if step.function.is_async:
        return lines + _call(f"{target}await {step.alias}(", arguments, ")")
    return lines + _call(f"{target}await asyncio.to_thread(", [step.alias, *arguments], ")")


def _value(value: Any, maybe: set[str]) -> str:
    """Python source reading a node input from ``state``."""
    if not isinstance(value, Ref):
        return python_literal(value)
    if value.node is None:
        return f'state["inputs"]["{value.name}"]'
    path = "".join(f"[{python_literal(part)}]" for part in value.path)
    if value.node not in maybe:
        return f'state["{value.node}"]{path}'
    if not path:
        return f'state.get("{value.node}")'
    return f'(state["{value.node}"]{path} if "{value.node}" in state else None)'


def _items(values: dict[str, str]) -> list[str]:
    return [f'"{key}": {value}' for key, value in values.items()]


def _call(head: str, items: list[str], tail: str) -> list[str]:
    """``head`` (ending in a bracket), items, ``tail`` (closing it): one line, or one per item."""
    single = head + ", ".join(items) + tail
    if len(single) <= LINE_LENGTH or not items:
        return [single]
    outer = head[: len(head) - len(head.lstrip())]
    return [head, *(f"{outer}    {item}," for item in items), outer + tail]


def _builder(workflow_name: str, chain: list[str]) -> list[str]:
    start = f"WorkflowBuilder(name={json.dumps(workflow_name)}, start_executor={chain[0]})"
    single = f"    return {start}.add_chain([{', '.join(chain)}]).build()"
    if len(single) <= LINE_LENGTH:
        return [single]
    listed = f"        .add_chain([{', '.join(chain)}])"
    if len(listed) > LINE_LENGTH:
        return [
            "    return (",
            f"        {start}",
            "        .add_chain(",
            "            [",
            *(f"                {name}," for name in chain),
            "            ]",
            "        )",
            "        .build()",
            "    )",
        ]
    return ["    return (", f"        {start}", listed, "        .build()", "    )"]


def flex_source(
    title: list[str],
    workflow_name: str,
    module: str,
    entry: Function,
    class_name: str | None,
    inputs: list[str],
) -> str:
    """The ``workflow.py`` of a flex flow: one executor around the entry."""
    imported = class_name or entry.name
    call = "entry()" if class_name else imported
    arguments = [f'{name}=inputs["{name}"]' for name in inputs]
    if entry.takes_line:
        arguments.insert(0, "line")
    if entry.is_async:
        run = _call(f"        result = await {call}(", arguments, ")")
    else:
        run = _call("        result = await asyncio.to_thread(", [call, *arguments], ")")
    lines = [
        '"""' + (title[0] if title else "The flex flow as an Agent Framework workflow."),
        *title[1:],
        "",
        *textwrap.wrap(
            "Written by `llmops migrate-flow` from flow.flex.yaml; yours to edit from now on. "
            f"One executor calls the entry ({module}:{imported}) with "
            + (
                "`line`, through which its model calls go (workflow.yaml `nodes`), and "
                if entry.takes_line
                else ""
            )
            + "the line's inputs, and yields what it returns as the flow outputs, read as "
            "prompt flow read them (a dict or a dataclass by its keys, anything else as "
            "`output`).",
            width=88,
            break_on_hyphens=False,
        ),
        '"""',
        "",
    ]
    lines += ["import asyncio"] if not entry.is_async else []
    lines += ["import dataclasses"]
    lines += ["import functools"] if class_name else []
    lines += [
        "from typing import Any",
        "",
        "from agent_framework import Workflow, WorkflowBuilder, WorkflowContext, executor",
        "from typing_extensions import Never",
        "",
        "from llmops.workflow import LineContext",
        "",
        f"from .{module} import {imported}",
        "",
    ]
    if class_name:
        lines += [
            "",
            "@functools.cache",
            f"def entry() -> {class_name}:",
            '    """One instance per run, as prompt flow made one per worker."""',
            f"    return {class_name}()",
            "",
        ]
    lines += [
        "",
        "def as_outputs(result: Any) -> dict[str, Any]:",
        '    """The flow outputs from what the entry returned."""',
        "    if dataclasses.is_dataclass(result) and not isinstance(result, type):",
        "        return dataclasses.asdict(result)",
        '    return dict(result) if isinstance(result, dict) else {"output": result}',
        "",
        "",
        "def build_workflow(line: LineContext) -> Workflow:",
        '    """One executor: the entry over the line\'s inputs."""',
        "",
        f'    @executor(id="{imported}")',
        "    async def run_entry(",
        "        inputs: dict[str, Any], ctx: WorkflowContext[Never, dict[str, Any]]",
        "    ) -> None:",
        *run,
        "        await ctx.yield_output(as_outputs(result))",
        "",
        f"    return WorkflowBuilder(name={json.dumps(workflow_name)}, start_executor=run_entry)"
        ".build()",
    ]
    return "\n".join(lines) + "\n"
