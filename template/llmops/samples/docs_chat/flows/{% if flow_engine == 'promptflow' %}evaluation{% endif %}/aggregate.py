"""Experiment-level metrics: retrieval hit rate and mean answer keyword recall.

Metric names are string literals in log_metric(...) calls, so `llmops validate` can
check that every gate in experiment.yaml names a metric this flow produces.
"""

from promptflow.core import log_metric, tool


@tool
def aggregate(scores: list[dict]) -> dict[str, float]:
    """Average the per-line scores and log them as run metrics."""
    count = len(scores) or 1
    retrieval_hit_rate = round(sum(s["retrieval_hit"] for s in scores) / count, 4)
    answer_keyword_recall = round(sum(s["keyword_recall"] for s in scores) / count, 4)
    log_metric("retrieval_hit_rate", retrieval_hit_rate)
    log_metric("answer_keyword_recall", answer_keyword_recall)
    return {
        "retrieval_hit_rate": retrieval_hit_rate,
        "answer_keyword_recall": answer_keyword_recall,
    }
