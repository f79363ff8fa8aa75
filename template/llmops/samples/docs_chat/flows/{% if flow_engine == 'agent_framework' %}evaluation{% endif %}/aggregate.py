"""Experiment-level metrics: retrieval hit rate and mean answer keyword recall.

evaluator.yaml lists the returned names under `aggregate.metrics`, so `llmops validate`
can check that every gate in experiment.yaml names a metric this evaluator produces.
"""


def aggregate(scores: list[dict]) -> dict[str, float]:
    """Average the per-line scores into the run's metrics."""
    count = len(scores) or 1
    retrieval_hit_rate = round(sum(s["retrieval_hit"] for s in scores) / count, 4)
    answer_keyword_recall = round(sum(s["keyword_recall"] for s in scores) / count, 4)
    return {
        "retrieval_hit_rate": retrieval_hit_rate,
        "answer_keyword_recall": answer_keyword_recall,
    }
