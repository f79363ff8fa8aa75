"""Named entity recognition as an Agent Framework workflow: extract, then cleanse.

The `extract` node (workflow.yaml) renders extract_entities.jinja2 and calls the model;
the `cleanse` step is plain Python (a function a test can call without a model).
"""

from typing import Any

import typing_extensions
from agent_framework import Workflow, WorkflowBuilder, WorkflowContext, executor

from llmops.workflow import LineContext

Outputs = WorkflowContext[typing_extensions.Never, dict[str, Any]]
"""The last step's context: sends nothing, yields the outputs (typing.Never needs 3.11)."""


def cleanse(raw_entities: str) -> list[str]:
    """Split on commas, trim quotes and dots, and drop 'None' answers."""
    entities = []
    for part in raw_entities.replace("\n", ",").split(","):
        entity = part.strip().strip("\"'.").strip()
        if entity and entity.lower() != "none":
            entities.append(entity)
    return entities


def build_workflow(line: LineContext) -> Workflow:
    """Two steps: the LLM answers, Python turns the answer into a list."""

    @executor(id="extract")
    async def extract(inputs: dict[str, Any], ctx: WorkflowContext[str]) -> None:
        answer = await line.complete(
            "extract", text=inputs["text"], entity_type=inputs["entity_type"]
        )
        await ctx.send_message(answer)

    @executor(id="cleanse")
    async def clean(answer: str, ctx: Outputs) -> None:
        await ctx.yield_output({"entities": cleanse(answer)})

    builder = WorkflowBuilder(name="named_entity_recognition", start_executor=extract)
    return builder.add_edge(extract, clean).build()
