"""The policy document, typed: validated section by section, then parsed once.

A ``PolicyVersion`` stores the document as JSON (``default_policy_document`` in
``moderation.policy`` shows every key); that format is what the console's editor and
the API show and accept, and it does not change here. ``policy_document_errors`` lists
everything wrong with a document (one small check per section, in the document's
order); ``PolicyDocument.parse`` turns a valid one into frozen dataclasses, so code
that reads the policy uses attributes with types (``policy.strikes.window_days``)
rather than nested dictionaries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeGuard

from moderation.engine.normalize import MAX_PROMPT_CHARS
from moderation.engine.pipeline import DEFAULT_MINOR_SEXUAL, UNSAFE
from moderation.engine.rules import CATEGORIES, RuleSet

# Categories a score threshold applies to (``minors`` is an indicator, not a violation).
THRESHOLD_CATEGORIES: tuple[str, ...] = tuple(c for c in CATEGORIES if c != "minors")
REQUIRED_SECTIONS = ("categories", "rules", "strikes", "adult_content", "images")
STRIKE_COUNTS = ("window_days", "cooldown_at", "cooldown_hours", "suspend_at")
# Upper bounds for the strike numbers (security, issue 13): the window and the cool-down
# become timedeltas (a huge value overflows them on every blocked prompt), and the
# database stores counts in 64-bit columns. Text must not hold NUL, which PostgreSQL
# cannot store.
STRIKE_LIMITS = {"window_days": 3650, "cooldown_at": 10_000, "cooldown_hours": 87_600}
STRIKE_LIMITS["suspend_at"] = STRIKE_LIMITS["cooldown_at"]
MAX_STRIKE_WEIGHT = 1000


# --- the typed document ---------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """Scores below ``allow`` pass, at or above ``block`` are blocked, between: review."""

    allow: float
    block: float

    @classmethod
    def parse(cls, value: Mapping[str, Any]) -> Threshold:
        return cls(allow=float(value["allow"]), block=float(value["block"]))

    def as_dict(self) -> dict[str, float]:
        return {"allow": self.allow, "block": self.block}


@dataclass(frozen=True)
class StrikePolicy:
    window_days: int
    cooldown_at: int
    cooldown_hours: int
    suspend_at: int
    weights: Mapping[str, int]

    def weight(self, category: str, fallback: int) -> int:
        return int(self.weights.get(category, fallback))


@dataclass(frozen=True)
class AdultContent:
    plans: frozenset[str]
    jurisdictions: frozenset[str]

    def allows(self, *, plan_code: str | None, jurisdiction_code: str) -> bool:
        return bool(
            plan_code
            and jurisdiction_code
            and plan_code in self.plans
            and jurisdiction_code in self.jurisdictions
        )


@dataclass(frozen=True)
class ImagePolicy:
    nsfw: Threshold  # open_nsfw probability
    exposed: Threshold  # the highest NudeNet score among ``exposed_classes``
    exposed_classes: tuple[str, ...]
    # With a minor indicator in the prompt (held for senior review, or blocked).
    minor_escalation_nsfw: Threshold
    minor_escalation_exposed: Threshold

    @classmethod
    def parse(cls, images: Mapping[str, Any]) -> ImagePolicy:
        escalation = images["minor_escalation"]
        return cls(
            nsfw=Threshold.parse(images["nsfw"]),
            exposed=Threshold.parse(images["exposed"]),
            exposed_classes=tuple(images.get("exposed_classes", ())),
            minor_escalation_nsfw=Threshold.parse(escalation["nsfw"]),
            minor_escalation_exposed=Threshold.parse(escalation["exposed"]),
        )


def _thresholds(section: Mapping[str, Any]) -> Mapping[str, Threshold]:
    return MappingProxyType({key: Threshold.parse(value) for key, value in section.items()})


@dataclass(frozen=True)
class PolicyDocument:
    """A valid policy document (``policy_document_errors`` is empty), parsed."""

    categories: Mapping[str, Threshold]  # ``unsafe``: on the summed probability
    minor_sexual: float
    # With a minor indicator, the sexual score at which the classifier alone blocks
    # (and locks) instead of holding for senior review; None: it never does.
    minor_sexual_block: float | None
    regional_min_unsafe: float | None
    rules: Mapping[str, Any]  # the engine's rule set, as the engine reads it
    strikes: StrikePolicy
    adult_content: AdultContent
    images: ImagePolicy
    external: Mapping[str, Threshold]
    max_prompt_chars: int

    @classmethod
    def parse(cls, document: Mapping[str, Any]) -> PolicyDocument:
        strikes = document["strikes"]
        adult = document["adult_content"]
        minor_sexual = document.get("minor_sexual")
        minor_sexual_block = document.get("minor_sexual_block")
        regional = document.get("regional_min_unsafe")
        return cls(
            categories=_thresholds(document["categories"]),
            minor_sexual=float(DEFAULT_MINOR_SEXUAL if minor_sexual is None else minor_sexual),
            minor_sexual_block=None if minor_sexual_block is None else float(minor_sexual_block),
            regional_min_unsafe=None if regional is None else float(regional),
            rules=document["rules"],
            strikes=StrikePolicy(
                window_days=int(strikes["window_days"]),
                cooldown_at=int(strikes["cooldown_at"]),
                cooldown_hours=int(strikes["cooldown_hours"]),
                suspend_at=int(strikes["suspend_at"]),
                weights=MappingProxyType(
                    {k: int(v) for k, v in strikes.get("weights", {}).items()}
                ),
            ),
            adult_content=AdultContent(
                plans=frozenset(adult.get("plans", [])),
                jurisdictions=frozenset(adult.get("jurisdictions", [])),
            ),
            images=ImagePolicy.parse(document["images"]),
            external=_thresholds(document.get("external", {})),
            max_prompt_chars=int(document.get("max_prompt_chars", MAX_PROMPT_CHARS)),
        )

    def thresholds(self) -> dict[str, dict[str, float]]:
        """The classifier thresholds as the engine takes them (a fresh copy)."""
        return {key: value.as_dict() for key, value in self.categories.items()}


# --- validation, one check per section --------------------------------------------------

Errors = list[str]


def _is_fraction(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _is_count(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def threshold_errors(where: str, value: Any) -> Errors:
    """``{'allow': a, 'block': b}`` with 0 <= a <= b <= 1."""
    if not isinstance(value, Mapping):
        return [f"{where}: expected {{'allow': number, 'block': number}}"]
    for name in ("allow", "block"):
        if not _is_fraction(value.get(name)):
            return [f"{where}.{name}: expected a number from 0 to 1"]
    if value["allow"] > value["block"]:
        return [f"{where}: allow must not exceed block"]
    return []


def _threshold_map_errors(section: str, value: Any, known: Callable[[str], bool]) -> Errors:
    if not isinstance(value, Mapping):
        return [f"{section}: expected an object"]
    errors: Errors = []
    for category, limits in value.items():
        if not known(category):
            errors.append(f"{section}.{category}: unknown category")
        errors += threshold_errors(f"{section}.{category}", limits)
    return errors


def _categories_errors(document: Mapping[str, Any]) -> Errors:
    return _threshold_map_errors(
        "categories",
        document["categories"],
        lambda c: c in THRESHOLD_CATEGORIES or c == UNSAFE,
    )


def _minor_sexual_errors(document: Mapping[str, Any]) -> Errors:
    value = document.get("minor_sexual")
    # A bool is accepted here (as 0 or 1), as it always was.
    if value is None or (isinstance(value, int | float) and 0 <= value <= 1):
        return []
    return ["minor_sexual: expected null or a number from 0 to 1"]


def _minor_sexual_block_errors(document: Mapping[str, Any]) -> Errors:
    value = document.get("minor_sexual_block")
    if value is None:
        return []
    if not _is_fraction(value):
        return ["minor_sexual_block: expected null or a number from 0 to 1"]
    floor = document.get("minor_sexual")
    floor = DEFAULT_MINOR_SEXUAL if not _is_fraction(floor) else floor
    if value < floor:
        return [f"minor_sexual_block: expected at least minor_sexual ({floor})"]
    return []


def _regional_min_unsafe_errors(document: Mapping[str, Any]) -> Errors:
    value = document.get("regional_min_unsafe")
    if value is None or _is_fraction(value):
        return []
    return ["regional_min_unsafe: expected null or a number from 0 to 1"]


def _rules_errors(document: Mapping[str, Any]) -> Errors:
    try:
        RuleSet.from_dict({"version": "check", **document["rules"]})
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return [f"rules: {exc}"]
    return []


def _weights_are_valid(weights: Any) -> bool:
    return isinstance(weights, Mapping) and all(
        c in CATEGORIES and isinstance(w, int) and not isinstance(w, bool) and w >= 0
        for c, w in weights.items()
    )


def _strikes_errors(document: Mapping[str, Any]) -> Errors:
    strikes = document["strikes"]
    if not isinstance(strikes, Mapping):
        return ["strikes: expected an object"]
    errors = [
        f"strikes.{key}: expected a positive whole number"
        for key in STRIKE_COUNTS
        if not _is_count(strikes.get(key))
    ]
    cooldown_at, suspend_at = strikes.get("cooldown_at"), strikes.get("suspend_at")
    if _is_count(cooldown_at) and _is_count(suspend_at) and cooldown_at > suspend_at:
        errors.append("strikes: cooldown_at must not exceed suspend_at")
    if not _weights_are_valid(strikes.get("weights", {})):
        errors.append("strikes.weights: expected {category: whole number >= 0}")
    return errors


def _adult_content_errors(document: Mapping[str, Any]) -> Errors:
    adult = document["adult_content"]
    if isinstance(adult, Mapping) and all(
        isinstance(adult.get(key, []), list)
        and all(isinstance(item, str) for item in adult.get(key, []))
        for key in ("plans", "jurisdictions")
    ):
        return []
    return ["adult_content: expected {'plans': [code], 'jurisdictions': [code]}"]


def _is_looser(first: Any, second: Any) -> bool:
    """Whether thresholds ``first`` are looser than ``second`` (False if either is malformed)."""
    try:
        return not (first["allow"] <= second["allow"] and first["block"] <= second["block"])
    except (TypeError, KeyError):
        return False


def _minor_escalation_errors(images: Mapping[str, Any]) -> Errors:
    escalation = images.get("minor_escalation")
    if not isinstance(escalation, Mapping):
        return ["images.minor_escalation: expected {'nsfw': {...}, 'exposed': {...}}"]
    errors: Errors = []
    for key in ("nsfw", "exposed"):
        errors += threshold_errors(f"images.minor_escalation.{key}", escalation.get(key))
        if _is_looser(escalation.get(key), images.get(key)):
            errors.append(f"images.minor_escalation.{key}: must not be looser than images.{key}")
    return errors


def _images_errors(document: Mapping[str, Any]) -> Errors:
    images = document["images"]
    if not isinstance(images, Mapping):
        return ["images: expected an object"]
    errors = threshold_errors("images.nsfw", images.get("nsfw"))
    errors += threshold_errors("images.exposed", images.get("exposed"))
    classes = images.get("exposed_classes")
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        errors.append("images.exposed_classes: expected a list of NudeNet class names")
    return errors + _minor_escalation_errors(images)


def _external_errors(document: Mapping[str, Any]) -> Errors:
    return _threshold_map_errors(
        "external", document.get("external", {}), lambda c: c in THRESHOLD_CATEGORIES
    )


def _max_prompt_chars_errors(document: Mapping[str, Any]) -> Errors:
    value = document.get("max_prompt_chars", MAX_PROMPT_CHARS)
    if _is_count(value) and value <= MAX_PROMPT_CHARS:
        return []
    return [f"max_prompt_chars: expected a whole number from 1 to {MAX_PROMPT_CHARS}"]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _storable_errors(document: Mapping[str, Any]) -> Errors:
    """Numbers the database and timedeltas can hold; no NUL in any text."""
    errors: Errors = []
    strikes = document.get("strikes")
    if isinstance(strikes, Mapping):
        for key, limit in STRIKE_LIMITS.items():
            if _is_count(strikes.get(key)) and strikes[key] > limit:
                errors.append(f"strikes.{key}: at most {limit}")
        weights = strikes.get("weights")
        if isinstance(weights, Mapping) and any(
            isinstance(w, int) and w > MAX_STRIKE_WEIGHT for w in weights.values()
        ):
            errors.append(f"strikes.weights: at most {MAX_STRIKE_WEIGHT} each")
    if any("\x00" in text for text in _strings(document)):
        errors.append("the policy must not contain NUL characters")
    return errors


# In the order the messages are given (the console and the API show them in this order).
SECTION_CHECKS: tuple[Callable[[Mapping[str, Any]], Errors], ...] = (
    _categories_errors,
    _minor_sexual_errors,
    _minor_sexual_block_errors,
    _regional_min_unsafe_errors,
    _rules_errors,
    _strikes_errors,
    _adult_content_errors,
    _images_errors,
    _external_errors,
    _max_prompt_chars_errors,
    _storable_errors,
)


def policy_document_errors(document: Any) -> list[str]:
    """Everything wrong with a policy document, as messages; empty when it is valid."""
    if not isinstance(document, Mapping):
        return ["the policy must be a JSON object"]
    missing = [f"{key}: missing" for key in REQUIRED_SECTIONS if key not in document]
    if missing:
        return missing
    return [message for check in SECTION_CHECKS for message in check(document)]
