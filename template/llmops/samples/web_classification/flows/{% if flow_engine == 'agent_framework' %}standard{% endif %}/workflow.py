"""Web page classification as an Agent Framework workflow: classify, then normalise.

The `classify` node (workflow.yaml) has two variants, a prompt file and options each;
llmops renders the variant under test, so this code is the same for every variant.
"""

from typing import Any

import typing_extensions
from agent_framework import Workflow, WorkflowBuilder, WorkflowContext, executor

from llmops.workflow import LineContext

Outputs = WorkflowContext[typing_extensions.Never, dict[str, Any]]
"""The last step's context: sends nothing, yields the outputs (typing.Never needs 3.11)."""

CATEGORIES = ("Sports", "Technology", "Finance", "Health", "Travel")


def normalise(answer: str) -> str:
    """The first known category named in the answer, ignoring case and punctuation."""
    words = answer.replace(".", " ").replace(",", " ").lower().split()
    for word in words:
        for category in CATEGORIES:
            if word == category.lower():
                return category
    return "Other"


def build_workflow(line: LineContext) -> Workflow:
    """Two steps: the LLM names a category, Python maps it onto a known one."""

    @executor(id="classify")
    async def classify(inputs: dict[str, Any], ctx: WorkflowContext[str]) -> None:
        answer = await line.complete("classify", title=inputs["title"], text=inputs["text"])
        await ctx.send_message(answer)

    @executor(id="normalise")
    async def to_category(answer: str, ctx: Outputs) -> None:
        await ctx.yield_output({"category": normalise(answer)})

    builder = WorkflowBuilder(name="web_classification", start_executor=classify)
    return builder.add_edge(classify, to_category).build()
