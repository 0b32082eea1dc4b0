"""WSGI entry of the bare baseline app (gunicorn benchmarks.bare.wsgi)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.bare.settings")
application = get_wsgi_application()
