"""Managed by the LLMOps template. Put Markdown on the pipeline run's summary page.

``llmops gate`` uses it so the gate table is on the run's page, not only in a step log.
GitHub Actions: appended to the file named by ``GITHUB_STEP_SUMMARY``. Azure DevOps
(``TF_BUILD=True``): written to the agent's temp folder and attached with the
``##vso[task.uploadsummary]`` logging command. Anywhere else nothing is written. Gate
results hold metric names, values and variant names only, never a secret.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def publish(
    title: str,
    markdown: str,
    environ: Mapping[str, str] = os.environ,
    echo: Callable[[str], None] = print,
) -> Path | None:
    """Attach ``markdown`` to the current CI run; the file written, or None outside CI."""
    github = environ.get("GITHUB_STEP_SUMMARY")
    if github:
        path = Path(github)
        with path.open("a", encoding="utf-8") as summary:
            summary.write(markdown + "\n")
        return path
    if environ.get("TF_BUILD", "").lower() == "true":
        folder = Path(environ.get("AGENT_TEMPDIRECTORY") or tempfile.gettempdir())
        path = folder / f"llmops-{UNSAFE.sub('-', title).strip('-').lower()}.md"
        path.write_text(markdown, encoding="utf-8")
        echo(f"##vso[task.uploadsummary]{path.resolve()}")
        return path
    return None
