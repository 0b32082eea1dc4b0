"""The two baseline endpoints."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from benchmarks.bare.models import BareItem


def hello(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"hello": "world"})


class InsertSerializer(serializers.Serializer[dict[str, Any]]):
    prompt = serializers.CharField(max_length=2000)
    width = serializers.IntegerField(min_value=64, max_value=4096, default=512)
    height = serializers.IntegerField(min_value=64, max_value=4096, default=512)
    steps = serializers.IntegerField(min_value=1, max_value=500, default=25)


class InsertApi(APIView):
    def post(self, request: Request) -> Response:
        serializer = InsertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            item = BareItem.objects.create(**serializer.validated_data)
        return Response({"id": item.pk, **serializer.validated_data}, status=201)


urlpatterns = [path("hello", hello), path("insert", InsertApi.as_view())]
