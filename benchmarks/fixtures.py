"""Benchmark data: subscribers with API keys and credits, on a plan without a rate cap.

    python -m benchmarks.fixtures --users 200 --out DIR

Run with the project's settings against the benchmark database. Writes ``DIR/keys.txt``
(one API key a line) and ``DIR/jobs.txt`` (one queued job id per user, for status
polling). Idempotent: the users exist once; keys and jobs are made afresh each run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_PLAN = "bench"
# Ordinary prompts, combined into many different ones (every one is allowed).
SUBJECTS = [
    "a lighthouse", "a red fox", "a mountain village", "an old sailing ship", "a bowl of fruit",
    "a city street", "a forest path", "a steam train", "a snowy cabin", "a field of tulips",
    "a desert canyon", "a koi pond", "a vintage bicycle", "a hot air balloon", "a castle",
]  # fmt: skip
SETTINGS = [
    "at dawn", "in the rain", "under a starry sky", "at golden hour", "in autumn",
    "on a foggy morning", "in spring", "at sunset", "in winter light", "at noon",
]  # fmt: skip
STYLES = [
    "watercolour", "oil painting", "highly detailed", "pencil sketch", "digital art",
    "soft light", "studio photo", "isometric", "pastel colours", "wide angle",
]  # fmt: skip


def all_prompts() -> list[str]:
    return [f"{s} {w}, {st}" for s in SUBJECTS for w in SETTINGS for st in STYLES]


def prompts() -> list[str]:
    """The combinations the current policy allows outright (the benchmark measures the
    path of an allowed prompt; a held one goes to review instead of the queue)."""
    global _allowed
    if _allowed is None:
        from moderation.policy import policy_compiled, text_moderator

        check = text_moderator(policy_compiled()).check
        _allowed = [p for p in all_prompts() if check(p).decision == "allow"]
    return _allowed


_allowed: list[str] | None = None


def submit(client: Any, texts: list[str], keys: list[str], i: int) -> Any:
    """The ``i``-th benchmark submit through Django's test ``client``: an allowed prompt,
    a subscriber's API key in turn; asserts the 202."""
    response = client.post(
        "/api/v1/generations",
        data={"prompt": texts[(i * 7) % len(texts)], "width": 512, "height": 512},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {keys[i % len(keys)]}",
    )
    assert response.status_code == 202, response.content
    return response


def bench_plan() -> Any:
    """The benchmark plan: the premium limits, without a rate cap."""
    from billing.models import Plan, PlanKind

    plan, _ = Plan.objects.update_or_create(
        code=BENCH_PLAN,
        defaults={
            "name": "Benchmark",
            "kind": PlanKind.SUBSCRIPTION,
            "stripe_price_id": "price_bench",
            "credits_per_period": 0,
            "max_side": 768,
            "max_steps": 30,
            "max_images": 1,
            "plan_rank": 1,
            # The rate limit still runs on every submit; it never refuses one here.
            "requests_per_minute": 1_000_000,
            "queue_priority": 6,
            "is_active": False,
        },
    )
    return plan


def bench_user_ensure(email: str, tag: str) -> Any:
    """A verified adult subscribed to the benchmark plan, made once per email."""
    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from accounts.models import AgeVerificationStatus, User
    from billing.models import Customer, Subscription

    user = User.objects.filter(email=email).first()
    if user is not None:
        return user
    now = timezone.now()
    user = User.objects.create_user(
        email=email,
        password=None,
        date_of_birth=dt.date(1990, 5, 17),
        country="DE",
        age_verification_status=AgeVerificationStatus.VERIFIED,
        age_verified_at=now,
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    customer = Customer.objects.create(user=user, stripe_customer_id=f"cus_bench{tag}")
    Subscription.objects.create(
        stripe_subscription_id=f"sub_bench{tag}",
        user=user,
        customer=customer,
        plan=bench_plan(),
        status="active",
        current_period_start=now,
        current_period_end=now + dt.timedelta(days=3650),
    )
    return user


def make_users(count: int) -> tuple[list[str], list[str]]:
    from django.utils import timezone

    from accounts.models import ApiKey
    from accounts.services import api_key_create
    from billing.credits import credits_balance, credits_grant
    from generation.services import GenerationRequest, generation_submit

    bench_plan()
    keys, jobs = [], []
    now = timezone.now()
    for i in range(count):
        user = bench_user_ensure(f"bench-{i:04d}@example.com", f"{i:04d}")
        if credits_balance(user=user).balance < 500_000:
            credits_grant(
                user=user, amount=1_000_000, reason="benchmark", reference=f"bench:{now}:{i}"
            )
        ApiKey.objects.filter(user=user).delete()
        keys.append(api_key_create(user=user, name="bench", scopes=["read", "generate"]).raw_key)
        job = generation_submit(
            user=user,
            request=GenerationRequest(prompt=prompts()[i % len(prompts())], width=256, height=256),
        )
        jobs.append(str(job.pk))
    return keys, jobs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegate.settings.production")
    import django

    django.setup()
    keys, jobs = make_users(args.users)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "keys.txt").write_text("\n".join(keys) + "\n")
    (args.out / "jobs.txt").write_text("\n".join(jobs) + "\n")
    (args.out / "prompts.txt").write_text("\n".join(prompts()) + "\n")
    print(f"{len(keys)} benchmark users ready; {len(prompts())} of {len(all_prompts())} prompts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
