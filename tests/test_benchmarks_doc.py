from __future__ import annotations

from pathlib import Path

from benchmarks import write_section


def test_write_section_replaces_between_markers_and_keeps_the_rest(tmp_path: Path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nintro\n\n<!-- b -->\nold\n<!-- e -->\n\ntail\n")
    write_section("<!-- b -->", "<!-- e -->", "<!-- b -->\nnew\n<!-- e -->", doc)
    assert doc.read_text() == "# Benchmarks\n\nintro\n\n<!-- b -->\nnew\n<!-- e -->\n\ntail\n"


def test_write_section_appends_when_the_markers_are_missing(tmp_path: Path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nintro\n")
    write_section("<!-- b -->", "<!-- e -->", "<!-- b -->\nnew\n<!-- e -->", doc)
    assert doc.read_text() == "# Benchmarks\n\nintro\n\n<!-- b -->\nnew\n<!-- e -->\n"
