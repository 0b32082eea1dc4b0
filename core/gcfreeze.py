"""Long-lived objects out of the cyclic collector's way once a process is warm.

A process's first request (web) or task (workers) loads what it keeps for its life: the
compiled policy's rule set (about 10,000 objects), URL resolvers, templates, model
metadata. Every full collection of the cyclic garbage collector walks them again: on a
2,000-character prompt that the rules take 8 ms for, a collection in the middle put the
99th percentile at 18-19 ms (docs/benchmarks.md). After the first request or task they
are moved to the permanent generation (``gc.freeze``), which collections skip; what
later requests allocate is collected as before. A rule set compiled later (a newly
published policy) is not frozen, and the one it replaces stays in memory: one per
publication per process.
"""

from __future__ import annotations

import gc
from typing import Any

from celery import signals
from django.core.signals import request_finished

_UID = "core.gcfreeze.freeze_once"


def freeze_once(**_: Any) -> None:
    """Freeze what the process holds now, the first time only."""
    request_finished.disconnect(dispatch_uid=_UID)
    signals.task_postrun.disconnect(dispatch_uid=_UID)
    gc.freeze()


def install() -> None:
    """Freeze after the process's first request or first task (``CoreConfig.ready``)."""
    request_finished.connect(freeze_once, dispatch_uid=_UID, weak=False)
    signals.task_postrun.connect(freeze_once, dispatch_uid=_UID, weak=False)
