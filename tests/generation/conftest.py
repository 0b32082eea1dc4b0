from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import AgeVerificationStatus, User
from generation.models import GeneratedImage, GenerationJob, JobStatus


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    """The tiny random-weight test pipeline, built once (make models builds it too)."""
    from generation.engine.tiny_model import build_tiny_pipeline

    target = Path(settings.IMAGEGATE_MODEL_DIR) / "tiny-sd"
    if not (target / "model_index.json").exists():
        build_tiny_pipeline(target)
    return target


def make_adult(email: str | None = None, **extra: Any) -> User:
    fields: dict[str, Any] = {
        "date_of_birth": dt.date(1990, 5, 17),
        "country": "DE",
        "age_verification_status": AgeVerificationStatus.VERIFIED,
        "age_verified_at": timezone.now(),
        **extra,
    }
    user = User.objects.create_user(
        email=email or f"user-{uuid.uuid4().hex[:8]}@example.com",
        password="a-long-test-password",
        **fields,
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def subscribe(user: User, plan_code: str = "premium", credits: int = 100, **plan_changes: Any):
    from billing.credits import credits_grant
    from billing.models import Customer, Plan, Subscription

    plan = Plan.objects.get(code=plan_code)
    if plan_changes:
        for name, value in plan_changes.items():
            setattr(plan, name, value)
        plan.save()
    customer = Customer.objects.create(user=user, stripe_customer_id=f"cus_{uuid.uuid4().hex[:12]}")
    now = timezone.now()
    Subscription.objects.create(
        stripe_subscription_id=f"sub_{uuid.uuid4().hex[:12]}",
        user=user,
        customer=customer,
        plan=plan,
        status="active",
        current_period_start=now,
        current_period_end=now + dt.timedelta(days=30),
    )
    if credits:
        credits_grant(user=user, amount=credits, reason="test", reference=f"test:{uuid.uuid4()}")
    return plan


@pytest.fixture
def subscriber(db) -> User:
    user = make_adult("subscriber-test@example.com")
    subscribe(user)
    return user


@pytest.fixture
def api_for() -> Callable[[User | None], APIClient]:
    def build(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return build


@pytest.fixture
def api(subscriber: User, api_for) -> APIClient:
    return api_for(subscriber)


def balance(user: User) -> tuple[int, int]:
    from billing.credits import credits_balance

    result = credits_balance(user=user)
    return result.balance, result.reserved


def delivered_image(user, status: str = JobStatus.SUCCEEDED) -> GeneratedImage:
    """A finished job with one stored PNG, as the GPU task leaves it."""
    job = GenerationJob.objects.create(
        user=user, status=status, prompt="a lighthouse", model_id="tiny-test", width=256,
        height=256, steps=4, guidance_scale=7.5, seed=1, credits_reserved=1,
    )  # fmt: skip
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (40, 90, 160)).save(buffer, format="PNG")
    data = buffer.getvalue()
    image_id = uuid.uuid4()
    key = default_storage.save(f"generations/{user.pk}/{job.pk}/{image_id}.png", ContentFile(data))
    return GeneratedImage.objects.create(
        id=image_id, job=job, index=0, width=256, height=256,
        sha256=hashlib.sha256(data).hexdigest(), render_sha256="x", storage_key=key,
    )  # fmt: skip
