"""Per-line score: exact set match and F1 over normalised entity strings."""


def _normalise(entities: list[str]) -> set[str]:
    return {str(entity).strip().lower() for entity in entities if str(entity).strip()}


def score(entities: list[str], ground_truth: list[str]) -> dict[str, float]:
    """Compare predicted and expected entities, ignoring case and order."""
    predicted, expected = _normalise(entities), _normalise(ground_truth)
    if not predicted and not expected:
        return {"exact_match": 1, "f1": 1.0}
    overlap = len(predicted & expected)
    precision = overlap / len(predicted) if predicted else 0.0
    recall = overlap / len(expected) if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if overlap else 0.0
    return {"exact_match": int(predicted == expected), "f1": round(f1, 4)}
