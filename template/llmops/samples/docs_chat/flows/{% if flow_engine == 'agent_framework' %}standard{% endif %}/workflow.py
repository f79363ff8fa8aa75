"""Chat over the bundled docs as an Agent Framework workflow: retrieve, then answer.

Retrieval is plain Python (retrieve.py) in an executor, embedding through the `embed`
node; the `answer` node (workflow.yaml) renders answer.jinja2 with the question, the
chat history and the retrieved context.
"""

from typing import Any

import typing_extensions
from agent_framework import Workflow, WorkflowBuilder, WorkflowContext, executor

from llmops.workflow import LineContext

from .retrieve import TOP_K, retrieve

Outputs = WorkflowContext[typing_extensions.Never, dict[str, Any]]
"""The last step's context: sends nothing, yields the outputs (typing.Never needs 3.11)."""


def build_workflow(line: LineContext) -> Workflow:
    """Two steps: find the closest doc chunks, then answer from them."""

    @executor(id="retrieve")
    async def find(inputs: dict[str, Any], ctx: WorkflowContext[dict[str, Any]]) -> None:
        await ctx.send_message(await retrieve(line, inputs["question"], top_k=TOP_K))

    @executor(id="answer")
    async def answer(found: dict[str, Any], ctx: Outputs) -> None:
        reply = await line.complete(
            "answer",
            question=line.inputs["question"],
            chat_history=line.inputs["chat_history"],
            context=found["context"],
        )
        await ctx.yield_output({"answer": reply, "sources": found["sources"]})

    return WorkflowBuilder(name="docs_chat", start_executor=find).add_edge(find, answer).build()
