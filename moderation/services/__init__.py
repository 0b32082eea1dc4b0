"""Moderation services: prompt and output decisions, the external check, strikes.

Rules:
- ``prompt_moderate`` runs in the request, in two steps: ``prompt_decide`` (outside any
  transaction) and ``prompt_record``. Normalisation and the rules over the whole prompt
  (the policy's current version), plus the external API inline only when it is
  configured and not deferred to the ``moderation`` queue. The text classifiers (MiniLM
  over every window, the multilingual head, the ``minor_sexual`` rule) run where
  ``MODERATION_CLASSIFIER_STAGE`` says: ``queue`` (default) in the deep check below,
  ``request`` here (a classifier block is then a 422 at once). A prompt over the length
  limit is a 400 with nothing recorded; every other prompt is logged with its decision
  and every layer's scores (``scores["classifier_stage"]`` says where they ran).
- The deep check (``prompt_check_async``, task ``moderation.check_prompt_async`` on the
  ``moderation`` queue, before the GPU): for a prompt the request allowed or held, the
  whole text path again with the classifiers (under the request's policy version,
  jurisdiction limits and adult-content setting), then the external API when it is
  configured and the text path did not block. Each layer's decision is recorded once,
  following the request's decision; the strictest hands the job on (GPU, review or
  block, ``generation.services``). Re-running it is a no-op.
- A block adds a strike weighted by the policy, and a statement of reasons. Active
  strike weight within the policy's window reaching ``cooldown_at`` cools the
  account down; reaching ``suspend_at`` suspends it pending review.
- ``sexual_minors`` (prompt or output) locks the account at once (suspended), places
  a legal hold and opens a CSAM case with the evidence. One the classifier alone found
  is held for senior review instead (``TextModerator.minor_sexual_block``); a senior
  moderator who confirms it locks the account the same way (``csam_confirm``).
- Review items for held jobs are opened by the generation app, which holds the job.
- A stricter regional threshold that only the classifier crosses holds the prompt
  for review instead of blocking: no strike, and a statement of reasons saying which
  regional rule applied (``scores["regional"]``).
- Restrictive automated decisions are written to the audit log.
- No network call is made inside a transaction.

What a block does (strikes, statements, account states, the CSAM lock) lives in
``moderation.services.enforcement``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Model

from billing.entitlements import entitlements_for
from core.errors import ApplicationError, ErrorCode
from core.publish import task_send
from core.sql import Guard, rows_insert
from moderation import openai_adapter, upcalls
from moderation.engine.pipeline import DECISION_RANK, PromptTooLongError, TextVerdict
from moderation.images import OutputVerdict, classify_image, combine_output_scores
from moderation.models import Decision, Layer, ModerationDecision, PromptLog, Stage
from moderation.policy import (
    CompiledPolicy,
    policy_compiled,
    policy_compiled_version,
    text_moderator,
)
from moderation.services.enforcement import (
    apply_consequences,
    csam_confirm,
    strike_add,
    strike_recheck_cooldown,
    strike_revoke,
)

__all__ = [
    "NotWritten",
    "PromptVerdict",
    "SubjectKey",
    "classifier_stage",
    "csam_confirm",
    "output_moderate",
    "prompt_check_async",
    "prompt_check_async_enqueue",
    "prompt_decide",
    "prompt_moderate",
    "prompt_needs_async_check",
    "prompt_record",
    "strike_add",
    "strike_recheck_cooldown",
    "strike_revoke",
]

logger = logging.getLogger(__name__)

JOB_SUBJECT_TYPE = "generation.job"
STAGE_QUEUE, STAGE_REQUEST = "queue", "request"
# The deep check's task (moderation/tasks.py), sent by name.
CHECK_PROMPT_TASK = "moderation.check_prompt_async"
CHECK_PROMPT_QUEUE = "moderation"
# Subject names shared with the generation and accountability apps.
SUBJECT_TYPE_NAMES = {"generation.generationjob": JOB_SUBJECT_TYPE}


# --- helpers -------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectKey:
    """A decision's subject by its model and primary key, for a row not built yet: what
    ``_subject_ref`` reads of a model instance, without building one (on the submit
    path a job instance costs more CPU than the rest of its reference)."""

    model: type[Model]
    pk: Any


def _subject_ref(subject: object | None) -> tuple[str, str]:
    if isinstance(subject, SubjectKey):
        label = subject.model._meta.label_lower
        return SUBJECT_TYPE_NAMES.get(label, label), str(subject.pk)
    if isinstance(subject, Model):
        label = subject._meta.label_lower
        return SUBJECT_TYPE_NAMES.get(label, label), str(subject.pk)
    return "", ""


def _jurisdiction_code(jurisdiction: Any, user: Any) -> str:
    code = getattr(jurisdiction, "code", "") or getattr(jurisdiction, "country", "")
    return str(code or getattr(user, "country", "") or "")


def _jurisdiction_codes(jurisdiction: Any, user: Any) -> set[str]:
    """The region's code and its country's: a policy may list either."""
    codes = {_jurisdiction_code(jurisdiction, user)}
    codes.add(str(getattr(jurisdiction, "country", "") or getattr(user, "country", "") or ""))
    return {c for c in codes if c}


def _plan_code(user: Any) -> str | None:
    entitlements = entitlements_for(user=user)
    return entitlements.plan_code if entitlements.is_active else None


def _adult_content_allowed(compiled: CompiledPolicy, user: Any, jurisdiction: Any) -> bool:
    adult = compiled.document.get("adult_content", {})
    if not adult.get("plans") or not adult.get("jurisdictions"):
        return False  # off: no need to look the plan up
    if "adult_content" in (getattr(jurisdiction, "disabled_features", None) or []):
        return False
    plan_code = _plan_code(user)
    return any(
        compiled.adult_content_allowed(plan_code=plan_code, jurisdiction_code=code)
        for code in _jurisdiction_codes(jurisdiction, user)
    )


def _too_long(field: str, text: str, limit: int) -> dict[str, list[str]]:
    if len(text) <= limit:
        return {}
    return {field: [f"At most {limit} characters (this has {len(text)}); it is never truncated."]}


def _rank(decision: str) -> int:
    return DECISION_RANK[decision]


# --- prompts -------------------------------------------------------------------------


def classifier_stage() -> str:
    """Where the text classifiers run: ``queue`` (default) or ``request``."""
    stage = getattr(settings, "MODERATION_CLASSIFIER_STAGE", STAGE_QUEUE)
    if stage not in (STAGE_QUEUE, STAGE_REQUEST):
        raise ImproperlyConfigured(
            f"MODERATION_CLASSIFIER_STAGE must be 'queue' or 'request', not {stage!r}"
        )
    return str(stage)


@dataclass(frozen=True)
class _TextDecision:
    decision: str
    category: str
    layer: str
    span: tuple[int, int] | None
    matched: str
    severity: int
    normalized: str
    scores: dict[str, Any]


def _text_decide(
    compiled: CompiledPolicy,
    prompt: str,
    *,
    adult_allowed: bool,
    limits: Mapping[str, Any],
    jurisdiction_code: str,
    classifiers: bool,
) -> _TextDecision:
    """The text path's decision (rules, and the classifiers when ``classifiers``)."""
    moderator = text_moderator(
        compiled, adult_content_allowed=adult_allowed, classifiers=classifiers
    )
    try:
        verdict = moderator.check(prompt)
    except PromptTooLongError as exc:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details={"prompt": [str(exc)]}) from exc
    # A stricter regional threshold that only the classifier crosses holds for review
    # (never blocks, no strike) and says so; see ``TextModerator.regional``.
    verdict = moderator.regional(verdict, limits, jurisdiction=jurisdiction_code)
    scores = _text_scores(verdict, moderator.thresholds, adult_allowed, limits)
    scores["classifier_stage"] = STAGE_REQUEST if classifiers else STAGE_QUEUE
    severity = verdict.severity
    if "regional" in verdict.scores:
        severity = compiled.strike_weight(verdict.category or "", 1)
    return _TextDecision(
        decision=verdict.decision,
        category=verdict.category or "",
        layer=verdict.layer or "",
        span=verdict.span,
        matched=verdict.matched_text or "",
        severity=severity,
        normalized=verdict.scores["normalisation"]["text"],
        scores=scores,
    )


