"""Managed by the LLMOps template. The throw-away use case of benchmarks/experiment_bench.py.

One shape for both engines, so their figures compare: an LLM node ``ask`` with N
variants (temperature 0.0, 0.1, ...), a Python step ``tidy``, and a code evaluator
``check`` (per-line ``match``, aggregated to ``match_rate``). Prompt flow gets it as DAG
flows; Agent Framework as ``workflow.yaml`` + ``workflow.py`` and ``evaluator.yaml``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

PROMPT = "# system:\nRepeat the names.\n\n# user:\nText: {{text}}\n"
EXPERIMENT = """\
name: bench
connections: [{connection}]
variants: one_factor
runtime:
  workers: {workers}
  executor: {executor}
  concurrent_runs: {concurrent_runs}
datasets:
  - name: lines
    source: data/lines.jsonl
    mappings:
      text: ${{data.text}}
evaluators:
  - name: check
    flow: flows/evaluation
    datasets:
      - name: lines
        mappings:
          answer: ${{run.outputs.answer}}
          expected: ${{data.expected}}
gates:
  check.match_rate: ">= 0"
"""

PF_VARIANT = """\
      v{index}:
        node:
          type: llm
          source:
            type: code
            path: prompt.jinja2
          inputs:
            {model_key}: {deployment}
            temperature: 0.{index}
            text: ${{inputs.text}}
          connection: {connection}
          api: chat
"""
PF_STANDARD = """\
inputs:
  text:
    type: string
outputs:
  answer:
    type: string
    reference: ${{tidy.output}}
nodes:
  - name: ask
    use_variants: true
  - name: tidy
    type: python
    source:
      type: code
      path: tidy.py
    inputs:
      answer: ${{ask.output}}
node_variants:
  ask:
    default_variant_id: v0
    variants:
{variants}"""
PF_EVALUATION = """\
inputs:
  answer:
    type: string
  expected:
    type: string
outputs:
  match:
    type: int
    reference: ${score.output}
nodes:
  - name: score
    type: python
    source:
      type: code
      path: score.py
    inputs:
      answer: ${inputs.answer}
      expected: ${inputs.expected}
  - name: rate
    type: python
    source:
      type: code
      path: rate.py
    inputs:
      scores: ${score.output}
    aggregation: true
"""
PF_FILES = {
    "flows/standard/prompt.jinja2": PROMPT,
    "flows/standard/tidy.py": (
        "from promptflow.core import tool\n\n\n@tool\ndef tidy(answer: str) -> str:\n"
        "    return answer.strip()\n"
    ),
    "flows/evaluation/score.py": (
        "from promptflow.core import tool\n\n\n@tool\n"
        "def score(answer: str, expected: str) -> int:\n    return int(answer == expected)\n"
    ),
    "flows/evaluation/rate.py": (
        "from promptflow.core import log_metric, tool\n\n\n@tool\n"
        "def rate(scores: list[int]) -> float:\n"
        "    value = sum(scores) / max(len(scores), 1)\n"
        '    log_metric("match_rate", value)\n    return value\n'
    ),
}

AF_VARIANT = "      v{index}: {{options: {{temperature: 0.{index}}}}}\n"
AF_STANDARD = """\
workflow: workflow.py:build_workflow
inputs:
  text: {{type: string}}
outputs:
  answer: the reply, stripped
nodes:
  ask:
    connection: {connection}
    prompt: prompt.jinja2
    default_variant: v0
    variants:
{variants}"""
AF_FILES = {
    "flows/standard/prompt.jinja2": PROMPT,
    "flows/standard/workflow.py": """\
from typing import Any

from agent_framework import Workflow, WorkflowBuilder, WorkflowContext, executor
from typing_extensions import Never

from llmops.workflow import LineContext


def build_workflow(line: LineContext) -> Workflow:
    @executor(id="ask")
    async def ask(inputs: dict[str, Any], ctx: WorkflowContext[str]) -> None:
        await ctx.send_message(await line.complete("ask", text=inputs["text"]))

    @executor(id="tidy")
    async def tidy(answer: str, ctx: WorkflowContext[Never, dict[str, Any]]) -> None:
        await ctx.yield_output({"answer": answer.strip()})

    return WorkflowBuilder(name="bench", start_executor=ask).add_edge(ask, tidy).build()
""",
    "flows/evaluation/evaluator.yaml": """\
function: score.py:score
inputs:
  answer: {type: string}
  expected: {type: string}
outputs: [match]
aggregate:
  function: rate.py:rate
  metrics: [match_rate]
""",
    "flows/evaluation/score.py": (
        "def score(answer: str, expected: str) -> dict[str, int]:\n"
        '    return {"match": int(answer == expected)}\n'
    ),
    "flows/evaluation/rate.py": (
        "def rate(scores: list[dict[str, int]]) -> dict[str, float]:\n"
        '    return {"match_rate": sum(s["match"] for s in scores) / max(len(scores), 1)}\n'
    ),
}


def build(
    source: Path,
    project: Path,
    engine: str,
    *,
    lines: int,
    variants: int,
    workers: int,
    executor: str,
    concurrent_runs: int,
) -> None:
    """``project``: ``source``'s config plus the use case ``bench`` written for ``engine``."""
    from llmops.config import load_connections

    shutil.copytree(source / "config", project / "config")
    if (source / "pf.yaml").is_file():
        shutil.copy(source / "pf.yaml", project / "pf.yaml")
    connection = load_connections(project)[0]
    if engine == "promptflow":
        model_key = "deployment_name" if connection.type == "azure_openai" else "model"
        text = "".join(
            PF_VARIANT.format(
                index=index,
                model_key=model_key,
                deployment=connection.deployment,
                connection=connection.name,
            )
            for index in range(variants)
        )
        files = {
            "flows/standard/flow.dag.yaml": PF_STANDARD.format(variants=text),
            "flows/evaluation/flow.dag.yaml": PF_EVALUATION,
            **PF_FILES,
        }
    else:
        text = "".join(AF_VARIANT.format(index=index) for index in range(variants))
        standard = AF_STANDARD.format(connection=connection.name, variants=text)
        files = {"flows/standard/workflow.yaml": standard, **AF_FILES}
    files["experiment.yaml"] = EXPERIMENT.format(
        connection=connection.name,
        workers=workers,
        executor=executor,
        concurrent_runs=concurrent_runs,
    )
    files["data/lines.jsonl"] = "".join(json.dumps(row) + "\n" for row in rows(lines))
    case = project / "use_cases" / "bench"
    for relative, content in files.items():
        (case / relative).parent.mkdir(parents=True, exist_ok=True)
        (case / relative).write_text(content, encoding="utf-8")


def rows(count: int) -> list[dict[str, str]]:
    """The dataset, the same for every engine."""
    return [
        {"text": f"Line {n}: Ada Lovelace met Charles Babbage.", "expected": "Ada Lovelace"}
        for n in range(count)
    ]
