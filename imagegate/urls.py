"""Root URL configuration. Each app adds its routes here (SPEC §9 lists them)."""

from __future__ import annotations

from csp.decorators import csp_update
from django.apps import apps
from django.contrib import admin
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core import views as core_views
from imagegate import me, metrics

admin.site.site_header = "Imagegate back office"
admin.site.site_title = "Imagegate admin"
admin.site.index_title = "Back office"

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"

# The API under one prefix, resolved first: an API request does not walk the pages' routes.
api_v1_patterns: list[URLPattern | URLResolver] = [
    path("", include("generation.urls_api")),
    # GET /api/v1/me reads accounts, billing and moderation: composed up here.
    path("me", me.MeApi.as_view(), name="api-me"),
    path("", include("accounts.api_urls")),
    path("", include("accountability.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI sets inline styles and an inline start-up script: its own, relaxed CSP.
    path(
        "docs/",
        csp_update({"script-src": ["'unsafe-inline'"], "style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
]

urlpatterns = [
    path("api/v1/", include(api_v1_patterns)),
    path("", core_views.landing, name="landing"),
    path("policy/", core_views.content_policy, name="content-policy"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
    path("", include("generation.urls")),
    # accounts before allauth: its /accounts/stripe/… and /accounts/identity/… routes.
    path("", include("accounts.urls")),
    *(
        # The offline Stripe stand-ins' pages: development and test settings only.
        [path("", include("devstripe.urls"))] if apps.is_installed("devstripe") else []
    ),
    path("accounts/", include("allauth.urls")),
    path("", include("billing.urls")),
    path("", include("accountability.urls")),
    path("moderation/", include("console.urls")),
]
