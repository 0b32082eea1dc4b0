"""Which language a prompt is in, as far as the English text head is concerned.

Rules:
- ``english_head_reads(text)`` is false when the prompt is plainly in another language:
  most of its letters are in a non-Latin script (CJK, Cyrillic, Arabic, Greek...), or
  it has at least ``MIN_WORDS`` words and py3langid (its model ships inside the
  package; ~0.05 ms an ordinary prompt, ~0.4 ms at 2,000 characters; ~78 MB
  resident once loaded) names another language with probability at least
  ``MIN_PROBABILITY``. Otherwise true: short prompts ("a tiger", "protein") are
  often misread as another language, and English is the safe default there, because
  the English head then reads them as it always has.
- Why it matters: the MiniLM head was trained on English. On German text it reads
  the article "die" and English-looking stems as violence ("a GP listening to a
  patient's lungs" scored 0.99), and on CJK, Cyrillic or Arabic text it sees unknown
  word pieces. The multilingual head reads those prompts (``text_classifier``).
- The identifier is restricted to the languages Imagegate moderates and a few
  neighbours, so that an English prompt is not named Latin or Esperanto.
"""

from __future__ import annotations

import functools
import re
from typing import Any

MIN_WORDS = 4
MIN_PROBABILITY = 0.7
LANGUAGES = ("en", "de", "es", "fr", "it", "pt", "nl", "pl", "ru", "uk", "ja", "zh", "ko", "ar")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_]+")


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def language_of(text: str) -> tuple[str, float]:
    """py3langid's guess among ``LANGUAGES`` and its probability."""
    language, probability = _identifier().classify(text)
    return str(language), float(probability)


@functools.lru_cache(maxsize=256)
def english_head_reads(text: str) -> bool:
    """Whether the English head's scores mean anything for ``text`` (see module rules).
    Cached: the classifier asks twice per prompt (its scores, then the factor it
    applied, which ``TextModerator`` records)."""
    letters = len(_LETTER.findall(text))
    if not letters:
        return True
    if len(_LATIN.findall(text)) * 2 < letters:
        return False
    if len(_WORD.findall(text)) < MIN_WORDS:
        return True
    language, probability = language_of(text)
    return language == "en" or probability < MIN_PROBABILITY


def warm_up() -> None:
    """Load the identifier's model now (~0.6 s), not on the first prompt."""
    _identifier()
