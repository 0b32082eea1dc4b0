"""Moderation policy as data: versions, validation, publishing, compiled moderators.

Rules:
- A policy is a JSON document (``default_policy_document`` shows every key). A
  published ``PolicyVersion`` never changes; editing publishes version n+1, audited.
- Only senior moderators (and superusers) publish, and only a valid document.
- ``policy_current()`` is the newest version. If no version exists (a database
  flushed by a test, or created without migrations) version 1 is built from the
  engine's built-in rules, as the data migration does.
- When the shipped rules or the text head change, ``policy_refresh_builtin()``
  (``manage.py moderation_policy_refresh``, run by ``make run`` and on deploy)
  publishes them over a policy nobody has edited; an edited policy is left alone.
- Compiled rules and moderators are cached per process per version: a new version
  is picked up without a restart, at once in the process that published it and
  within ``IMAGEGATE_REFERENCE_CACHE_SECONDS`` in the others (which newest version
  there is, is read at most that often; 0 reads it on every call).
- Per-jurisdiction overrides only make thresholds stricter (the lower of the two
  bounds wins): a jurisdiction can never loosen the policy. Where only the classifier
  crosses them they hold for review, never block (``TextModerator.regional``;
  ``regional_min_unsafe``).
- ``minor_sexual``: the classifier's sexual score that, with a minor indicator, is
  ``sexual_minors`` (zero tolerance; far below the ordinary thresholds), held for
  senior review; ``minor_sexual_block`` (null by default): the score at which it
  blocks and locks the account instead.
- Adult sexual content is allowed only where the policy lists both the user's plan
  and jurisdiction; then ``sexual`` terms and scores become indicators (they still
  combine with a minor indicator into ``sexual_minors``).
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from accountability.audit import audit_record
from accounts.roles import user_is_senior_moderator
from core.errors import ApplicationError, ErrorCode
from moderation.engine.normalize import MAX_PROMPT_CHARS
from moderation.engine.pipeline import (
    DEFAULT_MINOR_SEXUAL,
    DEFAULT_MINOR_SEXUAL_BLOCK,
    DEFAULT_THRESHOLDS,
    UNSAFE,
    Scorer,
    TextModerator,
)
from moderation.engine.rules import CATEGORIES, RuleSet, load_ruleset_dict
from moderation.engine.text_classifier import TextClassifier, TextHead
from moderation.models import PolicyVersion
from moderation.policy_document import (  # noqa: F401  (policy_document_errors: a contract)
    MAX_STRIKE_WEIGHT,
    STRIKE_LIMITS,
    THRESHOLD_CATEGORIES,
    PolicyDocument,
    policy_document_errors,
)

logger = logging.getLogger(__name__)

BUILTIN_REASON = "Built-in default policy"
DEFAULT_STRIKES: dict[str, Any] = {
    "window_days": 180,
    "cooldown_at": 3,
    "cooldown_hours": 24,
    "suspend_at": 6,
}
DEFAULT_IMAGES: dict[str, Any] = {
    # open_nsfw probability.
    "nsfw": {"allow": 0.5, "block": 0.85},
    # Highest NudeNet score among the exposed classes below.
    "exposed": {"allow": 0.45, "block": 0.7},
    "exposed_classes": [
        "FEMALE_BREAST_EXPOSED",
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "BUTTOCKS_EXPOSED",
        "ANUS_EXPOSED",
    ],
    # With a minor indicator in the prompt: an image in the band is held for senior
    # review as sexual_minors; at or above ``block`` it is blocked (account locked).
    # Benign synthetic images (flat colours, noise, shapes) score up to ~0.35 on open_nsfw.
    "minor_escalation": {
        "nsfw": {"allow": 0.4, "block": 0.8},
        "exposed": {"allow": 0.35, "block": 0.6},
    },
}
DEFAULT_EXTERNAL_THRESHOLD = {"allow": 0.5, "block": 0.9}


# --- the document -----------------------------------------------------------------


def _head_thresholds() -> dict[str, dict[str, float]]:
    """Thresholds tuned with the shipped classifier head, if the head file exists."""
    try:
        head = TextHead.load()
    except (OSError, ValueError, KeyError):
        return {}
    return {
        k: {"allow": float(v["allow"]), "block": float(v["block"])}
        for k, v in head.thresholds.items()
    }


def default_policy_document() -> dict[str, Any]:
    """Version 1: the engine's built-in rules, tuned (or default) thresholds, no adult content."""
    rules = load_ruleset_dict()
    rules.pop("description", None)
    rules.pop("version", None)
    # What the engine itself uses: the head's tuned thresholds, else its defaults.
    thresholds = _head_thresholds() or {k: dict(v) for k, v in DEFAULT_THRESHOLDS.items()}
    severity: dict[str, int] = {c: 1 for c in CATEGORIES} | dict(rules.get("severity", {}))
    return {
        "schema": 1,
        "categories": thresholds,
        "minor_sexual": DEFAULT_MINOR_SEXUAL,
        # null: a classifier score alone holds for senior review, never locks.
        "minor_sexual_block": DEFAULT_MINOR_SEXUAL_BLOCK,
        # Regional thresholds hold only when the unsafe sum reaches this (null: the
        # head's corroborate_at).
        "regional_min_unsafe": None,
        "rules": rules,
        "strikes": DEFAULT_STRIKES | {"weights": severity},
        "adult_content": {"plans": [], "jurisdictions": []},
        "images": copy.deepcopy(DEFAULT_IMAGES),
        "external": {
            c: dict(DEFAULT_EXTERNAL_THRESHOLD)
            for c in THRESHOLD_CATEGORIES
            if c != "sexual_minors"
        }
        | {"sexual_minors": {"allow": 0.2, "block": 0.5}},
        "max_prompt_chars": MAX_PROMPT_CHARS,
    }


