"""Per-line score: retrieval hit and the share of expected keywords in the answer."""


def score(answer: str, sources: list[str], expected_source: str, keywords: list[str]) -> dict:
    """1/0 when the expected document was retrieved; keyword recall between 0 and 1."""
    text = str(answer).lower()
    found = [word for word in keywords if str(word).lower() in text]
    return {
        "retrieval_hit": int(expected_source in (sources or [])),
        "keyword_recall": round(len(found) / len(keywords), 4) if keywords else 1.0,
    }
