"""Retrieve the chunks of docs/*.md closest to the question, by embedding similarity.

Documents are split on Markdown headings and embedded once per run (llmops imports the
flow folder afresh per run); the question is embedded per line. Embeddings go through
the workflow's `embed` node (workflow.yaml), so the connection, keyless sign-in, the
mock LLM and token counts work as for the chat node.
"""

import asyncio
from pathlib import Path
from typing import Any

from llmops.workflow import LineContext

DOCS = Path(__file__).parent / "docs"
TOP_K = 2
EMBED_NODE = "embed"


def chunks() -> list[tuple[str, str]]:
    """``(source, text)`` per Markdown section of every file in docs/."""
    found = []
    for path in sorted(DOCS.glob("*.md")):
        section: list[str] = []
        for line in [*path.read_text(encoding="utf-8").splitlines(), "# end"]:
            if line.startswith("#") and section:
                found.append((path.name, "\n".join(section).strip()))
                section = []
            section.append(line)
    return [(source, text) for source, text in found if text]


def _cosine(left: list[float], right: list[float]) -> float:
    dot = sum(a * b for a, b in zip(left, right, strict=False))
    norm = (sum(a * a for a in left) * sum(b * b for b in right)) ** 0.5
    return dot / norm if norm else 0.0


_VECTORS: list[list[float]] = []
"""Chunk vectors, computed once per run by whichever line gets there first."""
_EMBEDDING_DOCS = asyncio.Lock()


async def retrieve(line: LineContext, question: str, top_k: int) -> dict[str, Any]:
    """The ``top_k`` closest chunks: their text joined as context, and their sources."""
    parts = chunks()
    async with _EMBEDDING_DOCS:
        if not _VECTORS:
            _VECTORS.extend(await line.embed(EMBED_NODE, [text for _, text in parts]))
    (query,) = await line.embed(EMBED_NODE, [question])
    ranked = sorted(
        zip(parts, _VECTORS, strict=True),
        key=lambda item: _cosine(query, item[1]),
        reverse=True,
    )[:top_k]
    return {
        "context": "\n\n".join(f"[{source}]\n{text}" for (source, text), _ in ranked),
        "sources": list(dict.fromkeys(source for (source, _), _ in ranked)),
    }