def jurisdiction_limits(
    base: Mapping[str, Mapping[str, float]],
    overrides: Mapping[str, Mapping[str, float]] | None,
) -> dict[str, dict[str, float]]:
    """A jurisdiction's per-category limits over ``base`` thresholds, none looser."""
    fallback = base.get(UNSAFE, {"allow": 1.0, "block": 1.0})
    limits: dict[str, dict[str, float]] = {}
    for category, override in (overrides or {}).items():
        if category not in THRESHOLD_CATEGORIES or not isinstance(override, Mapping):
            continue
        own = base.get(category, fallback)
        allow = min(float(override.get("allow", own["allow"])), own["allow"])
        block = min(float(override.get("block", own["block"])), own["block"])
        limits[category] = {"allow": min(allow, block), "block": block}
    return limits


# --- versions ---------------------------------------------------------------------


def policy_publish(*, actor: Any, document: Mapping[str, Any], reason: str) -> PolicyVersion:
    """Publish a new policy version (senior moderators only; the document must be valid).

    Versions are numbered consecutively; two publishers racing get n+1 and n+2,
    never the same number (a unique constraint, retried).
    """
    if not user_is_senior_moderator(actor):
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, "Only senior moderators edit policy.")
    if not reason.strip():
        raise ApplicationError(
            ErrorCode.INVALID_REQUEST, details={"reason": ["A reason is required."]}
        )
    errors = policy_document_errors(document)
    if errors:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details={"document": errors})
    return _publish(actor=actor, document=document, reason=reason.strip())


def builtin_update(reason: str, document: Mapping[str, Any]) -> dict[str, Any] | None:
    """Today's built-in document, when the newest version (its ``reason`` and
    ``document``) is an untouched built-in default that differs from it; else None."""
    if not reason.startswith(BUILTIN_REASON):
        return None
    shipped = default_policy_document()
    return None if document == shipped else shipped


def policy_refresh_builtin() -> PolicyVersion | None:
    """Publish the shipped rules and head thresholds over an untouched built-in policy.

    When the newest version is a built-in default (its reason starts with
    ``BUILTIN_REASON``) and differs from today's ``default_policy_document()`` (new
    rules or a retrained head), the default is published as the next version, audited
    with no actor. A policy that moderators have edited is never replaced: None is
    returned, as it is when nothing changed.
    """
    newest = PolicyVersion.objects.order_by("-number").first()
    if newest is None:
        return policy_current()
    document = builtin_update(newest.reason, newest.document)
    if document is None:
        return None
    rules = load_ruleset_dict().get("version", "?")
    return _publish(
        actor=None,
        document=document,
        reason=f"{BUILTIN_REASON} (shipped rules {rules} and text-head thresholds).",
    )


def _publish(*, actor: Any, document: Mapping[str, Any], reason: str) -> PolicyVersion:
    clean = copy.deepcopy(dict(document))
    for _attempt in range(5):
        try:
            with transaction.atomic():
                previous = PolicyVersion.objects.order_by("-number").only("number").first()
                number = previous.number + 1 if previous else 1
                version = PolicyVersion.objects.create(
                    number=number, created_by=actor, reason=reason, document=clean
                )
                audit_record(
                    actor=actor,
                    action="moderation.policy_publish",
                    target=version,
                    before={"number": previous.number if previous else None},
                    after={"number": number, "changed": _changed_sections(previous, clean)},
                    reason=reason,
                )
            policy_newest_forget()
            return version
        except IntegrityError:
            continue
    raise ApplicationError(ErrorCode.CONFLICT, "Another policy version is being published.")


