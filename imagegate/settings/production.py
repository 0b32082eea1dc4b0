"""Production settings: no defaults for secrets, no offline stand-ins."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from imagegate.settings.base import *  # noqa: F403
from imagegate.settings.base import database_from_env, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
# No default: DATABASE_URL must be set. The same DATABASE_* variables as elsewhere.
DATABASES = {"default": database_from_env(default_url=None, conn_max_age=60)}
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
REDIS_URL = env("REDIS_URL")
CACHES = {"default": {"BACKEND": "core.cache.PooledRedisCache", "LOCATION": REDIS_URL}}
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
STRIPE_IDENTITY_KEY = env("STRIPE_IDENTITY_KEY")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
STRIPE_OFFLINE = False
# The offline stand-ins (devstripe) are development tools: not installed here, so migrate
# creates none of their tables; and devstripe refuses to start under these settings
# (IMAGEGATE_PRODUCTION) should a settings module built on this one put it back.
IMAGEGATE_PRODUCTION = True
INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in DEVELOPMENT_APPS]  # noqa: F405
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("Production needs PostgreSQL (row locks, triggers).")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind one reverse proxy by default (it sets X-Forwarded-Proto, so it appends X-F-F).
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("IMAGEGATE_TRUSTED_PROXY_COUNT", default=1)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Two years, every subdomain, and eligible for the browsers' preload list.
SECURE_HSTS_SECONDS = max(
    60 * 60 * 24 * 365, env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 730)
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
# Structured logs in production unless LOG_FORMAT says otherwise (core/logging.py).
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING["handlers"]["console"]["formatter"] = "json" if LOG_FORMAT == "json" else "plain"  # type: ignore[index]  # noqa: F405
# Never silently fall back to rules only: a missing classifier answers 503.
MODERATION_TEXT_CLASSIFIER_REQUIRED = env.bool("MODERATION_TEXT_CLASSIFIER_REQUIRED", default=True)
