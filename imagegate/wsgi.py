"""WSGI entry point. Web processes never import torch: ML lives in workers."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagegate.settings.base")

application = get_wsgi_application()
