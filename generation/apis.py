"""The generation API of SPEC §9: one class per operation, thin over services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponseRedirect
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasScope
from accounts.roles import user_can_review
from accounts.services import LookupColumns
from billing.entitlements import entitlements_for
from core.errors import ApplicationError, ErrorCode
from core.ratelimit import provenance_verify_limit
from core.schema import results_of
from generation import selectors, services
from generation.catalog import models_for
from generation.engine.provenance import InvalidImage, inspect_image
from generation.selectors import submit_facts_from_row
from generation.serializers import GenerationCreateSerializer, GenerationOutputSerializer
from generation.services import GenerationRequest

MAX_VERIFY_UPLOAD = 25 * 1024 * 1024


def client_ip(request: Request) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2): any listed tag equal to ``etag``, W/ or not."""
    bare = etag.removeprefix("W/")
    return any(
        tag.strip() == "*" or tag.strip().removeprefix("W/") == bare
        for tag in if_none_match.split(",")
    )


class GenerationPagination(CursorPagination):
    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"
    ordering = "-created_at"


class ModelListApi(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = ["read"]

    @extend_schema(
        responses=inline_serializer(
            "ModelList",
            {
                "models": serializers.ListField(
                    child=inline_serializer(
                        "Model",
                        {
                            "id": serializers.CharField(),
                            "label": serializers.CharField(),
                            "min_plan": serializers.CharField(),
                            "flags": serializers.ListField(child=serializers.CharField()),
                        },
                    )
                )
            },
        )
    )
    def get(self, request: Request) -> Response:
        entitlements = entitlements_for(user=request.user)
        return Response(
            {
                "models": [
                    {
                        "id": spec.id,
                        "label": spec.display_name,
                        "min_plan": spec.min_plan,
                        "flags": sorted(spec.flags),
                    }
                    for spec in models_for(entitlements)
                ],
                "limits": {
                    "max_side": entitlements.max_side,
                    "max_steps": entitlements.max_steps,
                    "max_images": entitlements.max_images,
                },
            }
        )


class GenerationListCreateApi(APIView):
    permission_classes = [IsAuthenticated, HasScope]

    required_scopes = {"POST": ["generate"], "*": ["read"]}

    @extend_schema(
        responses=results_of(
            "GenerationPage", GenerationOutputSerializer(many=True), paginated=True
        ),
        operation_id="generations_list",
    )
    def get(self, request: Request) -> Response:
        paginator = GenerationPagination()
        page = paginator.paginate_queryset(
            selectors.job_list_for_user(user=request.user), request, view=self
        )
        data = GenerationOutputSerializer(page, many=True).data
        return paginator.get_paginated_response(data)

    def api_key_lookup_columns(self, request: Request) -> LookupColumns | None:
        """A submit by API key reads its gate facts in the key's lookup."""
        return services.submit_lookup_columns() if request.method == "POST" else None

    @extend_schema(request=GenerationCreateSerializer, responses={202: GenerationOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = GenerationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and (len(key) > 255 or not key.isprintable()):
            raise ApplicationError(
                ErrorCode.INVALID_REQUEST,
                details={"Idempotency-Key": ["At most 255 printable characters."]},
            )
        looked_up = getattr(request.auth, "lookup_columns", None)
        job = services.generation_submit(
            user=request.user,  # type: ignore[arg-type]
            request=GenerationRequest(**serializer.validated_data),
            idempotency_key=key,
            ip=client_ip(request),
            facts=submit_facts_from_row(looked_up) if looked_up is not None else None,
        )
        data = GenerationOutputSerializer(job, context={"queue_position": False}).data
        return Response(data, status=202)


class GenerationDetailApi(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = ["read"]

    @extend_schema(responses={200: GenerationOutputSerializer, 304: None})
    def get(self, request: Request, job_id: str) -> Response:
        """The job's status; with ``If-None-Match`` set to the ETag of the last answer,
        304 Not Modified while nothing it shows has changed (a cheap poll)."""
        job = selectors.job_get_for_user(user=request.user, job_id=job_id)
        position = selectors.queue_position(job=job)
        etag = selectors.job_etag(job=job, queue_position=position)
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if etag_matches(request.headers.get("If-None-Match", ""), etag):
            return Response(status=304, headers=headers)
        data = GenerationOutputSerializer(job, context={"queue_position": position}).data
        return Response(data, headers=headers)


class GenerationCancelApi(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = ["generate"]

    @extend_schema(request=None, responses=GenerationOutputSerializer)
    def post(self, request: Request, job_id: str) -> Response:
        job = selectors.job_get_for_user(user=request.user, job_id=job_id)
        job = services.generation_cancel(user=request.user, job_id=job.pk)  # type: ignore[arg-type]
        job.refresh_from_db()
        return Response(GenerationOutputSerializer(job).data)


def image_response(storage_key: str, *, filename: str, download: bool = False) -> Any:
    """Serve a private image: streamed from local storage, or a short-lived signed URL."""
    if settings.AWS_STORAGE_BUCKET_NAME:
        return HttpResponseRedirect(default_storage.url(storage_key))
    response = FileResponse(
        default_storage.open(storage_key, "rb"),
        content_type="image/png",
        as_attachment=download,
        filename=filename,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class ImageFileApi(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = ["read"]

    @extend_schema(responses={(200, "image/png"): bytes})
    def get(self, request: Request, image_id: str) -> Any:
        image = selectors.image_visible_to(user=request.user, image_id=image_id)
        download = request.query_params.get("download") == "1"
        return image_response(image.storage_key, filename=f"{image.pk}.png", download=download)


class ProvenanceVerifyApi(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = ["read"]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request=inline_serializer("ProvenanceVerifyInput", {"image": serializers.ImageField()}),
        responses=inline_serializer(
            "ProvenanceVerifyOutput",
            {
                "found": serializers.BooleanField(),
                "image_id": serializers.UUIDField(allow_null=True),
                "generation_id": serializers.UUIDField(allow_null=True),
                "c2pa": serializers.DictField(allow_null=True),
            },
        ),
    )
    def post(self, request: Request) -> Response:
        # Decoding is CPU work: limited per key and per client IP before any is done.
        provenance_verify_limit(request)
        upload = request.FILES.get("image")
        if upload is None:
            raise ApplicationError(
                ErrorCode.INVALID_REQUEST, details={"image": ["Upload an image file."]}
            )
        if upload.size is None or upload.size > MAX_VERIFY_UPLOAD:
            raise ApplicationError(
                ErrorCode.INVALID_REQUEST,
                details={"image": [f"At most {MAX_VERIFY_UPLOAD // (1024 * 1024)} MB."]},
            )
        try:
            # Decoding cost grows with pixels, not bytes: a small PNG can claim 40 MP.
            report = inspect_image(upload.read(), max_pixels=settings.PROVENANCE_VERIFY_MAX_PIXELS)
        except InvalidImage as exc:
            raise ApplicationError(
                ErrorCode.INVALID_REQUEST, details={"image": [str(exc)]}
            ) from exc
        image = None
        if report.watermark_payload is not None:
            image = selectors.image_for_watermark(
                key=report.watermark_payload.key,
                image_id_range=report.watermark_payload.image_id_range(),
            )
        may_see_ids = image is not None and (
            image.job.user_id == request.user.pk or user_can_review(request.user)
        )
        return Response(
            {
                "found": image is not None,
                "image_id": str(image.pk) if image is not None and may_see_ids else None,
                "generation_id": str(image.job_id) if image is not None and may_see_ids else None,
                "c2pa": report.c2pa,
                "metadata": report.metadata,
            }
        )