@dataclass(frozen=True)
class PromptVerdict:
    """A prompt's decision and every layer's scores (``text``: the text path's, or the
    external API's where it was stricter), not yet recorded (``prompt_decide``;
    ``prompt_record`` writes it)."""

    compiled: CompiledPolicy
    prompt: str
    negative_prompt: str
    jurisdiction_code: str
    text: _TextDecision

    @property
    def decision(self) -> str:
        return self.text.decision


class NotWritten(Exception):
    """``prompt_record``'s guard found no row: nothing was written (module rules)."""


def prompt_moderate(
    *,
    user: Any,
    prompt: str,
    negative_prompt: str,
    jurisdiction: Any,
    ip_hash: str = "",
    subject: object | None = None,
    subject_unless_blocked: object | None = None,
    classifiers: bool | None = None,
) -> ModerationDecision:
    """Decide on a prompt (allow / review / block) and record it (see module rules):
    ``prompt_decide``, then ``prompt_record`` in the caller's transaction, if any."""
    verdict = prompt_decide(
        user=user,
        prompt=prompt,
        negative_prompt=negative_prompt,
        jurisdiction=jurisdiction,
        classifiers=classifiers,
    )
    return prompt_record(
        verdict,
        user=user,
        ip_hash=ip_hash,
        subject=subject,
        subject_unless_blocked=subject_unless_blocked,
    )


