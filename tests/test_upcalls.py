"""The one cross-layer mechanism (core/upcalls.py): declared below, provided above,
checked at start-up, never a silent None."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from accounts.upcalls import generations_erase, generations_export, identity_session_created
from billing.redrive import identity_session_wake
from core import upcalls as core_upcalls
from core.stripe_client import offline_stand_in
from core.upcalls import UpCall, UpCallMissingError, check_upcalls_provided, upcalls_declared
from devstripe.transport import offline_transport
from generation.privacy import generation_erase_for_user, generation_export_for_user
from generation.services import generation_block, generation_enqueue_gpu, generation_hold_for_review
from moderation import upcalls as moderation_upcalls


def test_every_declared_upcall_is_provided_by_the_app_it_names() -> None:
    declared = {upcall.name: upcall for upcall in upcalls_declared()}
    assert set(declared) == {
        "accounts.generations_erase",
        "accounts.generations_export",
        "accounts.identity_session_created",
        "moderation.prompt_check_allowed",
        "moderation.prompt_check_unsure",
        "moderation.prompt_check_blocked",
    }
    assert moderation_upcalls.prompt_check_allowed.handler is generation_enqueue_gpu
    assert moderation_upcalls.prompt_check_unsure.handler is generation_hold_for_review
    assert moderation_upcalls.prompt_check_blocked.handler is generation_block
    assert identity_session_created.handler is identity_session_wake
    assert generations_export.handler is generation_export_for_user
    assert generations_erase.handler is generation_erase_for_user
    # The offline Stripe stand-in is not an up-call: the development-only app devstripe
    # registers it (tests run with it installed), and production never has it.
    assert offline_stand_in().transport is offline_transport
    assert check_upcalls_provided() == []
    assert "core.E001" not in {message.id for message in checks.run_checks()}


def test_a_missing_handler_fails_the_system_check_and_the_call() -> None:
    upcall: UpCall[Callable[[], None]] = UpCall("tests.nobody_provides_this", provided_by="tests")
    try:
        [error] = check_upcalls_provided()
        assert (error.id, error.level, error.msg) == (
            "core.E001",
            checks.ERROR,
            "The up-call tests.nobody_provides_this has no handler.",
        )
        assert error in checks.run_checks()
        with pytest.raises(UpCallMissingError, match=r"tests\.nobody_provides_this"):
            upcall.handler()
    finally:
        del core_upcalls._DECLARED[upcall.name]


def test_a_second_handler_or_a_second_declaration_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="already has a handler"):
        moderation_upcalls.prompt_check_allowed.provide(lambda *, job_id: None)
    assert moderation_upcalls.prompt_check_allowed.handler is generation_enqueue_gpu
    with pytest.raises(ImproperlyConfigured, match="declared twice"):
        UpCall("moderation.prompt_check_allowed", provided_by="generation")


def test_replaced_stands_in_for_the_handler_and_restores_it() -> None:
    calls: list[str] = []
    with moderation_upcalls.prompt_check_allowed.replaced(lambda *, job_id: calls.append(job_id)):
        moderation_upcalls.prompt_check_allowed.handler(job_id="job-1")
    assert calls == ["job-1"]
    assert moderation_upcalls.prompt_check_allowed.handler is generation_enqueue_gpu
