"""Where each app keeps data about a person: what the export shows and what erasure
blanks (GDPR Art. 15, 17 and 20). ``tests/security/test_privacy_coverage.py`` walks
every model that refers to a user and fails when one is in neither table below.

Erasure keeps the rows (other law needs the records: statements of reasons, invoices,
the ledger, strikes as the history of enforcement) and removes their free text and
identifiers. The audit log never holds an address: its actor is a pseudonym
(``user:<random id>``), so the hash chain needs no rewriting (accountability/audit.py).
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps


@dataclass(frozen=True)
class PersonalData:
    model: str  # app_label.ModelName
    subject: str  # the field that names the person (a foreign key, or a user id)
    section: str  # the export's key
    erase: dict[str, Any] = field(default_factory=dict)  # field: blank value on erasure
    omit: tuple[str, ...] = ()  # never exported (secrets)


# Sections that accounts/privacy.py or an app's registered section already writes are
# marked with ``section`` too; ``generic`` below writes the rest.
PERSONAL_DATA: tuple[PersonalData, ...] = (
    PersonalData("account.EmailAddress", "user", "email_addresses"),
    PersonalData("mfa.Authenticator", "user", "two_factor"),
    PersonalData("accounts.AgeVerification", "user", "age_verifications", {"evidence_note": ""}),
    PersonalData(
        "accounts.AgeVerificationFlag", "user", "age_verification_flags", {"resolution_note": ""}
    ),
    PersonalData("accounts.ApiKey", "user", "api_keys"),
    PersonalData("billing.Customer", "user", "billing_customer"),
    PersonalData("billing.Subscription", "user", "subscriptions"),
    PersonalData("billing.CreditAccount", "user", "credit_account"),
    PersonalData("billing.CreditLedgerEntry", "user", "credit_ledger"),
    PersonalData("billing.CreditPurchase", "user", "credit_purchases"),
    PersonalData("billing.BillingReviewFlag", "user", "billing_review_flags"),
    PersonalData(
        "generation.GenerationJob",
        "user",
        "generations",
        {"prompt": "", "negative_prompt": "", "ip_hash": "", "idempotency_key": None},
    ),
    PersonalData(
        "moderation.ModerationDecision",
        "user",
        "moderation_decisions",
        {"matched_text": "", "normalized_prompt": ""},
    ),
    PersonalData("moderation.Strike", "user", "strikes"),
    PersonalData(
        "moderation.PromptLog",
        "user_id",
        "prompt_log",
        {"prompt": "", "negative_prompt": "", "normalized_prompt": "", "ip_hash": ""},
    ),
    PersonalData("accountability.StatementOfReasons", "user", "statements"),
    PersonalData("accountability.Appeal", "user", "appeals", {"text": ""}),
    PersonalData("accountability.Report", "owner", "reports_about_your_images"),
    PersonalData("accountability.ReportFiling", "reporter", "reports_filed", {"details": ""}),
    PersonalData("accountability.ReviewItem", "user", "review_items", {"context": {}}),
)
WRITTEN_ELSEWHERE = {"email_addresses", "two_factor", "age_verifications", "api_keys"}
WRITTEN_ELSEWHERE |= {"generations"}  # generation/privacy.py (registered section)

# Models and fields that refer to a user but are not that user's personal data to
# export, each with the reason (shown in docs/security.md).
NOT_EXPORTED: dict[str, str] = {
    "accountability.LegalHold": "a legal hold may not be disclosed while it lasts "
    "(GDPR Art. 23; it is named in the erasure notice)",
    "accountability.CsamCase": "CSAM cases may not be disclosed to their subject "
    "(reporting law forbids tipping off); preserved under legal hold",
    "admin.LogEntry": "Django admin's record of staff actions (the user is the staff member)",
    "moderation.PolicyVersion": "policy versions authored by staff: work records",
}
# Foreign keys that name the staff member who acted, not the person the row is about.
STAFF_FIELDS = frozenset(
    {
        "decided_by",
        "created_by",
        "resolved_by",
        "ruled_by",
        "claimed_by",
        "placed_by",
        "released_by",
        "revoked_by",
    }
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    return value


def rows_about(entry: PersonalData, *, user: Any) -> list[dict[str, Any]]:
    model = apps.get_model(entry.model)
    subject_value = user.pk
    names = [
        f.attname
        for f in model._meta.concrete_fields
        if f.attname not in entry.omit and f.name not in entry.omit
    ]
    subject_field = model._meta.get_field(entry.subject)
    lookup = subject_field.attname if subject_field.is_relation else entry.subject
    rows = model._default_manager.filter(**{lookup: subject_value}).order_by("pk")
    return [{k: _jsonable(v) for k, v in row.items()} for row in rows.values(*names)]


def personal_data_export(*, user: Any) -> dict[str, list[dict[str, Any]]]:
    """The sections no other module writes: every row about ``user``, field by field."""
    return {
        entry.section: rows_about(entry, user=user)
        for entry in PERSONAL_DATA
        if entry.section not in WRITTEN_ELSEWHERE
    }


def personal_data_erase(*, user: Any) -> int:
    """Blank the free text and identifiers of every row about ``user``; answers how many
    rows changed. Callers check legal holds first (accounts/privacy.py)."""
    changed = 0
    for entry in PERSONAL_DATA:
        if not entry.erase:
            continue
        model = apps.get_model(entry.model)
        subject_field = model._meta.get_field(entry.subject)
        lookup = subject_field.attname if subject_field.is_relation else entry.subject
        changed += model._default_manager.filter(**{lookup: user.pk}).update(**entry.erase)
    return changed
