"""``training.term_audit``: frequent ordinary words the shipped rules read as a term."""

from __future__ import annotations

from pathlib import Path

from moderation.engine.rules import default_ruleset
from training.term_audit import audit, main, read_words


def _words(tmp_path: Path) -> Path:
    path = tmp_path / "ja.tsv"
    # word, Zipf frequency (out of order on purpose): イエロー (yellow) and カロリー
    # (calorie) contain エロ and ロリ but are exceptions; ロリコン and エロゲ are not.
    path.write_text(
        "カロリー\t4.2\nロリコン\t3.7\nイエロー\t3.9\n# a comment\n公園\t4.5\nエロゲ\t3.72\n",
        encoding="utf-8",
    )
    return path


def test_words_are_read_most_frequent_first(tmp_path: Path) -> None:
    assert [w for w, _ in read_words(_words(tmp_path))] == [
        "公園",
        "カロリー",
        "イエロー",
        "エロゲ",
        "ロリコン",
    ]


def test_only_words_the_rules_read_as_a_term_are_reported(tmp_path: Path) -> None:
    readings = list(audit(read_words(_words(tmp_path)), default_ruleset(), inside=True))
    assert [(r.word, r.group, r.term) for r in readings] == [
        ("エロゲ", "sexual_indicator", "エロ"),
        ("ロリコン", "minors_extra", "ロリ"),
    ]


def test_the_command_prints_one_line_per_reading(tmp_path: Path, capsys) -> None:
    assert main(["--words", str(_words(tmp_path)), "--inside"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("#")]
    assert lines == [
        "3.72\tエロゲ\tsexual_indicator\tエロ\tエロ",
        "3.7\tロリコン\tminors_extra\tロリ\tロリ",
    ]
