"""core.gcfreeze: the first request freezes what the process holds, once."""

from __future__ import annotations

import gc

import pytest
from celery import signals
from django.core.signals import request_finished
from django.test import Client

from core import gcfreeze


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    gcfreeze.install()
    yield
    gc.unfreeze()
    request_finished.disconnect(dispatch_uid=gcfreeze._UID)
    signals.task_postrun.disconnect(dispatch_uid=gcfreeze._UID)


def _listening() -> bool:
    return any(receiver[0][0] == gcfreeze._UID for receiver in request_finished.receivers)


@pytest.mark.django_db
def test_the_first_request_freezes_and_later_ones_do_not(unfrozen):
    assert gc.get_freeze_count() == 0
    assert _listening()
    Client().get("/healthz")
    frozen = gc.get_freeze_count()
    assert frozen > 10_000  # the settings, URL resolvers, models, the whole import graph
    assert not _listening()
    gc.unfreeze()
    Client().get("/healthz")
    assert gc.get_freeze_count() == 0


def test_the_first_task_freezes(unfrozen):
    assert gc.get_freeze_count() == 0
    signals.task_postrun.send(sender=None, task_id="x", task=None)
    assert gc.get_freeze_count() > 10_000
    assert not _listening()
