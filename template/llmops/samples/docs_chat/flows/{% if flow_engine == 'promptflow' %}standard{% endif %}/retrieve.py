"""Retrieve the chunks of docs/*.md closest to the question, by embedding similarity.

Documents are split on Markdown headings and embedded once per process (the llmops
process, or each worker with ``runtime.executor: processes``); the question is
embedded per line. Embeddings use the flow's connection, so the mock LLM
answers them offline exactly like a real endpoint would.
"""

from pathlib import Path
from typing import Union

from openai import AzureOpenAI, OpenAI
from promptflow.connections import AzureOpenAIConnection, OpenAIConnection
from promptflow.core import tool

DOCS = Path(__file__).parent / "docs"
# typing.Union on purpose: prompt flow resolves connection unions only in this spelling.
Connection = Union[AzureOpenAIConnection, OpenAIConnection]  # noqa: UP007


def _client(connection: Connection) -> AzureOpenAI | OpenAI:
    if isinstance(connection, AzureOpenAIConnection):
        return AzureOpenAI(
            api_key=connection.api_key,
            azure_endpoint=connection.api_base,
            api_version=connection.api_version,
        )
    return OpenAI(api_key=connection.api_key, base_url=connection.base_url or None)


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


def _embed(client: AzureOpenAI | OpenAI, deployment: str, texts: list[str]) -> list[list[float]]:
    response = client.embeddings.create(model=deployment, input=texts)
    return [item.embedding for item in sorted(response.data, key=lambda item: item.index)]


def _cosine(left: list[float], right: list[float]) -> float:
    dot = sum(a * b for a, b in zip(left, right, strict=False))
    norm = (sum(a * a for a in left) * sum(b * b for b in right)) ** 0.5
    return dot / norm if norm else 0.0


_VECTORS: dict[tuple[str, str], list[list[float]]] = {}
"""Chunk vectors per (endpoint, deployment), computed once per process."""


@tool
def retrieve(
    question: str,
    connection: Connection,
    embedding_deployment: str,
    top_k: int = 2,
) -> dict:
    """The ``top_k`` closest chunks: their text joined as context, and their sources."""
    client = _client(connection)
    parts = chunks()
    key = (str(getattr(connection, "api_base", "")), embedding_deployment)
    if key not in _VECTORS:
        _VECTORS[key] = _embed(client, embedding_deployment, [text for _, text in parts])
    (query,) = _embed(client, embedding_deployment, [question])
    ranked = sorted(
        zip(parts, _VECTORS[key], strict=True),
        key=lambda item: _cosine(query, item[1]),
        reverse=True,
    )[:top_k]
    return {
        "context": "\n\n".join(f"[{source}]\n{text}" for (source, text), _ in ranked),
        "sources": list(dict.fromkeys(source for (source, _), _ in ranked)),
    }
