"""Imagegate project package.

The design documents call this package ``platform/``; a top-level package of that
name would shadow Python's standard-library ``platform`` module (imported by Django,
Celery, requests and stripe), so it is named ``imagegate``.
"""

from imagegate.celery import app as celery_app

__all__ = ["celery_app"]
