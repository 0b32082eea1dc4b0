"""Speed benchmarks; ``python -m benchmarks`` writes results to docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_section(begin: str, end: str, section: str, doc: Path = DOC) -> None:
    """Replace the text between the ``begin`` and ``end`` markers of ``doc`` (both kept,
    ``section`` starts with ``begin`` and ends with ``end``), or append the section."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        text = text[: text.index(begin)] + section + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    doc.write_text(text)
