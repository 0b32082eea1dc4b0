"""The synchronous text path: normalisation, rules, classifier, one decision.

Rules:
- A prompt longer than ``MAX_PROMPT_CHARS`` is rejected (``PromptTooLongError``),
  never truncated.
- Rules: a ``block`` hit blocks, a ``review`` hit holds for review, for the hit's
  category. A ``corroborate`` hit holds for review when the classifier's unsafe score
  (sum over categories) is at least ``corroborate_at`` (default: the head's
  ``metadata.corroborate_at``, else ``DEFAULT_CORROBORATE_AT``), or when there is no
  classifier. ``minors`` alone and other indicators decide nothing.
- A hit softened by a context group (help, pretend or education framing; see
  ``rules``) holds for review only when the classifier's unsafe score reaches its own
  review threshold: in that framing the word alone decides nothing, but the verdict
  still names the rule's span.
- Classifier: with an ``unsafe`` threshold, the summed probability of all unsafe
  categories is compared and the likeliest category named; otherwise each category's
  score is compared with its own thresholds. Below ``allow`` allows, at or above
  ``block`` blocks, in between holds for review. On a prompt of fewer than
  ``evidence.MIN_CLASSIFIER_BLOCK_WORDS`` words the classifier blocks only when a rule
  hit (any action) names the same category; otherwise it holds for review at most (its
  scores on a few words that describe nothing are extrapolation; see ``evidence``).
- A minor indicator (rules) together with a sexual classifier score at or above
  ``minor_sexual`` is ``sexual_minors``. The default, ``DEFAULT_MINOR_SEXUAL``, is
  far below the ordinary thresholds (zero tolerance) and calibrated on third-party
  benign prompts that mention children (family, school, sport, medicine): none of
  them reaches it (``docs/moderation.md``). Like the regional limits below, it is
  compared with the scores before the other-language factor.
- That classifier-only ``sexual_minors`` holds for review (senior moderators decide,
  and a confirmed one locks the account), unless ``minor_sexual_block`` is set and
  the score reaches it: then it blocks. The default, ``DEFAULT_MINOR_SEXUAL_BLOCK``,
  is ``None``: a score alone never locks an account, because benign prompts reach any
  level (a long seaside-wedding description that mentions children scores sexual
  0.96). While it holds, the classifier's own ``sexual`` candidate is left out, so a
  sexual score high enough to block is still held as ``sexual_minors``, not blocked
  as adult ``sexual`` (which would open no CSAM review).
- ``sexual_minors`` found by the rules blocks, except a rule whose action is
  ``review`` (the shipped ``minor_with_underwear``: a minor with a plain word for
  underwear, which ordinary prompts use too): it holds for senior review.
- The verdict is the strictest candidate (block > review > allow); ties go to the
  more severe category, then to the rules layer, whose span explains itself.
- Where a long prompt was read in several windows (``TextClassifier.scored_windows``),
  a decision about one place reads the most unsafe window near it, as the whole
  prompt's scores are its most unsafe window's: a ``corroborate`` hit and a softened
  hit are agreed with by the windows within ``reach`` characters of the hit (of the
  normalised text, ``DEFAULT_REACH``), and the minor indicator takes the sexual score
  of the most unsafe window within ``minor_reach`` of that indicator
  (``DEFAULT_MINOR_REACH``, wider: what follows a named child may go on about them).
  A harmless sentence elsewhere in a long description no longer agrees with a word it
  never stood beside.
  A hit with no window read near it (beyond the classifier's budget) reads the whole
  prompt's scores, as does a classifier that gives no windows. A prompt read in one
  window is decided as before: every window is near every hit. The verdict records
  what the windows near each such hit said (``scores["near"]``).
- Every layer's scores are recorded on the verdict, with timings.
- Rules only (``classifier_deferred``, the request stage when the classifiers run on
  the moderation queue): no classifier is read, and the hits whose outcome depends on
  it (``corroborate``, softened hits) decide nothing here; the verdict lists them under
  ``scores["deferred"]`` for the deep check, which runs the whole path again.
- Regional thresholds (``regional``): a jurisdiction's stricter per-category limits
  that only the classifier crosses hold the prompt for review, never block (no
  strike), and the verdict says which regional rule applied. They apply only where
  the classifier sees risk at all: its unsafe score (sum over categories) must reach
  ``regional_min_unsafe`` (default: ``corroborate_at``), because a category's
  share of a benign prompt's small unsafe mass is no signal ("a castle, ukiyo-e" is
  0.5 violence of almost nothing). A verdict that already holds or blocks is kept.
  The limits were set against scores calibrated on English benign prompts: where the
  classifier raised a prompt's unsafe odds because it is in another language
  (``unsafe_odds``, recorded as ``scores["calibration"]``), they are compared with the
  scores before that factor.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from moderation.engine.evidence import classifier_may_block
from moderation.engine.normalize import MAX_PROMPT_CHARS, normalize
from moderation.engine.rules import RuleMatch, RuleSet, default_ruleset

DECISION_RANK = {"allow": 0, "review": 1, "block": 2}
ZERO_TOLERANCE = frozenset({"sexual_minors"})
UNSAFE = "unsafe"
DEFAULT_THRESHOLDS: dict[str, dict[str, float]] = {UNSAFE: {"allow": 0.8, "block": 0.98}}
DEFAULT_CORROBORATE_AT = 0.5
# Sexual probability that, with a minor indicator, is sexual_minors (see module rules).
DEFAULT_MINOR_SEXUAL = 0.8
# Sexual probability at which that escalation blocks instead of holding (None: never).
DEFAULT_MINOR_SEXUAL_BLOCK: float | None = None
# Characters of the normalised prompt around a hit whose classifier windows speak for
# that hit (module rules): the distance the combination rules allow between a minor
# and a sexual word (``moderation/data/rules.json``, ``near``).
DEFAULT_REACH = 100
# ... and around a minor indicator, for the sexual score that makes it sexual_minors:
# wider, since the sentences after a named child may go on about them ("A girl walks
# in. The light is dim. She ...").
DEFAULT_MINOR_REACH = 400

# The scores of the most unsafe window near a hit, or None where the whole prompt's
# scores stand for it.
Near = Callable[[RuleMatch], Mapping[str, float] | None]


class PromptTooLongError(ValueError):
    """The prompt exceeds the maximum length; it is rejected, not truncated."""

    code = "prompt_too_long"

    def __init__(self, length: int, limit: int = MAX_PROMPT_CHARS) -> None:
        super().__init__(f"prompt has {length} characters; the limit is {limit}")
        self.length = length
        self.limit = limit


class Scorer(Protocol):
    def scores(self, text: str) -> dict[str, float]: ...


@dataclass(frozen=True)
class TextVerdict:
    decision: str  # "allow" | "review" | "block"
    category: str | None
    layer: str | None  # "rules" | "classifier" | None when allowed
    span: tuple[int, int] | None  # offsets in the original prompt
    matched_text: str | None
    severity: int
    policy_version: str
    scores: dict[str, Any] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "category": self.category,
            "layer": self.layer,
            "span": list(self.span) if self.span else None,
            "matched_text": self.matched_text,
            "severity": self.severity,
            "policy_version": self.policy_version,
            "scores": self.scores,
            "timings_ms": self.timings_ms,
        }


@dataclass(frozen=True)
class _Candidate:
    decision: str
    category: str
    layer: str
    span: tuple[int, int] | None
    text: str | None
    severity: int


class TextModerator:
    """Runs the synchronous text layers and decides (see module docstring)."""

    def __init__(
        self,
        ruleset: RuleSet | None = None,
        classifier: Scorer | None = None,
        thresholds: Mapping[str, Mapping[str, float]] | None = None,
        *,
        minor_sexual: float | None = None,
        minor_sexual_block: float | None = DEFAULT_MINOR_SEXUAL_BLOCK,
        max_chars: int = MAX_PROMPT_CHARS,
        corroborate_at: float | None = None,
        regional_min_unsafe: float | None = None,
        classifier_deferred: bool = False,
        reach: int = DEFAULT_REACH,
        minor_reach: int = DEFAULT_MINOR_REACH,
    ) -> None:
        self.ruleset = ruleset if ruleset is not None else default_ruleset()
        if classifier_deferred and classifier is not None:
            raise ValueError("a rules-only moderator takes no classifier")
        self.classifier = classifier
        self.classifier_deferred = classifier_deferred
        if thresholds is None:
            head = getattr(classifier, "head", None)
            thresholds = getattr(head, "thresholds", None) or DEFAULT_THRESHOLDS
        self.thresholds = {k: dict(v) for k, v in thresholds.items()}
        self.minor_sexual = minor_sexual if minor_sexual is not None else DEFAULT_MINOR_SEXUAL
        self.minor_sexual_block = minor_sexual_block
        self.max_chars = max_chars
        if corroborate_at is None:
            metadata = getattr(getattr(classifier, "head", None), "metadata", None) or {}
            corroborate_at = float(metadata.get("corroborate_at", DEFAULT_CORROBORATE_AT))
        self.corroborate_at = corroborate_at
        self.reach = reach
        self.minor_reach = minor_reach
        self.regional_min_unsafe = (
            corroborate_at if regional_min_unsafe is None else regional_min_unsafe
        )

    def check(self, prompt: str) -> TextVerdict:
        """Decide on one prompt; raises ``PromptTooLongError`` over the limit."""
        if len(prompt) > self.max_chars:
            raise PromptTooLongError(len(prompt), self.max_chars)
        started = time.perf_counter()
        normalized = normalize(prompt)
        normalized_at = time.perf_counter()
        matches = self.ruleset.match(normalized)
        rules_at = time.perf_counter()
        classifier_scores: dict[str, float] = {}
        layers: dict[str, Any] = {}
        odds = 1.0
        windows: list[tuple[int, int, Mapping[str, float]]] | None = None
        if self.classifier is not None and normalized.text:
            scored_windows = getattr(self.classifier, "scored_windows", None)
            if scored_windows is not None:
                classifier_scores, read = scored_windows(normalized.text)
                windows = [(w.start, w.end, w.scores) for w in read]
            else:
                classifier_scores = self.classifier.scores(normalized.text)
            odds_for = getattr(self.classifier, "unsafe_odds", None)
            odds = odds_for(normalized.text) if odds_for is not None else 1.0
            if odds != 1.0:
                layers["calibration"] = {"other_language_odds": odds}
        finished = time.perf_counter()

        near = self._near(normalized.starts, windows, self.reach)
        near_minor = self._near(normalized.starts, windows, self.minor_reach)
        candidates = self._rule_candidates(matches, classifier_scores, near)
        candidates.extend(
            self._classifier_candidates(
                classifier_scores, matches, normalized.text, odds, near_minor
            )
        )
        if windows is not None and len(windows) > 1:
            layers["near"] = _near_record(matches, near, near_minor, odds)
        verdict = _strictest(candidates)
        if self.classifier_deferred:
            layers["deferred"] = [m.as_dict() for m in matches if m.action == "corroborate"]
        return TextVerdict(
            decision=verdict.decision if verdict else "allow",
            category=verdict.category if verdict else None,
            layer=verdict.layer if verdict else None,
            span=verdict.span if verdict else None,
            matched_text=verdict.text if verdict else None,
            severity=verdict.severity if verdict else 0,
            policy_version=self.ruleset.version,
            scores={
                "normalisation": {"text": normalized.text, "changes": dict(normalized.changes)},
                "rules": [m.as_dict() for m in matches],
                "classifier": classifier_scores,
                **layers,
            },
            timings_ms={
                "normalisation": _ms(normalized_at - started),
                "rules": _ms(rules_at - normalized_at),
                "classifier": _ms(finished - rules_at),
                "total": _ms(finished - started),
            },
        )

    def regional(
        self,
        verdict: TextVerdict,
        limits: Mapping[str, Mapping[str, float]],
        *,
        jurisdiction: str = "",
    ) -> TextVerdict:
        """The verdict under a jurisdiction's stricter limits (see module rules)."""
        if verdict.decision != "allow" or not limits:
            return verdict
        scores = _without_odds(
            verdict.scores.get("classifier") or {},
            (verdict.scores.get("calibration") or {}).get("other_language_odds", 1.0),
        )
        unsafe = sum(scores.values())
        if unsafe < self.regional_min_unsafe:
            return verdict
        crossed = [
            (score, category)
            for category, bounds in limits.items()
            if (score := scores.get(category)) is not None and score >= bounds["allow"]
        ]
        if not crossed:
            return verdict
        score, category = max(crossed)
        bounds = limits[category]
        regional = {
            "jurisdiction": jurisdiction,
            "category": category,
            "score": round(score, 4),
            "limits": {"allow": bounds["allow"], "block": bounds["block"]},
            "unsafe": round(unsafe, 4),
            "rule": "a stricter regional threshold that only the classifier crosses: "
            "held for review, no strike",
        }
        return replace(
            verdict,
            decision="review",
            category=category,
            layer="classifier",
            span=None,
            matched_text=None,
            severity=self.ruleset.severity.get(category, 1),
            scores={**verdict.scores, "regional": regional},
        )

    @staticmethod
    def _near(
        starts: Sequence[int],
        windows: Sequence[tuple[int, int, Mapping[str, float]]] | None,
        reach: int,
    ) -> Near:
        """For a hit, the scores of the most unsafe window within ``reach`` characters
        of either end of it (module rules), as the whole prompt's scores are those of its
        most unsafe window: a combination's hit spans the text between its parts, and
        the windows near each part speak for it, not those in between."""
        if windows is None or len(windows) <= 1:
            return lambda match: None

        def near(match: RuleMatch) -> Mapping[str, float] | None:
            # The hit's place in the normalised text: the first characters that came
            # from its original span (``starts`` rises with the text).
            start = bisect.bisect_left(starts, match.start)
            end = max(bisect.bisect_left(starts, match.end), start + 1)
            found = [
                s
                for a, b, s in windows
                if (a < min(end, start + 1) + reach and b > start - reach)
                or (a < end + reach and b > max(start, end - 1) - reach)
            ]
            return max(found, key=lambda s: sum(s.values())) if found else None

        return near

    def _rule_candidates(
        self, matches: list[RuleMatch], scores: Mapping[str, float], near: Near
    ) -> list[_Candidate]:
        candidates = []
        total = sum(scores.values())
        for match in matches:
            action = match.action
            if action == "corroborate":
                if self.classifier_deferred:
                    continue  # the deep check decides it, with the classifier
                if self.classifier is not None:
                    around = near(match)
                    unsafe = total if around is None else sum(around.values())
                    wanted = self._review_threshold() if match.softened_by else self.corroborate_at
                    if unsafe < wanted:
                        continue
                action = "review"
            if match.category is None or action not in DECISION_RANK:
                continue
            # Zero tolerance blocks, unless the rule itself only holds (plain underwear
            # with a minor: senior review, see module rules).
            decision = (
                "block" if match.category in ZERO_TOLERANCE and action != "review" else action
            )
            candidates.append(
                _Candidate(
                    decision,
                    match.category,
                    "rules",
                    (match.start, match.end),
                    match.text,
                    match.severity,
                )
            )
        return candidates

    def _review_threshold(self) -> float:
        if UNSAFE in self.thresholds:
            return self.thresholds[UNSAFE]["allow"]
        return min(limits["allow"] for limits in self.thresholds.values())

    def _classifier_candidates(
        self,
        scores: Mapping[str, float],
        matches: list[RuleMatch],
        text: str = "",
        odds: float = 1.0,
        near: Near | None = None,
    ) -> list[_Candidate]:
        candidates = []
        severity = self.ruleset.severity
        may_block = classifier_may_block(text)
        if UNSAFE in self.thresholds and scores:
            likeliest = max(scores, key=lambda c: scores[c])
            checks = [(likeliest, sum(scores.values()), self.thresholds[UNSAFE])]
        else:
            checks = [(c, s, self.thresholds[c]) for c, s in scores.items() if c in self.thresholds]
        for category, score, limits in checks:
            if score < limits["allow"]:
                continue
            # Few words block only when the rules found a word of the same category.
            supported = may_block or any(m.category == category for m in matches)
            decision = "block" if score >= limits["block"] and supported else "review"
            if category in ZERO_TOLERANCE:
                decision = "block"
            candidates.append(
                _Candidate(decision, category, "classifier", None, None, severity.get(category, 1))
            )
        # minor_sexual was set on English scores: compare the scores before the factor
        # that raises the unsafe odds of a prompt in another language, as regional
        # limits do ("un niño en bañador en la playa" reached it only with the factor).
        # Each minor indicator reads the windows near it (module rules); the first one
        # with the highest sexual score there is named.
        minor, sexual = None, 0.0
        for match in matches:
            if match.category != "minors":
                continue
            around = near(match) if near is not None else None
            here = _without_odds(scores if around is None else around, odds).get("sexual", 0.0)
            if minor is None or here > sexual:
                minor, sexual = match, here
        if minor is not None and sexual >= self.minor_sexual:
            block_at = self.minor_sexual_block
            decision = "block" if block_at is not None and sexual >= block_at else "review"
            if decision == "review":
                # Held as sexual_minors, not blocked as adult sexual (module rules).
                candidates = [c for c in candidates if c.category != "sexual"]
            candidates.append(
                _Candidate(
                    decision,
                    "sexual_minors",
                    "classifier",
                    (minor.start, minor.end),
                    minor.text,
                    severity.get("sexual_minors", 5),
                )
            )
        return candidates


