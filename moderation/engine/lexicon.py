"""Lexicon features of the text classifier: hits per term group on the normalised prompt.

Rules:
- Groups come from ``moderation/data/lexicon.json``: a group either reuses a rules
  term list (``"file": "sexual_explicit.txt"``) or lists its own ``terms``. Matching
  is the rules layer's whole-word lookup (plurals, ``word*`` prefixes), so the
  features are as robust to spelling tricks as the rules are, and as cheap.
- The feature of a group is ``log(1 + hits)``, capped at ``MAX_FEATURE``, in the
  order of ``names``. Nothing here decides: the trained head weighs these numbers
  together with the embedding, so a soft word ("blood", "bed") only moves a score.
- The head records ``names`` and a digest of the lexicon (``LexiconFeatures.digest``);
  a head trained on another lexicon is refused when loaded.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moderation.engine.rules import DATA_DIR, _Matcher, _term_entries

DEFAULT_LEXICON_PATH = DATA_DIR / "lexicon.json"
MAX_FEATURE = 2.0
_WORD = re.compile(r"[^\W_]+")


def _read_terms(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [
            line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")
        ]


class LexiconFeatures:
    """Per-group whole-word hit counts, as a small feature vector."""

    def __init__(self, groups: Mapping[str, Sequence[str]]) -> None:
        self.names: tuple[str, ...] = tuple(groups)
        self.groups: dict[str, list[str]] = {k: list(v) for k, v in groups.items()}
        self._index = {name: i for i, name in enumerate(self.names)}
        entries = []
        for name, terms in groups.items():
            for term in terms:
                entries.extend(_term_entries(name, term))
        self._matcher = _Matcher(entries)
        canonical = json.dumps({k: sorted(v) for k, v in groups.items()}, sort_keys=True)
        self.digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], terms_dir: Path | None = None) -> LexiconFeatures:
        folder = terms_dir or DATA_DIR / "terms"
        groups: dict[str, list[str]] = {}
        for name, spec in data["groups"].items():
            if "file" in spec:
                groups[name] = _read_terms(folder / spec["file"])
            else:
                groups[name] = [str(t) for t in spec["terms"]]
        return cls(groups)

    @classmethod
    def load(cls, path: Path | str = DEFAULT_LEXICON_PATH) -> LexiconFeatures:
        with open(path, encoding="utf-8") as handle:
            return cls.from_dict(json.load(handle), Path(path).parent / "terms")

    def __len__(self) -> int:
        return len(self.names)

    def counts(self, text: str) -> dict[str, int]:
        """Hits per group (one per matched phrase) in already normalised text."""
        result = dict.fromkeys(self.names, 0)
        for hit in self._matcher.find(_WORD.findall(text)):
            result[hit.group] += 1
        return result

    def vector(self, text: str) -> np.ndarray:
        out = np.zeros(len(self.names), dtype=np.float32)
        for name, count in self.counts(text).items():
            if count:
                out[self._index[name]] = min(math.log1p(count), MAX_FEATURE)
        return out

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.names)), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self.vector(text)
        return out
