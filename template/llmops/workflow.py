"""Managed by the LLMOps template. What an Agent Framework workflow factory is given.

A use case's ``workflow.py`` has a factory ``build_workflow(line: LineContext) ->
Workflow``; ``llmops`` calls it once per dataset line (a ``Workflow`` runs one line at a
time) and runs the workflow with the line's inputs (a dict) as its first message. Its
executors call the manifest's LLM nodes through ``await line.complete("<node>",
**values)``: the node's prompt file is rendered with ``values`` and sent with the
node's options (the variant under test applied) through the run's shared chat client.
Embedding nodes answer ``await line.embed("<node>", texts)`` the same way.
Tokens and latency are counted per line, so reports show them. The workflow's output
is the dict it yields (``await ctx.yield_output({...})``) with the manifest's outputs.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from llmops.errors import LLMOpsError

Messages = list[tuple[str, str]]
ChatCall = Callable[[str, Messages], Awaitable[tuple[str, int, int]]]
"""``(node, messages) -> (text, prompt_tokens, completion_tokens)``."""
EmbedCall = Callable[[str, list[str]], Awaitable[tuple[list[list[float]], int]]]
"""``(node, texts) -> (vectors, prompt_tokens)``."""


class LineInputs(dict):  # type: ignore[type-arg]
    """The line's inputs; reading one the manifest does not declare names the manifest."""

    def __missing__(self, key: str) -> Any:
        declared = ", ".join(self) or "none"
        raise LLMOpsError(
            f"input '{key}' is not declared in workflow.yaml `inputs` (declared: {declared})"
        )


@dataclass
class LineUsage:
    """What one line spent on LLM calls."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_seconds: float = 0.0

    def as_record(self) -> dict[str, float]:
        """The ``usage`` entry of a line record."""
        return {
            "llm_calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "llm_seconds": round(self.llm_seconds, 4),
        }


@dataclass
class LineContext:
    """One dataset line: its inputs, and the LLM nodes its workflow may call."""

    inputs: Mapping[str, Any]
    prompts: Mapping[str, Callable[[dict[str, Any]], Messages]]
    chat: ChatCall
    embedder: EmbedCall | None = None
    usage: LineUsage = field(default_factory=LineUsage)

    async def complete(self, node: str, **values: Any) -> str:
        """Render ``node``'s prompt with ``values``, call its model, return the reply text."""
        render = self.prompts.get(node)
        if render is None:
            known = ", ".join(self.prompts) or "none"
            raise LLMOpsError(f"node '{node}' is not in workflow.yaml `nodes` (known: {known})")
        messages = render(values)
        started = time.perf_counter()
        text, prompt_tokens, completion_tokens = await self.chat(node, messages)
        self.usage.llm_seconds += time.perf_counter() - started
        self.usage.calls += 1
        self.usage.prompt_tokens += prompt_tokens
        self.usage.completion_tokens += completion_tokens
        return text

    async def embed(self, node: str, texts: list[str]) -> list[list[float]]:
        """Embed ``texts`` with ``node``'s embedding deployment; one vector per text."""
        if self.embedder is None:
            raise LLMOpsError("this run has no embedding nodes in workflow.yaml `nodes`")
        started = time.perf_counter()
        vectors, prompt_tokens = await self.embedder(node, list(texts))
        self.usage.llm_seconds += time.perf_counter() - started
        self.usage.calls += 1
        self.usage.prompt_tokens += prompt_tokens
        return vectors
