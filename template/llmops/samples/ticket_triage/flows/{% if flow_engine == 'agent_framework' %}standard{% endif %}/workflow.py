"""Support ticket triage as an Agent Framework workflow: one Prompty call, then parsing.

The prompt flow sample is a flex flow (a Python function loading the Prompty file);
here the `triage` node of workflow.yaml names the same file, and llmops renders it
and applies its model parameters, so this code never sees a connection.
"""

from typing import Any

import typing_extensions
from agent_framework import Workflow, WorkflowBuilder, WorkflowContext, executor

from llmops.workflow import LineContext

Outputs = WorkflowContext[typing_extensions.Never, dict[str, Any]]
"""The last step's context: sends nothing, yields the outputs (typing.Never needs 3.11)."""

PRIORITIES = ("high", "medium", "low")


def parse(answer: str) -> dict[str, str]:
    """Read the two reply lines; an unknown priority becomes "medium"."""
    fields = {}
    for line in str(answer).splitlines():
        key, _, value = line.partition(":")
        fields[key.strip().lower()] = value.strip()
    priority = fields.get("priority", "").lower()
    return {
        "priority": priority if priority in PRIORITIES else "medium",
        "summary": fields.get("summary", str(answer).strip()),
    }


def build_workflow(line: LineContext) -> Workflow:
    """One step: ask the model for a priority and a summary of the ticket."""

    @executor(id="triage")
    async def triage(inputs: dict[str, Any], ctx: Outputs) -> None:
        await ctx.yield_output(parse(await line.complete("triage", ticket=inputs["ticket"])))

    return WorkflowBuilder(name="ticket_triage", start_executor=triage).build()
