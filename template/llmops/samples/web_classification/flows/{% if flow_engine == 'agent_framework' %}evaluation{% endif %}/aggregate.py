"""Experiment-level metrics: accuracy and the share of answers in the known categories.

evaluator.yaml lists the returned names under `aggregate.metrics`, so `llmops validate`
can check that every gate in experiment.yaml names a metric this evaluator produces.
"""


def aggregate(scores: list[dict[str, int]]) -> dict[str, float]:
    """Average the per-line scores into the run's metrics."""
    count = len(scores) or 1
    accuracy = round(sum(s["correct"] for s in scores) / count, 4)
    valid_label_rate = round(sum(s["valid_label"] for s in scores) / count, 4)
    return {"accuracy": accuracy, "valid_label_rate": valid_label_rate}