def prompt_decide(
    *,
    user: Any,
    prompt: str,
    negative_prompt: str,
    jurisdiction: Any,
    classifiers: bool | None = None,
) -> PromptVerdict:
    """A prompt's decision, written nowhere yet: call it outside a transaction (the
    external API, when configured inline, is a network call).

    ``classifiers`` runs the text classifiers here (default: ``classifier_stage()``
    is ``request``); without them the deep check runs them on the moderation queue.
    The negative prompt is length-checked, but not judged as a request: "nude, gore"
    in a negative prompt asks for their absence. A prompt over the length limit is a
    400 ``invalid_request``.
    """
    compiled = policy_compiled()
    errors = _too_long("prompt", prompt, compiled.max_prompt_chars)
    errors |= _too_long("negative_prompt", negative_prompt, compiled.max_prompt_chars)
    if errors:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details=errors)
    if classifiers is None:
        classifiers = classifier_stage() == STAGE_REQUEST
    overrides = getattr(jurisdiction, "moderation_overrides", None) or {}
    adult_allowed = _adult_content_allowed(compiled, user, jurisdiction)
    code = _jurisdiction_code(jurisdiction, user)
    text = _text_decide(
        compiled,
        prompt,
        adult_allowed=adult_allowed,
        limits=compiled.jurisdiction_limits(overrides),
        jurisdiction_code=code,
        classifiers=classifiers,
    )
    if text.decision != Decision.BLOCK and _external_inline():
        external = openai_adapter.openai_moderate(
            prompt, thresholds=_external_thresholds(compiled.document, adult_allowed)
        )
        text.scores["external"] = external.as_dict()
        if _rank(external.decision) > _rank(text.decision):
            text = dataclasses.replace(
                text,
                decision=external.decision,
                category=external.category,
                layer=Layer.EXTERNAL,
                span=None,
                matched="",
                severity=compiled.strike_weight(external.category, 1) if external.category else 0,
            )
    return PromptVerdict(
        compiled=compiled,
        prompt=prompt,
        negative_prompt=negative_prompt,
        jurisdiction_code=code,
        text=text,
    )


