"""Settings shared by every environment. Every knob comes from the environment.

Defaults run a self-contained demo (SQLite, a filesystem Celery broker, a local
memory cache); production (``imagegate.settings.production``) refuses to start
without its secrets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(str(BASE_DIR / ".env"))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="imagegate-insecure-development-key-change-me")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("IMAGEGATE_SITE_URL", default="http://127.0.0.1:8000")

# Apps that are never installed in production (imagegate/settings/production.py).
DEVELOPMENT_APPS = ["devstripe"]
IMAGEGATE_PRODUCTION = False

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "pgtrigger",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "core",
    "accounts",
    "billing",
    "generation",
    "moderation",
    "accountability",
    "console",
    # Development and tests only: the offline Stripe stand-ins (SPEC §10) and their tables.
    # The production settings take it out and refuse to start with it.
    *DEVELOPMENT_APPS,
]

MIDDLEWARE = [
    # Observability first: every answer has a request id and is timed (imagegate/metrics.py).
    "core.logging.RequestIdMiddleware",
    "imagegate.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Oversized bodies, NUL characters, unreadable forms: 400 before any view runs.
    "core.http.BadInputMiddleware",
    # Content-Security-Policy (django-csp), Permissions-Policy, no-store on private API.
    "core.csp.CSPMiddleware",
    "core.http.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffMfaMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "imagegate.urls"
WSGI_APPLICATION = "imagegate.wsgi.application"
ASGI_APPLICATION = "imagegate.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.site",
                "console.context_processors.roles",
            ],
        },
    },
]

# --- Data stores -----------------------------------------------------------------


def database_from_env(*, default_url: str | None, conn_max_age: int) -> dict[str, Any]:
    """The ``default`` database from ``DATABASE_URL`` and the ``DATABASE_*`` variables;
    the production settings use it too, with no default URL."""
    url = env.str("DATABASE_URL") if default_url is None else env.str("DATABASE_URL", default_url)
    database: dict[str, Any] = env.db_url_config(url)
    database["ATOMIC_REQUESTS"] = False
    database["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=conn_max_age)
    # A persistent connection cut while idle (server restart, proxy timeout) is found
    # and replaced before a request uses it, rather than failing that request.
    database["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=True)
    options = database.setdefault("OPTIONS", {})
    if database["ENGINE"].endswith("postgresql"):
        # Django's backend with a health check that needs no round trip while the
        # connection is idle and unharmed (core/postgresql/base.py).
        database["ENGINE"] = "core.postgresql"
        # Parameters travel apart from the statement instead of being quoted into it
        # in Python, and a statement a connection has run DATABASE_PREPARE_THRESHOLD
        # times (psycopg's default, 5) is prepared: PostgreSQL parses and plans it once
        # per connection (docs/benchmarks.md: the submit's database CPU falls by about
        # 40%). Behind a pooler in transaction mode that cannot keep prepared statements
        # (PgBouncer before 1.21), set DATABASE_PREPARE_THRESHOLD= (empty: never).
        options.setdefault(
            "server_side_binding", env.bool("DATABASE_SERVER_SIDE_BINDING", default=True)
        )
        threshold = env.str("DATABASE_PREPARE_THRESHOLD", default="5").strip()
        options.setdefault("prepare_threshold", int(threshold) if threshold else None)
    elif database["ENGINE"] == "django.db.backends.sqlite3":
        # Web and worker share the file: wait for the writer rather than failing at once.
        options.setdefault("timeout", 20)
        # A transaction takes the write lock when it begins. One that read first and then
        # wrote while the worker was committing got "database is locked" at once, without
        # waiting (SQLite cannot wait there without risking a deadlock): a cancel during a
        # running batch answered 503 about one time in four.
        options.setdefault("transaction_mode", "IMMEDIATE")
    return database


# Embedded defaults: SQLite in var/. PostgreSQL when DATABASE_URL is set.
DATABASES = {
    "default": database_from_env(
        default_url=f"sqlite:///{VAR_DIR / 'imagegate.sqlite3'}", conn_max_age=0
    ),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # One client per pool and a one-round-trip incr (core/cache.py).
            "BACKEND": "core.cache.PooledRedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Auth ------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/account/"
LOGOUT_REDIRECT_URL = "/"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
# Failed logins: per account first, then per client IP (order matters: accounts/throttle.py).
ACCOUNT_RATE_LIMITS = {
    "login_failed": env("IMAGEGATE_LOGIN_FAILED_LIMITS", default="5/5m/key,20/m/ip"),
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
}
# Reverse proxies in front of the site that append to X-Forwarded-For: the client IP
# (login throttling, rate limits, hashed IPs in the prompt log) is the entry that many
# places from the right. 0: REMOTE_ADDR. Production defaults to 1.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("IMAGEGATE_TRUSTED_PROXY_COUNT", default=0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Imagegate"

EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Imagegate <no-reply@imagegate.local>")

# --- I18N ------------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media --------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
# Media are private: there is no MEDIA_URL route; images are served by authorised views.
MEDIA_URL = "/media-not-public/"
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
STORAGES = {
    "default": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": AWS_STORAGE_BUCKET_NAME,
                "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
                "region_name": env("AWS_S3_REGION_NAME", default=None),
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": False,
            },
        }
        if AWS_STORAGE_BUCKET_NAME
        else {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": MEDIA_ROOT, "base_url": MEDIA_URL},
        }
    ),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that a 401 carries "WWW-Authenticate: Bearer".
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        # API keys need the view's required_scopes (reads: "read"); sessions have all.
        "accounts.permissions.HasScope",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "core.api.BoundedJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Imagegate API",
    "DESCRIPTION": "Safe, accountable image generation for verified adults.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.add_error_responses",
    ],
}

# --- Security headers (docs/security.md) --------------------------------------------
# A strict policy: scripts, styles, images and connections from this origin only; no
# inline code anywhere (templates load static files). The API docs page gets its own
# relaxed policy (imagegate/urls.py). Forms may post to Stripe's hosted pages, which
# the checkout, portal and identity steps redirect to.
STRIPE_HOSTED_ORIGINS = [
    "https://checkout.stripe.com",
    "https://billing.stripe.com",
    "https://verify.stripe.com",
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", *STRIPE_HOSTED_ORIGINS],
    }
}
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()"
)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Rate limits (django-ratelimit on the shared cache; docs/security.md) ------------
RATELIMIT_USE_CACHE = "default"
# A cache that cannot count refuses (429) rather than letting everything through.
RATELIMIT_FAIL_OPEN = env.bool("RATELIMIT_FAIL_OPEN", default=False)
# Provenance verification, per API key (or signed-in account) and per client IP.
PROVENANCE_VERIFY_PER_PRINCIPAL = env.int("PROVENANCE_VERIFY_PER_PRINCIPAL", default=20)
PROVENANCE_VERIFY_PER_IP = env.int("PROVENANCE_VERIFY_PER_IP", default=60)
PROVENANCE_VERIFY_WINDOW_SECONDS = env.int("PROVENANCE_VERIFY_WINDOW_SECONDS", default=60)
# Reports from signed-out visitors of shared pages, per client IP and window.
REPORTS_ANONYMOUS_PER_IP = env.int("REPORTS_ANONYMOUS_PER_IP", default=10)
REPORTS_ANONYMOUS_WINDOW_SECONDS = env.int("REPORTS_ANONYMOUS_WINDOW_SECONDS", default=3600)
# Generation requests a minute for an account with active strikes (SPEC §3), at most.
GENERATION_RATE_PER_MINUTE_WITH_STRIKES = env.int(
    "GENERATION_RATE_PER_MINUTE_WITH_STRIKES", default=2
)

# --- Request limits (docs/security.md) ---------------------------------------------
# The largest non-upload body (JSON, forms) and the largest multipart upload (an image
# to verify) accepted; bigger bodies are refused with 400 before a view reads them.
IMAGEGATE_MAX_BODY_BYTES = env.int("IMAGEGATE_MAX_BODY_BYTES", default=2_621_440)
IMAGEGATE_MAX_UPLOAD_BYTES = env.int("IMAGEGATE_MAX_UPLOAD_BYTES", default=26 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = IMAGEGATE_MAX_BODY_BYTES
# Provenance verification decodes the uploaded image: at most this many pixels (the
# largest generated image is 1024×1024; 9 MP admits a 4K screenshot of one).
PROVENANCE_VERIFY_MAX_PIXELS = env.int("PROVENANCE_VERIFY_MAX_PIXELS", default=9_000_000)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=1000)

# --- Celery ----------------------------------------------------------------------
# Embedded default: kombu's filesystem transport, which needs no server.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_FILESYSTEM_DIR = env("CELERY_BROKER_FILESYSTEM_DIR", default=str(VAR_DIR / "broker"))
CELERY_SOFT_TIME_LIMIT = env.int("CELERY_SOFT_TIME_LIMIT", default=300)
CELERY_HARD_TIME_LIMIT = env.int("CELERY_HARD_TIME_LIMIT", default=360)
# Must exceed the hard limit, or Redis redelivers a message whose task is still running.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=600)
CELERY_BROKER_KEY_PREFIX = env("CELERY_BROKER_KEY_PREFIX", default="")

# --- Product ---------------------------------------------------------------------
IMAGEGATE_MODELS = env("IMAGEGATE_MODELS", default="")
IMAGEGATE_DEMO_PASSWORD = env("IMAGEGATE_DEMO_PASSWORD", default="")
IMAGEGATE_DEMO_TOTP_SECRET = env("IMAGEGATE_DEMO_TOTP_SECRET", default="")
IMAGEGATE_TORCH_THREADS = env.int("IMAGEGATE_TORCH_THREADS", default=1)
# Images per GPU pipeline call: a worker batches queued jobs compatible with the one it
# took (same model, size, steps, guidance) up to this many images; 1 turns batching off.
IMAGEGATE_GPU_BATCH_SIZE = env.int("IMAGEGATE_GPU_BATCH_SIZE", default=4)
IMAGEGATE_MODEL_DIR = env("IMAGEGATE_MODEL_DIR", default=str(VAR_DIR / "models"))

STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_IDENTITY_KEY = env("STRIPE_IDENTITY_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="whsec_offline_development_secret")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
# Identity events arrive at their own endpoint (/accounts/stripe/identity-webhook/),
# which may be a separate Stripe webhook endpoint with its own signing secret.
STRIPE_IDENTITY_WEBHOOK_SECRET = env(
    "STRIPE_IDENTITY_WEBHOOK_SECRET", default=STRIPE_WEBHOOK_SECRET
)
STRIPE_PRICE_PREMIUM = env("STRIPE_PRICE_PREMIUM", default="price_offline_premium")
STRIPE_PRICE_PRO = env("STRIPE_PRICE_PRO", default="price_offline_pro")
STRIPE_PRICE_CREDIT_PACK = env("STRIPE_PRICE_CREDIT_PACK", default="price_offline_credit_pack")
# Offline stand-ins for Checkout, the Portal and Identity (SPEC §10): only without a key.
STRIPE_OFFLINE = not STRIPE_SECRET_KEY
# Billing: how long a past-due subscription may still generate (SPEC §1).
BILLING_PAST_DUE_GRACE_DAYS = env.int("BILLING_PAST_DUE_GRACE_DAYS", default=3)
# The Stripe inbox's re-drive (docs/reliability.md): every this many seconds, beat sends
# the events left unprocessed (a lost enqueue, a lost message, a failed handler); a
# claim older than STRIPE_EVENT_CLAIM_SECONDS (its worker died) may be taken over.
STRIPE_EVENT_REDRIVE_SECONDS = env.int("STRIPE_EVENT_REDRIVE_SECONDS", default=60)
STRIPE_EVENT_CLAIM_SECONDS = env.int("STRIPE_EVENT_CLAIM_SECONDS", default=300)

OPENAI_API_KEY = env("OPENAI_API_KEY", default="")
# Small reference tables (jurisdictions) read on every submit are kept per process this
# long; a change made through the model is seen at once in its own process.
IMAGEGATE_REFERENCE_CACHE_SECONDS = env.float("IMAGEGATE_REFERENCE_CACHE_SECONDS", default=10.0)
# Plan ranks (billing/plans.py): which plan a model's min_plan needs, kept per process.
IMAGEGATE_PLAN_RANK_CACHE_SECONDS = env.float("IMAGEGATE_PLAN_RANK_CACHE_SECONDS", default=60.0)
# /metrics answers a scraper with this bearer token (and signed-in superusers).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
OPENAI_API_BASE = env("OPENAI_API_BASE", default="https://api.openai.com")
OPENAI_MODERATION_MODEL = env("OPENAI_MODERATION_MODEL", default="omni-moderation-latest")
OPENAI_MODERATION_TIMEOUT = env.float("OPENAI_MODERATION_TIMEOUT", default=2.0)
# What a failed external check (timeout, error) decides: review | allow | block.
OPENAI_FAIL_POLICY = env("OPENAI_FAIL_POLICY", default="review")
# Run the external check on the moderation queue before the GPU (True) or inline.
MODERATION_OPENAI_ASYNC = env.bool("MODERATION_OPENAI_ASYNC", default=True)
# Where the text classifiers (MiniLM over every window, the multilingual head, the
# minor_sexual rule) run: "queue" (default) on the moderation queue before the GPU, the
# request runs normalisation and the rules only and never loads them (the deep check,
# docs/moderation.md); "request" in the web process, so a classifier block is a 422 at
# once (about 20-80 ms of CPU and +150-250 MB per web process).
MODERATION_CLASSIFIER_STAGE = env("MODERATION_CLASSIFIER_STAGE", default="queue")
# The multilingual (USE) classifier head runs beside the English one (where the
# classifiers run): about +120 MB; off, non-English prompts rely on the term lists alone.
MODERATION_MULTILINGUAL_HEAD = env.bool("MODERATION_MULTILINGUAL_HEAD", default=True)
# A missing text classifier model: 503 (True) or rules-only decisions (False).
MODERATION_TEXT_CLASSIFIER_REQUIRED = env.bool("MODERATION_TEXT_CLASSIFIER_REQUIRED", default=False)
C2PA_SIGNING_CERT = env("C2PA_SIGNING_CERT", default="")
C2PA_SIGNING_KEY = env("C2PA_SIGNING_KEY", default="")

# Accountability (SPEC §7) and the moderator console (SPEC §8).
IMAGEGATE_RETENTION_DAYS = env.int("IMAGEGATE_RETENTION_DAYS", default=90)
IMAGEGATE_REVIEW_CLAIM_MINUTES = env.int("IMAGEGATE_REVIEW_CLAIM_MINUTES", default=15)
IMAGEGATE_CSAM_RETENTION_DAYS = max(365, env.int("IMAGEGATE_CSAM_RETENTION_DAYS", default=365))

CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "worker-heartbeat": {"task": "core.heartbeat", "schedule": 60.0},
    "accountability-purge-expired": {"task": "accountability.purge_expired", "schedule": 3600.0},
    "accountability-notify-reporters": {
        "task": "accountability.notify_reporters_pending",
        "schedule": 300.0,
    },
    "generation-sweep-stuck-jobs": {
        "task": "generation.sweep_stuck_jobs",
        "schedule": env.float("GENERATION_SWEEP_INTERVAL_SECONDS", default=15.0),
    },
    "generation-sweep-orphan-files": {
        "task": "generation.sweep_orphan_files",
        "schedule": env.float("GENERATION_ORPHAN_SWEEP_INTERVAL_SECONDS", default=3600.0),
    },
}
# A queued job whose message is older than this is sent again (the broker may have lost
# it); the sweep interval above adds to the bound. Duplicates are no-ops (the claim).
GENERATION_DISPATCH_RESEND_SECONDS = env.int("GENERATION_DISPATCH_RESEND_SECONDS", default=60)
# Image files without a row are deleted once older than this (a write whose commit
# failed or whose worker died between the two).
GENERATION_ORPHAN_FILE_GRACE_SECONDS = env.int("GENERATION_ORPHAN_FILE_GRACE_SECONDS", default=3600)
# What a 503 for an unreachable database, cache or broker tells clients to wait.
IMAGEGATE_OUTAGE_RETRY_AFTER_SECONDS = env.int("IMAGEGATE_OUTAGE_RETRY_AFTER_SECONDS", default=5)
# A running job's worker renews this lease after every step; the sweeper re-queues a
# job whose lease ran out (the worker died).
GENERATION_LEASE_SECONDS = env.int("GENERATION_LEASE_SECONDS", default=60)

# LOG_FORMAT=json: one JSON object a line with request_id and job_id (core/logging.py).
LOG_FORMAT = env("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "core.logging.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# The Stripe inbox's re-drive (billing.redrive), beside the schedule above.
CELERY_BEAT_SCHEDULE["billing-redrive-stripe-events"] = {
    "task": "billing.redrive_stripe_events",
    "schedule": float(STRIPE_EVENT_REDRIVE_SECONDS),
}
