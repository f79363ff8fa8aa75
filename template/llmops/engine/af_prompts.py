"""Managed by the LLMOps template. Prompt files of Agent Framework use cases.

Two formats, both rendered with Jinja2 as prompt flow renders them (``trim_blocks``:
a block tag's own line leaves no blank line), except that undefined names are errors,
not blanks:

* ``.jinja2``: prompt flow's chat format, so a migrated prompt is copied as is. Lines
  ``# system:``, ``# user:`` and ``# assistant:`` start a message of that role; text
  before the first marker is a user message.
* ``.prompty``: YAML front matter between ``---`` lines, then the same messages with
  or without the ``#``. The front matter's ``model.parameters`` are the node's default
  model options (the manifest's options win).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from llmops.errors import LLMOpsError
from llmops.paths import relative

ROLE_LINE = re.compile(r"^\s*#?\s*(system|user|assistant)\s*:\s*$", re.IGNORECASE)
FRONT_MATTER = re.compile(r"\A---\s*\n(?P<meta>.*?)\n---\s*\n", re.DOTALL)
_ENVIRONMENT = jinja2.Environment(
    undefined=jinja2.StrictUndefined, trim_blocks=True, keep_trailing_newline=True, autoescape=False
)


@dataclass(frozen=True)
class Prompt:
    """A compiled prompt file and the model options its front matter sets."""

    shown: str
    template: jinja2.Template
    options: dict[str, Any] = field(default_factory=dict)

    def messages(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        """``(role, text)`` pairs of the rendered prompt."""
        try:
            text = self.template.render(**values)
        except jinja2.UndefinedError as error:
            given = ", ".join(sorted(values)) or "none"
            raise LLMOpsError(f"{self.shown}: {error.message} (values given: {given})") from None
        return split_messages(text)


def split_messages(text: str) -> list[tuple[str, str]]:
    """Cut rendered text at role marker lines; empty messages are dropped."""
    messages: list[tuple[str, list[str]]] = []
    role, lines = "user", []
    for line in text.splitlines():
        marker = ROLE_LINE.match(line)
        if marker:
            messages.append((role, lines))
            role, lines = marker.group(1).lower(), []
        else:
            lines.append(line)
    messages.append((role, lines))
    return [(role, "\n".join(body).strip()) for role, body in messages if "\n".join(body).strip()]


def load_prompt(path: Path, root: Path) -> Prompt:
    """Read and compile a prompt file; a syntax error names the file and line."""
    shown = relative(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LLMOpsError(f"{shown}: prompt file not found") from None
    except UnicodeDecodeError:
        raise LLMOpsError(f"{shown}: not UTF-8 text") from None
    options: dict[str, Any] = {}
    offset = 0
    if path.suffix == ".prompty":
        found = FRONT_MATTER.match(text)
        if found:
            offset = text[: found.end()].count("\n")
            options = _prompty_options(found.group("meta"), shown)
            text = text[found.end() :]
    try:
        template = _ENVIRONMENT.from_string(text)
    except jinja2.TemplateSyntaxError as error:
        line = (error.lineno or 1) + offset
        raise LLMOpsError(f"{shown}:{line}: Jinja2 syntax error: {error.message}") from None
    return Prompt(shown=shown, template=template, options=options)


def _prompty_options(meta: str, shown: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(meta) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{shown}:{mark.line + 2}" if mark is not None else shown
        raise LLMOpsError(f"{where}: invalid front matter: {error}") from None
    model = data.get("model") if isinstance(data, dict) else None
    parameters = model.get("parameters") if isinstance(model, dict) else None
    return dict(parameters) if isinstance(parameters, dict) else {}