def prompt_record(
    verdict: PromptVerdict,
    *,
    user: Any,
    ip_hash: str = "",
    subject: object | None = None,
    subject_unless_blocked: object | None = None,
    rows_if_allowed: Callable[[ModerationDecision], Sequence[Model]] | None = None,
    guard: Guard | None = None,
) -> ModerationDecision:
    """Record ``verdict``: the prompt log, the decision and its consequences (strike,
    statement, lock), in the caller's transaction when there is one, without a
    savepoint. ``subject_unless_blocked`` is the subject the decision names when it does
    not block (the job about to be created with it).

    ``rows_if_allowed`` builds more rows from an allowed decision (which has no
    consequences to apply): the subject it names and what goes with it. They are written
    in the records' own statement (docs/benchmarks.md). With ``guard`` as well
    (``core.sql.guards_supported``), that statement is the guard and all the rows, which
    needs no transaction: when the guard finds no row, nothing is written and
    ``NotWritten`` is raised. A decision other than allow writes neither.
    """
    compiled, text = verdict.compiled, verdict.text
    decision = text.decision
    log = PromptLog(
        user_id=user.pk,
        prompt=verdict.prompt,
        negative_prompt=verdict.negative_prompt,
        normalized_prompt=text.normalized,
        ip_hash=ip_hash,
        jurisdiction=verdict.jurisdiction_code[:16],
        decision=decision,
        category=text.category,
        policy_version=compiled.version,
    )
    if subject is None and decision != Decision.BLOCK:
        subject = subject_unless_blocked
    subject_type, subject_id = _subject_ref(subject)
    span = text.span
    record = ModerationDecision(
        user=user,
        stage=Stage.PROMPT,
        subject_type=subject_type,
        subject_id=subject_id,
        decision=decision,
        category=text.category,
        layer=text.layer,
        severity=text.severity,
        span_start=span[0] if span else None,
        span_end=span[1] if span else None,
        matched_text=text.matched,
        normalized_prompt=log.normalized_prompt,
        scores=text.scores,
        policy_version=compiled.version,
        prompt_log=log,
    )
    rows: list[Model] = [log, record]  # one statement: the log, the decision naming it
    if rows_if_allowed is not None and decision == Decision.ALLOW:
        rows += rows_if_allowed(record)  # ... and the subject it names
        if guard is not None:  # one statement: all or nothing, no transaction needed
            if not rows_insert(*rows, guard=guard):
                raise NotWritten
            return record
    with transaction.atomic(savepoint=False):
        rows_insert(*rows)
        apply_consequences(record, compiled, evidence={"ip_hash": ip_hash})
    return record


def _text_scores(
    verdict: TextVerdict,
    thresholds: Mapping[str, Any],
    adult_allowed: bool,
    jurisdiction_limits: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        **verdict.scores,
        "thresholds": {k: dict(v) for k, v in thresholds.items()},
        "jurisdiction_limits": {k: dict(v) for k, v in jurisdiction_limits.items()},
        "adult_content_allowed": adult_allowed,
        "timings_ms": dict(verdict.timings_ms),
        "engine_policy": verdict.policy_version,
    }


def _external_thresholds(document: Mapping[str, Any], adult_allowed: bool) -> dict[str, Any]:
    thresholds = dict(document.get("external", {}))
    if adult_allowed:
        thresholds.pop("sexual", None)
    return thresholds


def _external_inline() -> bool:
    return openai_adapter.is_enabled() and not getattr(settings, "MODERATION_OPENAI_ASYNC", True)


def _external_async() -> bool:
    return openai_adapter.is_enabled() and getattr(settings, "MODERATION_OPENAI_ASYNC", True)


# --- the deep check on the moderation queue ------------------------------------------


def _classifiers_deferred(decision: ModerationDecision | None) -> bool:
    if decision is None:
        return classifier_stage() == STAGE_QUEUE
    return bool(decision.scores.get("classifier_stage") == STAGE_QUEUE)


def prompt_needs_async_check(*, decision: ModerationDecision | None = None) -> bool:
    """True when the prompt must pass the deep check (``moderation.check_prompt_async``
    on the ``moderation`` queue) before its job may reach the GPU: its classifiers were
    deferred there (an allowed or held prompt), or the external API runs there (an
    allowed prompt). ``decision`` None asks about the configuration."""
    if decision is not None and decision.decision == Decision.BLOCK:
        return False
    if _classifiers_deferred(decision):
        return True
    return _external_async() and (decision is None or decision.decision == Decision.ALLOW)


def prompt_check_async_enqueue(*, job_id: Any, decision: ModerationDecision) -> None:
    """Send the job to the deep check once the caller's transaction commits."""
    job, source = str(job_id), str(decision.pk)
    # robust: a failed publish must not turn the committed submit into an error; the
    # dispatch reconciler re-sends the check (generation.attempts.jobs_redispatch).
    # By name: the task module imports this one (a task may import services).
    task = current_app.tasks[CHECK_PROMPT_TASK]
    transaction.on_commit(lambda: task_send(task, (job, source)), robust=True)


