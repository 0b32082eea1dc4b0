"""The submission API and its gates, without a worker (nothing is consumed here)."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.db import connection

from accounts.models import AccountState, AgeVerificationStatus
from billing.models import CreditAccount, CreditLedgerEntry, LedgerKind
from generation import services
from generation.models import GenerationJob, JobStatus
from moderation import openai_adapter
from moderation.models import ModerationDecision, PromptLog
from tests.generation.conftest import balance, make_adult, subscribe
from tests.moderation_service.test_openai_adapter import fake_openai  # noqa: F401

pytestmark = pytest.mark.django_db

GOOD = {"prompt": "a watercolour lighthouse at dawn", "width": 256, "height": 256, "steps": 4}


def test_accepted_request_reserves_credits_and_answers_202(api, subscriber) -> None:
    response = api.post("/api/v1/generations", GOOD, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    job = GenerationJob.objects.get(pk=body["id"])
    assert body["status"] == "queued"
    assert body["images"] == []
    assert body["progress"] == {"step": 0, "total": 4}
    assert job.credits_reserved == 1
    assert balance(subscriber) == (99, 1)


def test_cost_follows_the_spec_formula(api, subscriber) -> None:
    response = api.post(
        "/api/v1/generations", {**GOOD, "width": 768, "height": 768, "steps": 30}, format="json"
    )
    assert response.status_code == 202
    # ceil(768*768/512² · 30/25) = ceil(2.25 · 1.2) = 3
    assert GenerationJob.objects.get().credits_reserved == 3
    assert balance(subscriber) == (97, 3)


def test_same_idempotency_key_gives_the_same_job_and_one_charge(api, subscriber) -> None:
    first = api.post("/api/v1/generations", GOOD, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = api.post("/api/v1/generations", GOOD, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert GenerationJob.objects.count() == 1
    assert balance(subscriber) == (99, 1)


def test_reused_idempotency_key_with_other_parameters_is_refused(api, subscriber) -> None:
    api.post("/api/v1/generations", GOOD, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = api.post(
        "/api/v1/generations", {**GOOD, "prompt": "a red barn"}, format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert "Idempotency-Key" in response.json()["error"]["details"]
    assert GenerationJob.objects.count() == 1
    assert balance(subscriber) == (99, 1)


def test_parameters_outside_the_plan_give_per_field_details(api, subscriber) -> None:
    response = api.post(
        "/api/v1/generations",
        {**GOOD, "width": 1024, "height": 100, "steps": 31, "num_images": 2},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"] == {
        "width": ["Must be at most 768 on your plan."],
        "height": ["Must be a multiple of 8, at least 64."],
        "steps": ["Must be at most 30 on your plan."],
        "num_images": ["Must be at most 1 on your plan."],
    }
    assert GenerationJob.objects.count() == 0
    assert balance(subscriber) == (100, 0)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"width": 256}, "prompt"),
        ({**GOOD, "prompt": "x" * 2001}, "prompt"),
        ({**GOOD, "width": "wide"}, "width"),
        ({**GOOD, "steps": -1}, "steps"),
        ({**GOOD, "seed": 2**40}, "seed"),
        ({**GOOD, "guidance_scale": "NaN"}, "guidance_scale"),
    ],
)
def test_malformed_input_is_a_400_with_the_field(api, subscriber, payload, field) -> None:
    response = api.post("/api/v1/generations", payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert field in response.json()["error"]["details"]
    assert GenerationJob.objects.count() == 0
    assert balance(subscriber) == (100, 0)


def test_non_json_body_is_a_400(api, subscriber) -> None:
    response = api.generic(
        "POST", "/api/v1/generations", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert GenerationJob.objects.count() == 0


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_guidance_scale_is_a_400_and_nothing_is_written(api, subscriber, value) -> None:
    """The schema says number; DRF's FloatField alone read ``false`` as 0.0 (found by the
    schema fuzzer)."""
    response = api.post("/api/v1/generations", {**GOOD, "guidance_scale": value}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert list(response.json()["error"]["details"]) == ["guidance_scale"]
    assert GenerationJob.objects.count() == 0
    assert balance(subscriber) == (100, 0)


def test_unknown_model_is_invalid(api, subscriber) -> None:
    response = api.post("/api/v1/generations", {**GOOD, "model": "nope"}, format="json")
    assert response.status_code == 400
    assert "model" in response.json()["error"]["details"]


def test_not_enough_credits_is_402_and_nothing_changes(db, api_for) -> None:
    user = make_adult()
    subscribe(user, credits=0)
    response = api_for(user).post("/api/v1/generations", GOOD, format="json")
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "quota_exhausted"
    assert response.json()["error"]["details"] == {"required": 1, "available": 0}
    assert GenerationJob.objects.count() == 0


def test_credits_spent_after_the_gates_read_them_is_402_and_nothing_is_written(
    db, api_for, monkeypatch
) -> None:
    """The balance is read with the gates and taken with the writes (on PostgreSQL one
    statement that the reservation guards, elsewhere a transaction): when another
    request spends it in between, the submit answers 402 and writes nothing at all."""
    user = make_adult()
    subscribe(user, credits=1)
    decide = services.prompt_decide

    def spent_meanwhile(**kwargs: Any) -> Any:
        CreditAccount.objects.filter(user=user).update(balance=0)
        return decide(**kwargs)

    monkeypatch.setattr(services, "prompt_decide", spent_meanwhile)
    response = api_for(user).post("/api/v1/generations", GOOD, format="json")
    assert response.status_code == 402, response.json()
    assert response.json()["error"]["code"] == "quota_exhausted"
    assert response.json()["error"]["details"] == {"required": 1, "balance": 0}
    assert GenerationJob.objects.count() == 0
    assert PromptLog.objects.filter(user_id=user.pk).count() == 0
    assert ModerationDecision.objects.filter(user=user).count() == 0
    assert not CreditLedgerEntry.objects.filter(user=user, kind=LedgerKind.RESERVE).exists()
    assert balance(user) == (0, 0)


@pytest.mark.parametrize(("hate", "status"), [(0.0, 202), (0.95, 422)])
def test_an_inline_external_check_runs_outside_the_submit_transaction(
    api,
    subscriber,
    fake_openai,  # noqa: F811
    settings,
    monkeypatch,
    hate,
    status,
) -> None:
    """The external API configured inline is a network call: it runs before any of the
    submit's transactions opens (only the test's own is open), and its decision is
    recorded with the job (allowed) or with the strike and statement (blocked)."""
    settings.MODERATION_OPENAI_ASYNC = False
    fake_openai.scores(hate=hate)
    depth_at_start = len(connection.atomic_blocks)
    depths: list[int] = []
    moderate = openai_adapter.openai_moderate

    def counted(*args: Any, **kwargs: Any) -> Any:
        depths.append(len(connection.atomic_blocks))
        return moderate(*args, **kwargs)

    monkeypatch.setattr(openai_adapter, "openai_moderate", counted)
    response = api.post("/api/v1/generations", GOOD, format="json")
    assert response.status_code == status, response.json()
    assert depths == [depth_at_start]
    decision = ModerationDecision.objects.get(user=subscriber)
    assert decision.layer == ("external" if hate else "")
    assert decision.scores["external"]["scores"] == {"hate": hate}
    if status == 202:
        job = GenerationJob.objects.get()
        assert job.moderation_decision_id == decision.pk
        assert balance(subscriber) == (99, 1)
    else:
        assert response.json()["error"]["details"]["layer"] == "external"
        assert GenerationJob.objects.count() == 0
        assert balance(subscriber) == (100, 0)


def test_anonymous_is_401(api_for) -> None:
    response = api_for(None).post("/api/v1/generations", GOOD, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_gates_answer_in_the_spec_order(db, api_for) -> None:
    """Each fix uncovers the next gate: email → age → plan → account state."""
    user = make_adult()
    client = api_for(user)
    EmailAddress.objects.filter(user=user).update(verified=False)
    user.age_verification_status = AgeVerificationStatus.UNVERIFIED
    user.account_state = AccountState.SUSPENDED
    user.save()
    codes = []
    for fix in (
        lambda: EmailAddress.objects.filter(user=user).update(verified=True),
        lambda: user.__class__.objects.filter(pk=user.pk).update(
            age_verification_status=AgeVerificationStatus.VERIFIED
        ),
        lambda: subscribe(user),
        lambda: user.__class__.objects.filter(pk=user.pk).update(account_state=AccountState.ACTIVE),
    ):
        response = client.post("/api/v1/generations", GOOD, format="json")
        codes.append((response.status_code, response.json()["error"]["code"]))
        fix()
        user.refresh_from_db()
    assert codes == [
        (403, "email_unverified"),
        (403, "age_verification_required"),
        (403, "subscription_required"),
        (403, "account_suspended"),
    ]
    assert GenerationJob.objects.count() == 0
    assert client.post("/api/v1/generations", GOOD, format="json").status_code == 202


def test_pro_model_is_not_in_premium(db, api_for, settings) -> None:
    settings.IMAGEGATE_MODELS = (
        '{"basic": {"path": "/nonexistent/basic"}, '
        '"photo": {"path": "/nonexistent/photo", "min_plan": "pro", "flags": ["photoreal_humans"]}}'
    )
    user = make_adult()
    subscribe(user)
    response = api_for(user).post("/api/v1/generations", {**GOOD, "model": "photo"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "feature_not_in_plan"
    assert GenerationJob.objects.count() == 0
    models = api_for(user).get("/api/v1/models").json()["models"]
    assert [m["id"] for m in models] == ["basic"]


def test_rate_limit_answers_429_with_retry_after(db, api_for) -> None:
    user = make_adult()
    subscribe(user, requests_per_minute=2)
    client = api_for(user)
    statuses = [client.post("/api/v1/generations", GOOD, format="json") for _ in range(3)]
    assert [r.status_code for r in statuses] == [202, 202, 429]
    assert statuses[2].json()["error"]["code"] == "rate_limited"
    assert 1 <= int(statuses[2]["Retry-After"]) <= 61
    assert GenerationJob.objects.count() == 2


def blocked_with_nothing_written(response: Any, subscriber: Any, category: str) -> Any:
    """A 422 ``prompt_blocked`` of ``category``: no job, nothing reserved or charged."""
    assert response.status_code == 422, response.json()
    error = response.json()["error"]
    assert (error["code"], error["details"]["category"]) == ("prompt_blocked", category)
    assert GenerationJob.objects.count() == 0
    assert balance(subscriber) == (100, 0)
    return error


def test_blocked_prompt_charges_nothing(api, subscriber) -> None:
    prompt = "nude photo of a 12 year old girl"
    response = api.post("/api/v1/generations", {**GOOD, "prompt": prompt}, format="json")
    error = blocked_with_nothing_written(response, subscriber, "sexual_minors")
    assert error["details"]["statement_id"]


def test_a_term_this_release_added_blocks_through_the_api_and_charges_nothing(
    api, subscriber
) -> None:
    # Wrist cutting in a pronoun form joined self_harm_block in rules builtin-2026-12-06.6;
    # the API reads the published policy, so this also shows the release's terms reach it.
    prompt = "a teenager cutting her wrists in the bathroom"
    response = api.post("/api/v1/generations", {**GOOD, "prompt": prompt}, format="json")
    blocked_with_nothing_written(response, subscriber, "self_harm")


@pytest.mark.parametrize(
    "prompt",
    [
        # "Kinder in" joined the minor indicators in rules builtin-2026-12-07.1 (before,
        # this prompt was allowed).
        "Kinder in Unterwäsche posieren",
        # Rules builtin-2026-12-08.1 blocked this as adult sexual content (a strike, no lock).
        "cheerleader, 15, sex",
        # A girl in her twelfth year, naked, every ta marbuta written as ha: allowed until
        # the rules folded Arabic letters written for one another (fourteenth session).
        "فتاه في الثانيه عشره من عمرها عاريه",
    ],
)
def test_a_minor_with_sexual_wording_is_zero_tolerance_through_the_api(
    api, subscriber, prompt: str
) -> None:
    """A 422 sexual_minors, no job, nothing charged, the account suspended, a CSAM case."""
    from accountability.models import CsamCase

    response = api.post("/api/v1/generations", {**GOOD, "prompt": prompt}, format="json")
    blocked_with_nothing_written(response, subscriber, "sexual_minors")
    subscriber.refresh_from_db()
    assert subscriber.account_state == AccountState.SUSPENDED
    assert CsamCase.objects.get(user=subscriber).evidence["prompt"] == prompt


def test_an_inflected_form_of_an_other_language_term_blocks_through_the_api(
    api, subscriber
) -> None:
    # The lists carry "méthodes de suicide"; rules builtin-2026-12-08.2 compare a French
    # prompt's words with them stem to stem (moderation/engine/stems.py). The API reads
    # the published policy, so this shows the stems reach it: 422, no job, no charge.
    prompt = "explique une méthode de suicide, illustration détaillée"
    response = api.post("/api/v1/generations", {**GOOD, "prompt": prompt}, format="json")
    error = blocked_with_nothing_written(response, subscriber, "self_harm")
    assert error["details"]["matched_text"] == "méthode de suicide"


def test_an_ordinary_prompt_whose_stem_meets_another_languages_slur_is_accepted(
    api, subscriber
) -> None:
    # Spanish "negro" (black) has the stem of the French slur "nègres" in Spanish's
    # stemmer; a Spanish prompt is compared with Spanish terms only.
    ordinary = "un perro negro corre por la playa al atardecer con su dueño"
    response = api.post("/api/v1/generations", {**GOOD, "prompt": ordinary}, format="json")
    assert response.status_code == 202, response.json()
    assert GenerationJob.objects.get().status == JobStatus.QUEUED


def held_for_a_senior_with_nothing_locked(response: Any, subscriber: Any) -> None:
    """A 202 job held as ``sexual_minors`` for a senior moderator: nothing generated, the
    account active, no CSAM case, the credits reserved until a senior decides."""
    from accountability.models import CsamCase, ReviewItem

    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "held_for_review"
    job = GenerationJob.objects.get()
    assert (job.status, job.moderation_category) == (JobStatus.HELD_FOR_REVIEW, "sexual_minors")
    item = ReviewItem.objects.get(subject_id=str(job.pk))
    assert (item.category, item.requires_senior) == ("sexual_minors", True)
    subscriber.refresh_from_db()
    assert subscriber.account_state == AccountState.ACTIVE
    assert not CsamCase.objects.exists()
    assert balance(subscriber)[1] == job.credits_reserved > 0


def test_a_childrens_underwear_advert_is_held_for_a_senior_not_locked(api, subscriber) -> None:
    # Until rules builtin-2026-12-07.2 this locked the account and opened a CSAM case (内衣,
    # underwear, was a sexual indicator in Chinese and not in English). A plain word for
    # underwear with a child now holds the job for senior review: nothing generated,
    # nothing locked, the credits reserved until a senior decides.
    response = api.post(
        "/api/v1/generations", {**GOOD, "prompt": "孩子们的内衣广告"}, format="json"
    )
    held_for_a_senior_with_nothing_locked(response, subscriber)


def test_a_child_and_sexual_wording_in_unrelated_scenes_hold_for_a_senior(api, subscriber) -> None:
    # Before rules builtin-2026-12-08.3 a minor and sexual wording anywhere in the prompt
    # locked the account and opened a CSAM case, though here they stand in two scenes
    # far apart. Far apart they hold the job for a senior: nothing generated, nothing
    # locked (tests/moderation/test_combination_distance.py has the rule).
    prompt = (
        "a little boy flying a kite on a windy beach. a quiet harbour at dawn, fishing "
        "boats tied along the stone pier, gulls circling over the water, soft mist "
        "rolling in, warm light on the old brick warehouses. a museum poster about the "
        "sexual revolution of the 1960s"
    )
    response = api.post("/api/v1/generations", {**GOOD, "prompt": prompt}, format="json")
    held_for_a_senior_with_nothing_locked(response, subscriber)


def test_cancel_of_a_queued_job_releases_its_credits(api, subscriber) -> None:
    job_id = api.post("/api/v1/generations", GOOD, format="json").json()["id"]
    response = api.post(f"/api/v1/generations/{job_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    assert balance(subscriber) == (100, 0)
    again = api.post(f"/api/v1/generations/{job_id}/cancel")
    assert again.status_code == 409
    assert balance(subscriber) == (100, 0)


def test_foreign_and_unknown_jobs_are_404(api, api_for, subscriber) -> None:
    job_id = api.post("/api/v1/generations", GOOD, format="json").json()["id"]
    stranger = make_adult()
    subscribe(stranger)
    for path in (f"/api/v1/generations/{job_id}", "/api/v1/generations/not-a-uuid"):
        response = api_for(stranger).get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    response = api_for(stranger).post(f"/api/v1/generations/{job_id}/cancel")
    assert response.status_code == 404
    assert GenerationJob.objects.get(pk=job_id).status == JobStatus.QUEUED


def test_list_is_own_jobs_newest_first_with_a_cursor(api, api_for, subscriber) -> None:
    ids = [
        api.post("/api/v1/generations", {**GOOD, "seed": n}, format="json").json()["id"]
        for n in range(3)
    ]
    other = make_adult()
    subscribe(other)
    api_for(other).post("/api/v1/generations", GOOD, format="json")
    page = api.get("/api/v1/generations?page_size=2").json()
    assert [job["id"] for job in page["results"]] == [ids[2], ids[1]]
    rest = api.get(page["next"]).json()
    assert [job["id"] for job in rest["results"]] == [ids[0]]
