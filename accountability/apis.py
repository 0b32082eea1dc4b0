"""API v1: one's statements of reasons, appeals and reports (SPEC §9)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accountability.appeals import appeal_create
from accountability.models import Appeal, Report, ReportReason, StatementOfReasons
from accountability.reports import report_file
from accountability.selectors import appeal_of, statement_get_for_user, statement_list_for_user
from accounts.authentication import ApiKeyAuthentication
from accounts.permissions import HasScope
from core.schema import TEXT_PATTERN, results_of


class _AccountabilityApi(APIView):
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, HasScope]


class AppealOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    statement_id = serializers.UUIDField()
    status = serializers.CharField()
    outcome = serializers.CharField(allow_null=True)
    reasons = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance: Appeal) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["outcome"] = instance.outcome or None
        return data


class StatementOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    application_date = serializers.DateTimeField()
    subject_type = serializers.CharField()
    subject_id = serializers.CharField()
    category = serializers.CharField()
    decision = serializers.CharField()
    decision_visibility = serializers.CharField()
    decision_account = serializers.CharField()
    decision_provision = serializers.CharField()
    decision_monetary = serializers.CharField()
    decision_ground = serializers.CharField()
    ground_reference = serializers.CharField()
    content_type = serializers.CharField()
    facts = serializers.CharField()
    automated_detection = serializers.BooleanField()
    automated_decision = serializers.CharField()
    source_type = serializers.CharField()
    territorial_scope = serializers.ListField(child=serializers.CharField())
    can_appeal = serializers.SerializerMethodField()
    appeal = serializers.SerializerMethodField()

    def get_can_appeal(self, statement: StatementOfReasons) -> bool:
        return appeal_of(statement) is None

    def get_appeal(self, statement: StatementOfReasons) -> dict[str, Any] | None:
        appeal = appeal_of(statement)
        return AppealOutputSerializer(appeal).data if appeal is not None else None


class StatementListApi(_AccountabilityApi):
    required_scopes = ["read"]

    @extend_schema(
        responses=results_of("StatementList", StatementOutputSerializer(many=True)),
        operation_id="statements_list",
    )
    def get(self, request: Request) -> Response:
        statements = statement_list_for_user(user=request.user)[:500]
        return Response({"results": StatementOutputSerializer(statements, many=True).data})


class StatementDetailApi(_AccountabilityApi):
    required_scopes = ["read"]

    @extend_schema(responses=StatementOutputSerializer, operation_id="statements_retrieve")
    def get(self, request: Request, statement_id: str) -> Response:
        statement = statement_get_for_user(user=request.user, statement_id=statement_id)
        return Response(StatementOutputSerializer(statement).data)


class AppealCreateApi(_AccountabilityApi):
    required_scopes = ["report"]

    class AppealInputSerializer(serializers.Serializer):
        statement_id = serializers.UUIDField()
        # Must contain a non-space character and no NUL: the schema says so too (pattern).
        text = serializers.RegexField(TEXT_PATTERN, max_length=5000)

    @extend_schema(request=AppealInputSerializer, responses={201: AppealOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.AppealInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = appeal_create(
            user=request.user,
            statement_id=data.validated_data["statement_id"],
            text=data.validated_data["text"],
        )
        return Response(AppealOutputSerializer(appeal).data, status=status.HTTP_201_CREATED)


class ReportOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    image_id = serializers.UUIDField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReportCreateApi(_AccountabilityApi):
    required_scopes = ["report"]

    class ReportInputSerializer(serializers.Serializer):
        image_id = serializers.UUIDField()
        reason = serializers.ChoiceField(choices=ReportReason.choices)
        details = serializers.CharField(max_length=2000, required=False, allow_blank=True)
        share_token = serializers.CharField(
            max_length=64, required=False, allow_blank=True, help_text="For a shared image."
        )

    @extend_schema(request=ReportInputSerializer, responses={201: ReportOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.ReportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report: Report = report_file(
            reporter=request.user,
            image_id=data.validated_data["image_id"],
            reason=data.validated_data["reason"],
            details=data.validated_data.get("details", ""),
            share_token=data.validated_data.get("share_token", ""),
        )
        # The reporter learns that the notice arrived, not how many others reported it.
        return Response(ReportOutputSerializer(report).data, status=status.HTTP_201_CREATED)
