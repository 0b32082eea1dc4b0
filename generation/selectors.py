"""Reads for generation jobs and images.

A job or image the actor may not see raises the same not-found as one that does not
exist (SPEC §9: unknown or foreign objects answer 404, never 403).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Min, QuerySet

from accounts.models import User
from accounts.roles import user_can_review
from billing.entitlements import (
    SubscriptionTerms,
    subscription_terms_from_json,
    subscription_terms_sql,
)
from billing.models import BillingReviewFlag, CreditAccount
from core.errors import ApplicationError, ErrorCode
from core.sql import SqlValue
from generation.models import GeneratedImage, GenerationJob, JobStatus, ShareLink
from moderation.models import Strike


def _as_uuid(value: Any) -> UUID | None:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except (TypeError, ValueError):
        return None


def job_list_for_user(*, user: Any) -> QuerySet[GenerationJob]:
    return GenerationJob.objects.filter(user=user).prefetch_related("images")


def job_get_for_user(*, user: Any, job_id: Any) -> GenerationJob:
    job_uuid = _as_uuid(job_id)
    job = GenerationJob.objects.filter(pk=job_uuid, user=user).first() if job_uuid else None
    if job is None:
        raise ApplicationError(ErrorCode.NOT_FOUND)
    return job


def image_visible_to(*, user: Any, image_id: Any, share_token: str = "") -> GeneratedImage:
    """The image if ``user`` may see it: its owner once the job succeeded, a moderator,
    or anyone holding an active share link to it (``share_token``), signed in or not
    (``user`` None or anonymous): the shared page itself is public."""
    image_uuid = _as_uuid(image_id)
    image = (
        GeneratedImage.objects.select_related("job")
        .filter(pk=image_uuid, purged_at__isnull=True)
        .first()
        if image_uuid
        else None
    )
    if image is None:
        raise ApplicationError(ErrorCode.NOT_FOUND)
    signed_in = user is not None and user.is_authenticated
    if signed_in and user_can_review(user):
        return image
    if image.job.status == JobStatus.SUCCEEDED and (
        (signed_in and image.job.user_id == user.pk)
        or (
            share_token
            and ShareLink.objects.filter(
                image=image, token=share_token, revoked_at__isnull=True
            ).exists()
        )
    ):
        return image
    raise ApplicationError(ErrorCode.NOT_FOUND)


def image_for_share_token(*, token: str) -> GeneratedImage:
    link = (
        ShareLink.objects.select_related("image__job")
        .filter(token=token, revoked_at__isnull=True, image__purged_at__isnull=True)
        .first()
    )
    if link is None or link.image.job.status != JobStatus.SUCCEEDED:
        raise ApplicationError(ErrorCode.NOT_FOUND)
    return link.image


def image_for_watermark(*, key: bytes, image_id_range: tuple[UUID, UUID]) -> GeneratedImage | None:
    low, high = image_id_range
    return (
        GeneratedImage.objects.select_related("job")
        .filter(id__gte=low, id__lte=high)
        .order_by("created_at")
        .first()
    )


QUEUE_SEQUENCE = "generation_queue_seq"


def queue_seq_next_in_insert() -> SqlValue | None:
    """``queue_seq_next`` for a job about to be inserted (``core.sql.row_insert``): the
    INSERT itself takes the number, one statement less (None off PostgreSQL)."""
    if connection.vendor != "postgresql":
        return None
    return SqlValue("nextval(%s)", (QUEUE_SEQUENCE,))


def queue_seq_next() -> int | None:
    """The next number in the order of entering the queue (None off PostgreSQL)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [QUEUE_SEQUENCE])
        return int(cursor.fetchone()[0])


def queue_position(*, job: GenerationJob) -> int | None:
    """Where this job stands in the queue (1 = next), while it is queued.

    Jobs take dense numbers as they enter the queue, so the position is the job's number
    minus the queue head's, plus one: one probe of a partial index, whatever the
    backlog (a job that left the queue out of order still counts until the head passes
    it, so the answer errs high, never low). Without a number (another database), the
    jobs ahead are counted.
    """
    if job.status != JobStatus.QUEUED or job.queued_at is None:
        return None
    if job.queue_seq is not None:
        head = GenerationJob.objects.filter(
            status=JobStatus.QUEUED, queue_seq__isnull=False
        ).aggregate(head=Min("queue_seq"))["head"]
        if head is not None:
            return max(1, job.queue_seq - head + 1)
    ahead = GenerationJob.objects.filter(
        status=JobStatus.QUEUED, queued_at__lt=job.queued_at
    ).count()
    return ahead + 1


def job_etag(*, job: GenerationJob, queue_position: int | None) -> str:
    """A weak validator of everything the status answer shows: it changes with the
    status, progress, images, moderation outcome and queue position. It names the job
    (``W/"<job id>:<digest>"``) so that a client polling many jobs can file it."""
    parts = (
        str(job.pk),
        job.status,
        job.updated_at.isoformat() if job.updated_at else "",
        str(job.progress_step),
        str(job.progress_total),
        job.finished_at.isoformat() if job.finished_at else "",
        str(job.statement_id or ""),
        str(queue_position or ""),
        "checking" if job.awaiting_check else "",
    )
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
    return f'W/"{job.pk}:{digest}"'


