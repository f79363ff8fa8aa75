"""Per-line score: priority match and the share of expected keywords in the summary."""


def score(priority: str, summary: str, expected_priority: str, keywords: list[str]) -> dict:
    """1/0 for the priority; keyword recall between 0 and 1."""
    text = str(summary).lower()
    found = [word for word in keywords if str(word).lower() in text]
    return {
        "priority_match": int(str(priority).lower() == str(expected_priority).lower()),
        "keyword_recall": round(len(found) / len(keywords), 4) if keywords else 1.0,
    }
