"""Managed by the LLMOps template. The one exception type a user is meant to see."""

from __future__ import annotations


class LLMOpsError(Exception):
    """A problem the user can fix; the message names the file, key or variable to change.

    The CLI prints it as ``error: <message>`` and exits with status 2, never with a
    traceback.
    """


class ValidationFailed(LLMOpsError):
    """Several problems found before any LLM call; the CLI shows all of them."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))