@dataclass(frozen=True)
class SubmitFacts:
    """What the gates of a submit need beyond the user row, read in one statement."""

    email_verified: bool
    has_open_billing_flag: bool
    credit_balance: int
    strike_weight: int = 0
    # The terms of the user's plan subscriptions (``billing.entitlements``); None when
    # this database could not read them in the same statement (read them apart).
    subscriptions: tuple[SubscriptionTerms, ...] | None = None


@functools.cache
def _submit_facts_columns(vendor: str) -> tuple[str, tuple[Any, ...], bool]:
    """``submit_facts``' select list over the user row (alias ``u``), built once per
    process (and database vendor): its text, its parameters after the strike window's
    start, and whether it reads the subscription terms too."""
    from allauth.account.models import EmailAddress

    def column(model: Any, field: str) -> str:
        return str(model._meta.get_field(field).column)

    email, flag, account = EmailAddress._meta, BillingReviewFlag._meta, CreditAccount._meta
    strike = Strike._meta
    sql = (
        f"EXISTS(SELECT 1 FROM {email.db_table} e "  # noqa: S608
        f"WHERE e.{column(EmailAddress, 'user')} = u.{column(User, 'id')} "
        f"AND e.{column(EmailAddress, 'verified')} "
        f"AND UPPER(e.{column(EmailAddress, 'email')}) = UPPER(u.{column(User, 'email')})), "
        f"EXISTS(SELECT 1 FROM {flag.db_table} f "
        f"WHERE f.{column(BillingReviewFlag, 'user')} = u.{column(User, 'id')} "
        f"AND f.{column(BillingReviewFlag, 'resolved_at')} IS NULL), "
        f"(SELECT a.{column(CreditAccount, 'balance')} FROM {account.db_table} a "
        f"WHERE a.{column(CreditAccount, 'user')} = u.{column(User, 'id')}), "
        f"(SELECT SUM(s.{column(Strike, 'severity')}) FROM {strike.db_table} s "
        f"WHERE s.{column(Strike, 'user')} = u.{column(User, 'id')} "
        f"AND s.{column(Strike, 'revoked_at')} IS NULL "
        f"AND s.{column(Strike, 'created_at')} >= %s)"
    )
    subscriptions = subscription_terms_sql(user_id_sql=f"u.{column(User, 'id')}")
    params: tuple[Any, ...] = ()
    if subscriptions is not None:
        sql += f", {subscriptions[0]}"
        params = tuple(subscriptions[1])
    return sql, params, subscriptions is not None


def submit_facts_columns(*, strikes_since: datetime) -> tuple[str, tuple[Any, ...]]:
    """``submit_facts``' reads as a select list over the user row (alias ``u``) and its
    parameters, for a statement that reads that row anyway (the API key lookup:
    ``accounts.services.LookupColumns``); ``submit_facts_from_row`` reads the values."""
    sql, params, _ = _submit_facts_columns(connection.vendor)
    since = Strike._meta.get_field("created_at").get_db_prep_value(strikes_since, connection)
    return sql, (since, *params)


def submit_facts_from_row(row: Sequence[Any]) -> SubmitFacts:
    """The ``SubmitFacts`` of the values of ``submit_facts_columns``."""
    with_subscriptions = _submit_facts_columns(connection.vendor)[2]
    return SubmitFacts(
        email_verified=bool(row[0]),
        has_open_billing_flag=bool(row[1]),
        credit_balance=int(row[2] or 0),
        strike_weight=int(row[3] or 0),
        subscriptions=subscription_terms_from_json(row[4]) if with_subscriptions else None,
    )


def submit_facts(*, user: Any, strikes_since: datetime) -> SubmitFacts:
    """The email, billing-flag, credit, active-strike and subscription facts of ``user``
    for ``generation_submit``, in one statement (each gate still decides on its own fact,
    in the spec's order). ``strike_weight`` sums the unrevoked strikes created since
    ``strikes_since`` (the policy's window), as ``moderation.selectors.strike_weight_active``;
    ``subscriptions`` are what ``billing.entitlements.entitlements_from`` decides on.

    Written as SQL over the models' own table and column names: it runs on every submit,
    and building it through the ORM cost more CPU than the database spends on it. A
    submit by API key reads the same in the key's lookup (``submit_facts_columns``).
    """
    sql, params = submit_facts_columns(strikes_since=strikes_since)
    user_id = User._meta.get_field("id").get_db_prep_value(user.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql} FROM {User._meta.db_table} u "  # noqa: S608
            f"WHERE u.{User._meta.pk.column} = %s",
            [*params, user_id],
        )
        row = cursor.fetchone()
    if row is None:
        return SubmitFacts(email_verified=False, has_open_billing_flag=False, credit_balance=0)
    return submit_facts_from_row(row)