def prompt_check_async(*, decision_id: str, job_id: str) -> ModerationDecision | None:
    """The deep check of a job's prompt: record each layer, hand the job on.

    The text path with the classifiers (when the request deferred them), then the
    external API (when configured, unless the text path blocked). The strictest of
    their decisions hands the job on; with nothing to run the request's decision does.
    Re-running is safe: each layer's decision is recorded once per prompt decision,
    and the generation hand-off functions are idempotent. Returns the deciding record.
    """
    source = (
        ModerationDecision.objects.select_related("prompt_log", "policy_version", "user")
        .filter(pk=decision_id)
        .first()
    )
    if source is None or source.prompt_log is None:
        logger.warning("prompt check: decision %s is gone", decision_id)
        return None
    records = []
    if _classifiers_deferred(source):
        records.append(_deep_text_check(source, job_id))
    if (
        _external_async()
        and source.decision == Decision.ALLOW
        and not any(r.decision == Decision.BLOCK for r in records)
    ):
        records.append(_external_check(source, job_id))
    deciding = max(records, key=lambda r: _rank(r.decision), default=source)
    _hand_job_on(job_id=str(job_id), decision=deciding)
    return deciding


def _deep_text_check(source: ModerationDecision, job_id: str) -> ModerationDecision:
    """The whole text path with the classifiers, recorded once after ``source``."""
    record = source.followed_by.filter(stage=Stage.PROMPT).exclude(layer=Layer.EXTERNAL).first()
    if record is not None:
        return record
    assert source.prompt_log is not None
    compiled = policy_compiled_version(source.policy_version)
    text = _text_decide(
        compiled,
        source.prompt_log.prompt,
        adult_allowed=bool(source.scores.get("adult_content_allowed")),
        limits=source.scores.get("jurisdiction_limits") or {},
        jurisdiction_code=source.prompt_log.jurisdiction,
        classifiers=True,
    )
    scores = text.scores | {"classifier_stage": STAGE_QUEUE}
    try:
        with transaction.atomic():
            record = ModerationDecision.objects.create(
                user=source.user,
                stage=Stage.PROMPT,
                subject_type=source.subject_type or JOB_SUBJECT_TYPE,
                subject_id=source.subject_id or str(job_id),
                decision=text.decision,
                category=text.category,
                layer=text.layer,
                severity=text.severity,
                span_start=text.span[0] if text.span else None,
                span_end=text.span[1] if text.span else None,
                matched_text=text.matched,
                normalized_prompt=text.normalized,
                scores=scores,
                policy_version=source.policy_version,
                prompt_log=source.prompt_log,
                follows=source,
            )
            if source.user is not None:
                apply_consequences(
                    record, compiled, evidence={"ip_hash": source.prompt_log.ip_hash}
                )
    except IntegrityError:  # a redelivered message raced this one: its record stands
        record = source.followed_by.filter(stage=Stage.PROMPT).exclude(layer=Layer.EXTERNAL).get()
    return record


def _external_check(source: ModerationDecision, job_id: str) -> ModerationDecision:
    """The external API's decision on an allowed prompt, recorded once after ``source``."""
    record = source.followed_by.filter(layer=Layer.EXTERNAL).first()
    if record is not None:
        return record
    assert source.prompt_log is not None
    document = source.policy_version.document
    adult_allowed = bool(source.scores.get("adult_content_allowed"))
    external = openai_adapter.openai_moderate(
        source.prompt_log.prompt, thresholds=_external_thresholds(document, adult_allowed)
    )
    weights = document.get("strikes", {}).get("weights", {})
    try:
        with transaction.atomic():
            record = ModerationDecision.objects.create(
                user=source.user,
                stage=Stage.PROMPT,
                subject_type=source.subject_type or JOB_SUBJECT_TYPE,
                subject_id=source.subject_id or str(job_id),
                decision=external.decision,
                category=external.category,
                layer=Layer.EXTERNAL,
                severity=int(weights.get(external.category, 1)) if external.category else 0,
                normalized_prompt=source.normalized_prompt,
                scores={"external": external.as_dict()},
                policy_version=source.policy_version,
                prompt_log=source.prompt_log,
                follows=source,
            )
            if source.user is not None:
                apply_consequences(
                    record, policy_compiled_version(source.policy_version), evidence={}
                )
    except IntegrityError:
        record = source.followed_by.get(layer=Layer.EXTERNAL)
    return record