def _changed_sections(previous: PolicyVersion | None, document: Mapping[str, Any]) -> list[str]:
    if previous is None:
        return sorted(document)
    old = PolicyVersion.objects.get(pk=previous.pk).document
    keys = set(old) | set(document)
    return sorted(k for k in keys if old.get(k) != document.get(k))


def _policy_create_default() -> PolicyVersion:
    try:
        with transaction.atomic():
            version = PolicyVersion.objects.create(
                number=1,
                created_by=None,
                reason=f"{BUILTIN_REASON} (engine rules and thresholds).",
                document=default_policy_document(),
            )
            audit_record(
                actor=None,
                action="moderation.policy_publish",
                target=version,
                after={"number": 1, "changed": ["default"]},
                reason=version.reason,
            )
        return version
    except IntegrityError:
        return PolicyVersion.objects.order_by("-number").first() or PolicyVersion.objects.get(
            number=1
        )


# --- compiled policy, per process --------------------------------------------------


@dataclass(frozen=True)
class CompiledPolicy:
    """A published version, its document parsed (``policy``) and its rules compiled."""

    version: PolicyVersion
    document: Mapping[str, Any]  # the stored JSON, as the editor and the API show it
    policy: PolicyDocument
    ruleset: RuleSet
    adult_ruleset: RuleSet

    @property
    def number(self) -> int:
        return self.version.number

    @property
    def max_prompt_chars(self) -> int:
        return self.policy.max_prompt_chars

    def thresholds(self) -> dict[str, dict[str, float]]:
        """The policy's classifier thresholds (``unsafe``: on the summed probability)."""
        return self.policy.thresholds()

    def jurisdiction_limits(
        self, overrides: Mapping[str, Mapping[str, float]] | None
    ) -> dict[str, dict[str, float]]:
        """A jurisdiction's per-category limits, each no looser than the policy's."""
        return jurisdiction_limits(self.thresholds(), overrides)

    def strike_weight(self, category: str, fallback: int) -> int:
        return self.policy.strikes.weight(category, fallback)

    def adult_content_allowed(self, *, plan_code: str | None, jurisdiction_code: str) -> bool:
        return self.policy.adult_content.allows(
            plan_code=plan_code, jurisdiction_code=jurisdiction_code
        )


_lock = threading.Lock()
_compiled: dict[tuple[int, int, str], CompiledPolicy] = {}
_newest: dict[str, tuple[float, tuple[Any, int, Any]]] = {}
_moderators: dict[tuple[Any, ...], TextModerator] = {}
_classifier: dict[str, Any] = {}
_MAX_CACHED_MODERATORS = 64


def adult_content_rules(rules: Mapping[str, Any]) -> dict[str, Any]:
    """Adult content allowed: sexual terms only indicate (for ``minors + sexual`` and
    ``sexual + real_person``); the tests build the same rule set through this."""
    adult = copy.deepcopy(dict(rules))
    for group in adult["groups"].values():
        if group.get("category") == "sexual":
            group["action"] = "indicator"
    return adult


def _compile(version: PolicyVersion) -> CompiledPolicy:
    document = version.document
    name = f"policy-{version.number}"
    return CompiledPolicy(
        version=version,
        document=document,
        policy=PolicyDocument.parse(document),
        ruleset=RuleSet.from_dict({**document["rules"], "version": name}),
        adult_ruleset=RuleSet.from_dict(
            {**adult_content_rules(document["rules"]), "version": name}
        ),
    )


def _newest_row() -> tuple[Any, int, Any] | None:
    """The newest version's (pk, number, created_at), kept for
    ``IMAGEGATE_REFERENCE_CACHE_SECONDS`` (see module rules)."""
    ttl = float(getattr(settings, "IMAGEGATE_REFERENCE_CACHE_SECONDS", 0))
    now = time.monotonic()
    cached = _newest.get("row")
    if ttl > 0 and cached is not None and now - cached[0] < ttl:
        return cached[1]
    row = (
        PolicyVersion.objects.order_by("-number").values_list("pk", "number", "created_at").first()
    )
    if ttl > 0 and row is not None:
        _newest["row"] = (now, row)
    return row


def policy_newest_forget() -> None:
    """Read the newest version again on the next call (after a publish, in this process)."""
    _newest.clear()


