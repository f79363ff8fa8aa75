"""Retrieve the chunks of docs/*.md closest to the question, by embedding similarity.

Documents are split on Markdown headings and embedded once per process (the llmops
process, or each worker with ``runtime.executor: processes``); the question is
embedded per line. Embeddings go through prompt flow's embedding tool with the flow's
connection, so the mock LLM answers them offline exactly like a real endpoint would,
and `llmops migrate-flow` turns each call into a workflow.yaml embedding node.
"""

from pathlib import Path
from typing import Union

from promptflow.connections import AzureOpenAIConnection, OpenAIConnection
from promptflow.core import tool
from promptflow.tools.embedding import embedding

DOCS = Path(__file__).parent / "docs"
# typing.Union on purpose: prompt flow resolves connection unions only in this spelling.
Connection = Union[AzureOpenAIConnection, OpenAIConnection]  # noqa: UP007


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


_VECTORS: dict[str, list[list[float]]] = {}
"""Chunk vectors per embedding deployment, computed once per process."""


@tool
def retrieve(
    question: str,
    connection: Connection,
    embedding_deployment: str,
    top_k: int = 2,
) -> dict:
    """The ``top_k`` closest chunks: their text joined as context, and their sources.

    ``embedding_deployment`` is the deployment (Azure OpenAI) or model (OpenAI).
    """
    parts = chunks()
    if embedding_deployment not in _VECTORS:
        _VECTORS[embedding_deployment] = [
            embedding(
                connection, text, deployment_name=embedding_deployment, model=embedding_deployment
            )
            for _, text in parts
        ]
    query = embedding(
        connection, question, deployment_name=embedding_deployment, model=embedding_deployment
    )
    ranked = sorted(
        zip(parts, _VECTORS[embedding_deployment], strict=True),
        key=lambda item: _cosine(query, item[1]),
        reverse=True,
    )[:top_k]
    return {
        "context": "\n\n".join(f"[{source}]\n{text}" for (source, text), _ in ranked),
        "sources": list(dict.fromkeys(source for (source, _), _ in ranked)),
    }