def _strictest(candidates: list[_Candidate]) -> _Candidate | None:
    if not candidates:
        return None
    return max(
        candidates,
        key=lambda c: (DECISION_RANK[c.decision], c.severity, c.layer == "rules"),
    )


def _near_record(
    matches: list[RuleMatch], near: Near, near_minor: Near, odds: float
) -> list[dict[str, Any]]:
    """What the most unsafe window near each hit that depends on them said (the
    verdict's ``scores["near"]``): its unsafe and sexual scores."""
    record = []
    for match in matches:
        if match.action != "corroborate" and match.category != "minors":
            continue
        around = (near_minor if match.category == "minors" else near)(match)
        if around is None:
            continue
        record.append(
            {
                "group": match.group,
                "span": [match.start, match.end],
                "unsafe": round(sum(around.values()), 4),
                "sexual": round(_without_odds(around, odds).get("sexual", 0.0), 4),
            }
        )
    return record


def _without_odds(scores: Mapping[str, float], odds: float) -> dict[str, float]:
    """Category scores with a factor ``odds`` on the unsafe odds taken back out."""
    if odds == 1.0 or not scores:
        return dict(scores)
    unsafe = min(sum(scores.values()), 1.0)
    denominator = odds * (1.0 - unsafe) + unsafe
    return {category: score / denominator for category, score in scores.items()}


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)
