"""Pure-Python text moderation engine (no Django, no torch at import)."""
