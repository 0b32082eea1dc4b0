"""One small world with an object of every kind, owned by ``subscriber``, and a client
for every role of the authorisation matrix."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.test import Client
from django.utils import timezone

from accounts.models import User
from tests.accountability.fixtures import make_user
from tests.generation.conftest import make_adult, subscribe

ROLES = (
    "anonymous",
    "member",
    "subscriber",
    "other_subscriber",
    "moderator",
    "senior",
    "billing_admin",
    "superuser",
    "key_too_few_scopes",
    "revoked_key",
)
KEY_ROLES = ("key_too_few_scopes", "revoked_key")


@dataclass
class World:
    users: dict[str, User | None]
    values: dict[str, str]
    keys: dict[str, str] = field(default_factory=dict)

    def user(self, role: str) -> User:
        user = self.users[role]
        assert user is not None, role
        return user

    def client(self, role: str) -> Client:
        client = Client(raise_request_exception=False)
        if role in KEY_ROLES:
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {self.keys[role]}"
            return client
        user = self.users[role]
        if user is not None:
            client.force_login(user)
        return client


def build_users(roles: tuple[str, ...] = ROLES) -> dict[str, User | None]:
    """A user for each role (the key roles belong to the subscriber)."""
    makers: dict[str, Any] = {
        "anonymous": lambda: None,
        "member": lambda: make_user("matrix-member@example.com"),
        "subscriber": lambda: subscribe_adult("matrix-subscriber@example.com"),
        "other_subscriber": lambda: subscribe_adult("matrix-other@example.com"),
        "moderator": lambda: make_user("matrix-mod@example.com", groups=("moderators",)),
        "senior": lambda: make_user("matrix-senior@example.com", groups=("senior_moderators",)),
        "billing_admin": lambda: make_user(
            "matrix-billing@example.com", groups=("billing_admins",)
        ),
        "superuser": lambda: make_user("matrix-root@example.com", superuser=True),
    }
    return {role: makers[role]() for role in roles if role in makers}


def subscribe_adult(email: str) -> User:
    user = make_adult(email)
    subscribe(user)
    return user


def build_world() -> World:
    from accountability.appeals import appeal_create
    from accountability.csam import csam_case_open
    from accountability.models import LegalHold
    from accountability.review import review_item_open
    from accountability.statements import statement_create
    from accounts.models import AgeVerification, AgeVerificationFlag
    from accounts.services import api_key_create, api_key_revoke
    from devstripe.models import OfflineIdentitySession
    from generation.models import GeneratedImage, GenerationJob, ShareLink

    users = build_users()
    subscriber = users["subscriber"]
    assert subscriber is not None
    now = timezone.now()
    job = GenerationJob.objects.create(
        user=subscriber,
        status="succeeded",
        prompt="a lighthouse at dusk",
        model_id="tiny-sd",
        width=512,
        height=512,
        steps=25,
        guidance_scale=7.0,
        seed=1,
        credits_reserved=1,
        finished_at=now,
    )
    import io

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    storage_key = default_storage.save(f"matrix/{uuid.uuid4()}.png", ContentFile(png.getvalue()))
    image = GeneratedImage.objects.create(
        job=job, index=0, width=512, height=512, sha256="0" * 64, storage_key=storage_key
    )
    link = ShareLink.objects.create(image=image, token=uuid.uuid4().hex)
    statement = statement_create(
        user=subscriber,
        subject_type="generation.job",
        subject_id=str(job.pk),
        category="hate",
        decision="content_blocked",
        decision_ground="incompatible_content",
        facts="f",
        automated_detection=True,
        automated_decision=False,
        decided_by=users["moderator"],
    )
    appeal = appeal_create(user=subscriber, statement_id=statement.pk, text="my secret appeal")
    item = review_item_open(
        kind="output",
        subject_type="generation.job",
        subject_id=str(job.pk),
        user=subscriber,
        category="violence_graphic",
        severity=3,
        context={"prompt": "a storm", "normalized_prompt": "a storm", "span": [2, 7]},
    )
    case = csam_case_open(
        user=make_user("matrix-case@example.com"), decision=None, evidence={"prompt": "x"}
    )
    hold = LegalHold.objects.get(user=case.user)
    verification = AgeVerification.objects.create(
        user=subscriber, method="stripe_identity", session_id=f"vs_{uuid.uuid4().hex[:8]}"
    )
    flag = AgeVerificationFlag.objects.create(
        user=subscriber, verification=verification, reason="dob_mismatch"
    )
    session = OfflineIdentitySession.objects.create(
        id=f"vs_offline_{uuid.uuid4().hex[:8]}", client_reference_id=str(subscriber.pk)
    )
    key = api_key_create(user=subscriber, name="matrix", scopes=["read"]).api_key
    read_key = api_key_create(user=subscriber, name="matrix-read", scopes=["read"])
    revoked = api_key_create(user=subscriber, name="matrix-revoked", scopes=["read", "generate"])
    api_key_revoke(api_key=revoked.api_key)
    values: dict[str, Any] = {
        "job_id": str(job.pk),
        "image_id": str(image.pk),
        "link_id": str(link.pk),
        "token": link.token,
        "key_id": str(key.pk),
        "user_id": str(subscriber.pk),
        "statement_id": str(statement.pk),
        "appeal_id": str(appeal.pk),
        "item_id": str(item.pk),
        "case_id": str(case.pk),
        "hold_id": str(hold.pk),
        "flag_id": str(flag.pk),
        "session_id": session.id,
        "plan_code": "premium",
    }
    return World(
        users=users,
        values=values,
        keys={"key_too_few_scopes": read_key.raw_key, "revoked_key": revoked.raw_key},
    )


# Fields that a request may touch without changing anything the user can see.
VOLATILE_FIELDS = {"last_used_at", "last_login", "updated_at"}


def table_contents() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every model of the project's apps (minus usage timestamps)."""
    from django.apps import apps

    from tests.security.conftest import PROJECT_APPS

    contents = {}
    for app_label in PROJECT_APPS:
        for model in apps.get_app_config(app_label).get_models():
            names = [
                f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE_FIELDS
            ]
            rows = model._default_manager.order_by("pk").values_list(*names)
            contents[model._meta.label] = [tuple(map(str, row)) for row in rows]
    return contents
