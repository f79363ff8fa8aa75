"""Experiment-level metrics: priority accuracy and mean keyword recall.

evaluator.yaml lists the returned names under `aggregate.metrics`, so `llmops validate`
can check that every gate in experiment.yaml names a metric this evaluator produces.
"""


def aggregate(scores: list[dict]) -> dict[str, float]:
    """Average the per-line scores into the run's metrics."""
    count = len(scores) or 1
    priority_accuracy = round(sum(s["priority_match"] for s in scores) / count, 4)
    keyword_recall = round(sum(s["keyword_recall"] for s in scores) / count, 4)
    return {"priority_accuracy": priority_accuracy, "keyword_recall": keyword_recall}
