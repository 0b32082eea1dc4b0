"""How much a prompt says, for decisions that the classifier alone would make.

Rules:
- The classifier's heads were trained on prompts that describe something (scenes,
  requests, tag lists). On a string of a few words that describe nothing ("idem test
  unicode(", "ok", "foo bar baz") their probabilities are extrapolation: the benign
  class is "an ordinary description", so text unlike any description lands on the
  unsafe side, often near 1.0.
- So a classifier-only verdict may block (a strike) only when the prompt has at least
  ``MIN_CLASSIFIER_BLOCK_WORDS`` words of two letters or more (normalised text, any
  script; two CJK characters count one word), or when a rule hit of any action names
  the category the classifier gives ("bloody massacre": the term lists vouch that the
  words are real); otherwise it holds for human review at most. Rule hits and
  ``sexual_minors`` are not affected.
- Measured on the evaluation set (docs/moderation.md): recall is unchanged, since a
  held prompt still counts as flagged.
"""

from __future__ import annotations

import re

MIN_CLASSIFIER_BLOCK_WORDS = 4
_WORD = re.compile(r"[^\W\d_]{2,}")
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


def content_words(text: str) -> int:
    """Words of two letters or more in ``text``, plus one per two CJK characters."""
    cjk = (len(_CJK.findall(text)) + 1) // 2
    latin = sum(1 for word in _WORD.findall(text) if not _CJK.search(word))
    return latin + cjk


def classifier_may_block(text: str) -> bool:
    """Whether a classifier-only verdict on this (normalised) prompt may block."""
    return content_words(text) >= MIN_CLASSIFIER_BLOCK_WORDS
