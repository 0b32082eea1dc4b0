"""Up-calls: the one way a lower layer triggers something in a higher one.

Imports point down (docs/architecture.md, "Layers"). When a lower app must hand
something to a higher one (moderation's asynchronous prompt check hands the job back
to generation; a new Identity session wakes the Stripe events parked on it in
billing), the lower app declares an ``UpCall`` with the exact signature it calls, and
the higher app provides the handler in its ``AppConfig.ready()``::

    # moderation/upcalls.py (the lower app declares what it calls)
    class JobAllowed(Protocol):
        def __call__(self, *, job_id: str) -> object: ...

    prompt_check_allowed: UpCall[JobAllowed] = UpCall(
        "moderation.prompt_check_allowed", provided_by="generation"
    )

    # generation/apps.py (the higher app fills it in)
    prompt_check_allowed.provide(generation_enqueue_gpu)

    # moderation/services (the call)
    prompt_check_allowed.handler(job_id=job_id)

Rules:

* Every up-call has exactly one handler. A second, different one is refused at once.
* A missing handler is never a silent ``None``: the system check ``core.E001`` fails
  ``manage.py check`` (and every command that runs checks, ``runserver`` and
  ``migrate`` among them), and calling it raises ``UpCallMissingError``.
* Tests replace a handler with ``replaced(...)``, never by swapping modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

F = TypeVar("F", bound=Callable[..., Any])

_DECLARED: dict[str, UpCall[Any]] = {}


class UpCallMissingError(RuntimeError):
    """An up-call was made before (or without) the higher app providing its handler."""


class UpCall(Generic[F]):
    """One named call from a lower layer up to the app named ``provided_by``."""

    def __init__(self, name: str, *, provided_by: str) -> None:
        if name in _DECLARED:
            raise ImproperlyConfigured(f"The up-call {name} is declared twice.")
        self.name = name
        self.provided_by = provided_by
        self._handler: F | None = None
        _DECLARED[name] = self

    def __repr__(self) -> str:
        return f"UpCall({self.name!r}, provided_by={self.provided_by!r})"

    def provide(self, handler: F) -> None:
        """Install the handler (the higher app's ``AppConfig.ready``); idempotent."""
        if self._handler is not None and self._handler is not handler:
            raise ImproperlyConfigured(
                f"The up-call {self.name} already has a handler ({self._handler!r})."
            )
        self._handler = handler

    @property
    def is_provided(self) -> bool:
        return self._handler is not None

    @property
    def handler(self) -> F:
        if self._handler is None:
            raise UpCallMissingError(
                f"The up-call {self.name} has no handler: the {self.provided_by} app "
                "provides it in its AppConfig.ready()."
            )
        return self._handler

    @contextmanager
    def replaced(self, handler: F) -> Iterator[F]:
        """Stand ``handler`` in for the provided one while the block runs (tests)."""
        previous = self._handler
        self._handler = handler
        try:
            yield handler
        finally:
            self._handler = previous


def upcalls_declared() -> list[UpCall[Any]]:
    return sorted(_DECLARED.values(), key=lambda upcall: upcall.name)


def check_upcalls_provided(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check ``core.E001``: every declared up-call has its handler."""
    return [
        checks.Error(
            f"The up-call {upcall.name} has no handler.",
            hint=f"The {upcall.provided_by} app provides it in its AppConfig.ready().",
            obj=upcall,
            id="core.E001",
        )
        for upcall in upcalls_declared()
        if not upcall.is_provided
    ]
