"""Retrieve the chunks of docs/*.md closest to the question, by embedding similarity.

Documents are split on Markdown headings and embedded once per run (llmops imports the
flow folder afresh per run); the question is embedded per line. Embeddings use the
flow's connection (retrieve_settings.py) through Agent Framework's OpenAI embedding
client, so the mock LLM answers them offline exactly like a real endpoint would.
"""

import os
from pathlib import Path
from typing import Any

from agent_framework.openai import OpenAIEmbeddingClient

from .retrieve_settings import API_VERSION, CONNECTION, CONNECTION_TYPE, EMBEDDING_DEPLOYMENT

DOCS = Path(__file__).parent / "docs"


def embedding_client() -> OpenAIEmbeddingClient:
    """A client for <CONNECTION>_API_BASE / <CONNECTION>_API_KEY, as llmops reads them."""
    prefix = CONNECTION.upper()
    api_base = os.environ.get(f"{prefix}_API_BASE") or None
    api_key = os.environ.get(f"{prefix}_API_KEY") or None
    if CONNECTION_TYPE == "azure_openai":
        return OpenAIEmbeddingClient(
            model=EMBEDDING_DEPLOYMENT,
            azure_endpoint=api_base,
            api_key=api_key,
            api_version=API_VERSION or None,
        )
    return OpenAIEmbeddingClient(model=EMBEDDING_DEPLOYMENT, api_key=api_key, base_url=api_base)


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


async def _embed(client: OpenAIEmbeddingClient, texts: list[str]) -> list[list[float]]:
    return [list(item.vector) for item in await client.get_embeddings(texts)]


def _cosine(left: list[float], right: list[float]) -> float:
    dot = sum(a * b for a, b in zip(left, right, strict=False))
    norm = (sum(a * a for a in left) * sum(b * b for b in right)) ** 0.5
    return dot / norm if norm else 0.0


_VECTORS: dict[tuple[str, str], list[list[float]]] = {}
"""Chunk vectors per (endpoint, deployment), computed once per run."""


async def retrieve(question: str, top_k: int) -> dict[str, Any]:
    """The ``top_k`` closest chunks: their text joined as context, and their sources."""
    client = embedding_client()
    try:
        parts = chunks()
        key = (client.service_url(), EMBEDDING_DEPLOYMENT)
        if key not in _VECTORS:
            _VECTORS[key] = await _embed(client, [text for _, text in parts])
        (query,) = await _embed(client, [question])
    finally:
        await client.client.close()  # close its HTTP pool while the loop runs
    ranked = sorted(
        zip(parts, _VECTORS[key], strict=True),
        key=lambda item: _cosine(query, item[1]),
        reverse=True,
    )[:top_k]
    return {
        "context": "\n\n".join(f"[{source}]\n{text}" for (source, text), _ in ranked),
        "sources": list(dict.fromkeys(source for (source, _), _ in ranked)),
    }
