"""Lazy access to other apps' contract functions (docs/architecture.md).

The apps are built side by side; a contract function is looked up when it is called,
so this app imports and runs while another app's module is still missing. Tests may
replace a module in ``sys.modules`` to stand in for it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


class ContractUnavailableError(RuntimeError):
    """Another app's contract function is not there (yet)."""


def contract_function(module: str, name: str) -> Callable[..., Any] | None:
    """``module.name`` if that module and function exist, else None."""
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            return None
        raise
    function = getattr(loaded, name, None)
    return function if callable(function) else None


def require_contract(module: str, name: str) -> Callable[..., Any]:
    function = contract_function(module, name)
    if function is None:
        raise ContractUnavailableError(f"{module}.{name} is not available")
    return function


def optional_model(label: str) -> Any | None:
    """The model class for ``app.Model`` if it exists, else None."""
    from django.apps import apps

    try:
        return apps.get_model(label)
    except LookupError:
        return None