def _hand_job_on(*, job_id: str, decision: ModerationDecision) -> None:
    if decision.decision == Decision.ALLOW:
        upcalls.prompt_check_allowed.handler(job_id=job_id)
    elif decision.decision == Decision.REVIEW:
        upcalls.prompt_check_unsure.handler(job_id=job_id, decision=decision)
    else:
        upcalls.prompt_check_blocked.handler(job_id=job_id, decision=decision)


# --- outputs -------------------------------------------------------------------------


def _prompt_indicators(
    job: Any, prompt_decision: ModerationDecision | None, compiled: CompiledPolicy
) -> set[str]:
    rules: list[Mapping[str, Any]] = []
    if prompt_decision is not None:
        rules.extend(prompt_decision.scores.get("rules", []))
    prompt = getattr(job, "prompt", "") or ""
    if prompt:
        rules.extend(m.as_dict() for m in compiled.ruleset.match(prompt))
    indicators = {str(r[key]) for r in rules for key in ("category", "group") if r.get(key)}
    if prompt_decision is not None:
        classifier = prompt_decision.scores.get("classifier") or _deep_classifier_scores(
            prompt_decision
        )
        if float(classifier.get("minors", 0.0)) >= 0.5:
            indicators.add("minors")
    return indicators


def _deep_classifier_scores(prompt_decision: ModerationDecision) -> dict[str, Any]:
    """The classifier scores of the deep check that followed a request's decision."""
    if not _classifiers_deferred(prompt_decision):
        return {}
    scores = (
        prompt_decision.followed_by.filter(stage=Stage.PROMPT)
        .exclude(layer=Layer.EXTERNAL)
        .values_list("scores", flat=True)
        .first()
    )
    return dict((scores or {}).get("classifier") or {})


def _prompt_decision_for(job: Any, subject_id: str) -> ModerationDecision | None:
    """The job's prompt decision: the one the job names, else the first about it."""
    decisions = ModerationDecision.objects.select_related("prompt_log")
    decision_id = getattr(job, "moderation_decision_id", None)
    if decision_id:
        found = decisions.filter(pk=decision_id).first()
        if found is not None:
            return found
    if not subject_id:
        return None
    return (
        decisions.filter(stage=Stage.PROMPT, subject_id=subject_id).order_by("created_at").first()
    )


def output_moderate(*, job: Any, images: list[bytes]) -> ModerationDecision:
    """Decide on a job's images before any is visible, and record it (stage ``output``)."""
    compiled = policy_compiled()
    subject_type, subject_id = _subject_ref(job)
    prompt_decision = _prompt_decision_for(job, subject_id)
    indicators = _prompt_indicators(job, prompt_decision, compiled)
    exposed_classes = compiled.document["images"]["exposed_classes"]
    image_scores = [classify_image(data, exposed_classes=exposed_classes) for data in images]
    adult_allowed = bool(prompt_decision and prompt_decision.scores.get("adult_content_allowed"))
    verdict: OutputVerdict = combine_output_scores(
        image_scores, indicators, compiled.document, adult_content_allowed=adult_allowed
    )
    hashes = [hashlib.sha256(data).hexdigest() for data in images]
    severity = compiled.strike_weight(verdict.category, 1) if verdict.category else 0
    with transaction.atomic():
        record = ModerationDecision.objects.create(
            user=job.user,
            stage=Stage.OUTPUT,
            subject_type=subject_type,
            subject_id=subject_id,
            decision=verdict.decision,
            category=verdict.category,
            layer=Layer.IMAGE,
            severity=severity,
            normalized_prompt=prompt_decision.normalized_prompt if prompt_decision else "",
            scores=verdict.scores | {"image_sha256": hashes, "deciding_image": verdict.image_index},
            policy_version=compiled.version,
            prompt_log=prompt_decision.prompt_log if prompt_decision else None,
            follows=prompt_decision,
        )
        apply_consequences(
            record,
            compiled,
            evidence={
                "image_sha256": hashes,
                "image_bytes": [len(data) for data in images],
                "ip_hash": prompt_decision.prompt_log.ip_hash
                if prompt_decision and prompt_decision.prompt_log
                else "",
            },
        )
    return record
