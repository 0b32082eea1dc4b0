"""HTTP API v1 of the accounts app (SPEC §9). One class per operation."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.identity import age_verification_start
from accounts.models import ApiKey, ApiScope, User
from accounts.permissions import HasScope, SessionOnly
from accounts.privacy import user_export
from accounts.selectors import api_key_get, api_key_list
from accounts.services import api_key_create, api_key_revoke
from core.errors import ApplicationError, ErrorCode
from core.schema import results_of


class MeExportApi(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = ["read"]

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> HttpResponse:
        return export_response(user=request.user)  # type: ignore[arg-type]


def export_response(*, user: User) -> HttpResponse:
    body = json.dumps(user_export(user=user), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"imagegate-export-{timezone.now():%Y%m%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


class ApiKeyOutputSerializer(serializers.ModelSerializer[ApiKey]):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]


class ApiKeyListCreateApi(APIView):
    """GET: own keys (``read``). POST: a new key, with the signed-in session only."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"GET": ["read"], "POST": None}

    class ApiKeyCreateInputSerializer(serializers.Serializer[Any]):
        name = serializers.CharField(max_length=100)
        scopes = serializers.ListField(
            child=serializers.ChoiceField(choices=ApiScope.choices),
            allow_empty=False,
            required=False,
        )

    def get_permissions(self) -> list[Any]:
        permissions = list(super().get_permissions())
        if self.request.method == "POST":
            permissions.append(SessionOnly())
        return permissions

    @extend_schema(
        responses=results_of("ApiKeyList", ApiKeyOutputSerializer(many=True)),
        operation_id="api_keys_list",
    )
    def get(self, request: Request) -> Response:
        keys = api_key_list(user=request.user)  # type: ignore[arg-type]
        return Response({"results": ApiKeyOutputSerializer(keys, many=True).data})

    @extend_schema(
        request=ApiKeyCreateInputSerializer,
        responses={
            201: inline_serializer(
                "CreatedApiKey",
                {
                    "id": serializers.UUIDField(),
                    "name": serializers.CharField(),
                    "prefix": serializers.CharField(),
                    "scopes": serializers.ListField(child=serializers.CharField()),
                    "key": serializers.CharField(),
                },
            )
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.ApiKeyCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = api_key_create(
            user=request.user,  # type: ignore[arg-type]
            name=serializer.validated_data["name"],
            scopes=serializer.validated_data.get("scopes"),
        )
        key = created.api_key
        body = {
            "id": str(key.pk),
            "name": key.name,
            "prefix": key.prefix,
            "scopes": key.scopes,
            "key": created.raw_key,
        }
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class ApiKeyRevokeApi(APIView):
    """Revoke one of one's own keys; any of one's keys may do it (revoking only lowers access)."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scopes: list[str] = []

    @extend_schema(responses={204: None})
    def delete(self, request: Request, key_id: Any) -> Response:
        api_key = api_key_get(user=request.user, key_id=key_id)  # type: ignore[arg-type]
        if api_key is None:
            raise ApplicationError(ErrorCode.NOT_FOUND)
        api_key_revoke(api_key=api_key)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AgeVerificationStartApi(APIView):
    """Start a Stripe Identity check; answers ``{url}`` to open in a browser.

    It creates a paid Identity session and spends the daily quota, so an API key needs
    the ``generate`` scope (the scope for actions that cost money), never just ``read``.
    """

    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = ["generate"]

    @extend_schema(
        request=None,
        responses=inline_serializer("AgeVerificationStarted", {"url": serializers.URLField()}),
    )
    def post(self, request: Request) -> Response:
        url = age_verification_start(user=request.user)  # type: ignore[arg-type]
        return Response({"url": url})
