"""Human labels for the moderation categories of SPEC §3 (the keys never change)."""

CATEGORY_LABELS: dict[str, str] = {
    "sexual": "sexual content",
    "sexual_minors": "sexual content involving minors",
    "minors": "depiction of minors",
    "nonconsensual": "non-consensual imagery of a real person",
    "violence_graphic": "graphic violence",
    "hate": "hate",
    "self_harm": "self-harm",
    "illegal": "illegal activity",
}


def category_label(key: str | None) -> str:
    if not key:
        return ""
    return CATEGORY_LABELS.get(key, key.replace("_", " "))
