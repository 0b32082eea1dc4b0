"""The environment a process under the production settings needs, for tests that start
one (``manage.py check --deploy``, devstripe's refusal, the database settings)."""

from __future__ import annotations

import secrets


def production_variables(**extra: str) -> dict[str, str]:
    """The variables ``imagegate.settings.production`` requires, with test values;
    ``extra`` adds or replaces some."""
    return {
        "DJANGO_SETTINGS_MODULE": "imagegate.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": "postgres://imagegate@127.0.0.1:5432/imagegate",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "REDIS_URL": "redis://127.0.0.1:6379/1",
        "STRIPE_SECRET_KEY": "sk_test_check",
        "STRIPE_IDENTITY_KEY": "rk_test_check",
        "STRIPE_WEBHOOK_SECRET": "whsec_check",
        "DJANGO_ALLOWED_HOSTS": "imagegate.example",
        **extra,
    }
