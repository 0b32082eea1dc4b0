"""DRF authentication with personal API keys: ``Authorization: Bearer <key>``."""

from __future__ import annotations

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import ApiKey, User
from accounts.services import api_key_authenticate


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """A request with a Bearer key is that key's user; a bad or revoked key is 401.

    Without an ``Authorization: Bearer`` header this class steps aside, so session
    authentication (with CSRF) still applies. ``request.auth`` is the ``ApiKey``. A view
    with ``api_key_lookup_columns(request) -> LookupColumns | None`` has them read in the
    key's own lookup (``request.auth.lookup_columns``).
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        try:
            header = authentication.get_authorization_header(request).split()
        except UnicodeError as exc:  # a header that is not Latin-1 (not valid HTTP)
            raise exceptions.AuthenticationFailed("Invalid Authorization header.") from exc
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send 'Authorization: Bearer <key>'.")
        try:
            raw_key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API key.") from exc
        view = (request.parser_context or {}).get("view")
        columns_for = getattr(view, "api_key_lookup_columns", None)
        columns = columns_for(request) if columns_for is not None else None
        api_key = api_key_authenticate(raw_key=raw_key, columns=columns)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