def policy_compiled() -> CompiledPolicy:
    """The current policy, compiled once per process per version."""
    row = _newest_row()
    if row is None:
        version = _policy_create_default()
        policy_newest_forget()
        row = (version.pk, version.number, version.created_at)
    key = (row[0], row[1], row[2].isoformat())
    compiled = _compiled.get(key)
    if compiled is None:
        compiled = _compile(PolicyVersion.objects.get(pk=row[0]))
        with _lock:
            if len(_compiled) > 8:
                _compiled.clear()
                _moderators.clear()
            _compiled[key] = compiled
    return compiled


def policy_compiled_version(version: PolicyVersion) -> CompiledPolicy:
    """A given (published, so immutable) version compiled, from the same per-process cache:
    the deep check decides under the version the request was decided with."""
    key = (version.pk, version.number, version.created_at.isoformat())
    compiled = _compiled.get(key)
    if compiled is None:
        compiled = _compile(version)
        with _lock:
            if len(_compiled) > 8:
                _compiled.clear()
                _moderators.clear()
            _compiled[key] = compiled
    return compiled


def policy_current() -> PolicyVersion:
    """The newest published policy version (version 1 is created if none exists)."""
    return policy_compiled().version


# --- the text classifier, per process ----------------------------------------------


def text_classifier() -> Scorer | None:
    """The MiniLM classifier, loaded once per process; None when its files are missing.

    With ``MODERATION_TEXT_CLASSIFIER_REQUIRED`` a missing model is a 503 rather
    than a rules-only decision.
    """
    from django.conf import settings

    if "scorer" not in _classifier:
        with _lock:
            if "scorer" not in _classifier:
                scorer: Scorer | None
                try:
                    scorer = TextClassifier.load(
                        path=settings.IMAGEGATE_MODEL_DIR,
                        multilingual=getattr(settings, "MODERATION_MULTILINGUAL_HEAD", True),
                    )
                except (OSError, ValueError, KeyError) as exc:
                    logger.error("text classifier unavailable, rules only: %s", exc)
                    scorer = None
                _classifier["scorer"] = scorer
    scorer = _classifier["scorer"]
    if scorer is None and getattr(settings, "MODERATION_TEXT_CLASSIFIER_REQUIRED", False):
        raise ApplicationError(
            ErrorCode.SERVICE_UNAVAILABLE, "The prompt classifier is not available."
        )
    return scorer


def text_classifier_loaded() -> bool:
    """Whether this process has built (or been given) the text classifier: never in a
    web process while ``MODERATION_CLASSIFIER_STAGE`` is ``queue``."""
    return "scorer" in _classifier


def set_text_classifier(scorer: Scorer | None) -> None:
    """Replace the process's classifier (tests, warm-up); clears compiled moderators."""
    with _lock:
        _classifier["scorer"] = scorer
        _moderators.clear()


def reset_text_classifier() -> None:
    with _lock:
        _classifier.clear()
        _moderators.clear()


def text_moderator(
    compiled: CompiledPolicy, *, adult_content_allowed: bool = False, classifiers: bool = True
) -> TextModerator:
    """A TextModerator for this version and adult-content setting (cached per process).

    Jurisdiction overrides are applied by the caller on top of the verdict
    (``CompiledPolicy.jurisdiction_limits``): they can only make it stricter. Without
    ``classifiers`` it is the rules-only request stage: the classifier is never loaded
    (``TextModerator(classifier_deferred=True)``).
    """
    scorer = text_classifier() if classifiers else None
    key = (compiled.version.pk, compiled.number, adult_content_allowed, classifiers, id(scorer))
    moderator = _moderators.get(key)
    if moderator is not None:
        return moderator
    thresholds = compiled.thresholds()
    if adult_content_allowed:
        # Adult scores never decide (minor_sexual, fixed above, still escalates). An
        # ``unsafe`` sum would count them, so it becomes per-category limits here.
        unsafe = thresholds.pop(UNSAFE, None)
        if unsafe is not None:
            for category in THRESHOLD_CATEGORIES:
                thresholds.setdefault(category, dict(unsafe))
        thresholds["sexual"] = {"allow": 1.01, "block": 1.01}
    moderator = TextModerator(
        compiled.adult_ruleset if adult_content_allowed else compiled.ruleset,
        scorer,
        thresholds,
        minor_sexual=compiled.policy.minor_sexual,
        minor_sexual_block=compiled.policy.minor_sexual_block,
        max_chars=compiled.max_prompt_chars,
        regional_min_unsafe=compiled.policy.regional_min_unsafe,
        classifier_deferred=not classifiers,
    )
    with _lock:
        if len(_moderators) >= _MAX_CACHED_MODERATORS:
            _moderators.clear()
        _moderators[key] = moderator
    return moderator
