"""CSAM cases: evidence preserved under legal hold, reported to NCMEC, seniors only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accountability.audit import audit_record
from accountability.legal_holds import legal_hold_place
from accountability.models import CsamCase, CsamCaseStatus
from core.errors import ApplicationError, ErrorCode


def _decision_ref(decision: Any) -> str:
    if decision is None:
        return ""
    meta = getattr(decision, "_meta", None)
    if meta is not None:
        return f"{meta.label_lower}:{decision.pk}"
    return str(decision)[:100]


def _account_snapshot(user: Any) -> dict[str, Any]:
    return {
        "user_id": str(user.pk),
        "email": user.email,
        "date_joined": user.date_joined.isoformat(),
        "declared_date_of_birth": user.date_of_birth.isoformat() if user.date_of_birth else None,
        "country": user.country,
        "region": user.region,
        "age_verification_status": user.age_verification_status,
        "age_verified_at": user.age_verified_at.isoformat() if user.age_verified_at else None,
        "account_state": user.account_state,
    }


def csam_case_open(*, user: Any, decision: Any, evidence: dict[str, Any]) -> CsamCase:
    """Open a case and preserve its evidence for at least a year, under a legal hold.

    ``evidence`` carries what the caller has (``hashes``, ``prompt``, ``ip``/``ip_hash``,
    ``times`` …); the account data is added here, so the record stands even if the
    account is later erased.
    """
    now = timezone.now()
    preserved = {
        **evidence,
        "account": _account_snapshot(user),
        "case_opened_at": now.isoformat(),
    }
    retention_days = max(365, int(settings.IMAGEGATE_CSAM_RETENTION_DAYS))
    with transaction.atomic():
        case = CsamCase.objects.create(
            user=user,
            decision_ref=_decision_ref(decision),
            evidence=preserved,
            opened_at=now,
            preserve_until=now + dt.timedelta(days=retention_days),
        )
        legal_hold_place(user=user, reason=f"CSAM case {case.pk}", actor="system")
        audit_record(
            actor="system",
            action="csam_case.open",
            target=case,
            after={"user": str(user.pk), "decision": case.decision_ref},
            reason="sexual_minors detection",
        )
    return case


def csam_case_mark_reported(*, case: CsamCase, tip_number: str, actor: Any) -> CsamCase:
    """Record the CyberTipline report number; only an open case can be reported."""
    tip_number = tip_number.strip()
    if not tip_number:
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details={"tip_number": ["Required."]})
    with transaction.atomic():
        locked = CsamCase.objects.select_for_update().get(pk=case.pk)
        if locked.status != CsamCaseStatus.OPEN:
            raise ApplicationError(ErrorCode.CONFLICT, "Only an open case can be reported.")
        locked.status = CsamCaseStatus.REPORTED
        locked.tip_number = tip_number
        locked.reported_at = timezone.now()
        locked.save(update_fields=["status", "tip_number", "reported_at"])
        audit_record(
            actor=actor,
            action="csam_case.report",
            target=locked,
            before={"status": CsamCaseStatus.OPEN},
            after={"status": locked.status, "tip_number": tip_number},
        )
    return locked


def csam_case_close(*, case: CsamCase, actor: Any, reason: str) -> CsamCase:
    """Close a case; its evidence stays until ``preserve_until`` whatever happens."""
    if not reason.strip():
        raise ApplicationError(ErrorCode.INVALID_REQUEST, details={"reason": ["Required."]})
    with transaction.atomic():
        locked = CsamCase.objects.select_for_update().get(pk=case.pk)
        if locked.status == CsamCaseStatus.CLOSED:
            raise ApplicationError(ErrorCode.CONFLICT, "The case is already closed.")
        before = locked.status
        locked.status = CsamCaseStatus.CLOSED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at"])
        audit_record(
            actor=actor,
            action="csam_case.close",
            target=locked,
            before={"status": before},
            after={"status": locked.status},
            reason=reason,
        )
    return locked


def csam_report_package(*, case: CsamCase, actor: Any) -> dict[str, Any]:
    """The case in the sections of NCMEC's CyberTipline report, for the legal team.

    Every export is audited: evidence access is itself evidence.
    """
    evidence = case.evidence
    account = evidence.get("account", {})
    times = evidence.get("times", {})
    hashes = evidence.get("hashes", [])
    if isinstance(hashes, dict):
        hashes = [{"algorithm": key, "value": value} for key, value in hashes.items()]
    package = {
        "report": {
            "incidentSummary": {
                "incidentType": "Child Pornography (possession, manufacture, and distribution)",
                "incidentDateTime": times.get("submitted_at") or case.opened_at.isoformat(),
                "incidentDateTimeDescription": "Time the prompt was submitted (UTC)",
            },
            "internetDetails": {
                "webPageIncident": {"url": settings.SITE_URL, "thirdPartyHostedContent": False}
            },
            "reporter": {
                "reportingPerson": {"email": getattr(actor, "email", "")},
                "companyTemplate": "Imagegate",
                "termsOfService": f"{settings.SITE_URL}/policy/",
            },
            "personOrUserReported": {
                "email": [account.get("email")],
                "screenName": account.get("user_id"),
                "ipCaptureEvent": [
                    {
                        "ipAddress": evidence.get("ip") or "",
                        "ipAddressHash": evidence.get("ip_hash") or "",
                        "eventName": "Upload",
                        "dateTime": times.get("submitted_at") or case.opened_at.isoformat(),
                    }
                ],
                "additionalInfo": {
                    "declaredDateOfBirth": account.get("declared_date_of_birth"),
                    "country": account.get("country"),
                    "accountCreated": account.get("date_joined"),
                    "ageVerificationStatus": account.get("age_verification_status"),
                },
            },
            "uploadedFiles": [
                {
                    "fileName": item.get("file_name", ""),
                    "originalFileHash": [
                        {"hashType": item.get("algorithm", "SHA256"), "value": item.get("value")}
                    ],
                    "fileViewedByEsp": False,
                    "publiclyAvailable": False,
                }
                for item in hashes
                if isinstance(item, dict)
            ],
            "additionalInfo": {
                "prompt": evidence.get("prompt", ""),
                "normalisedPrompt": evidence.get("normalized_prompt", ""),
                "moderationDecision": case.decision_ref,
                "times": times,
            },
        },
        "case": {
            "id": str(case.pk),
            "status": case.status,
            "tipNumber": case.tip_number or None,
            "openedAt": case.opened_at.isoformat(),
            "preserveUntil": case.preserve_until.isoformat(),
        },
    }
    audit_record(actor=actor, action="csam_case.export", target=case)
    return package
