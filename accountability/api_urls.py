from django.urls import path

from accountability import apis

urlpatterns = [
    path("statements", apis.StatementListApi.as_view(), name="api-statements"),
    path(
        "statements/<str:statement_id>",
        apis.StatementDetailApi.as_view(),
        name="api-statement-detail",
    ),
    path("appeals", apis.AppealCreateApi.as_view(), name="api-appeals"),
    path("reports", apis.ReportCreateApi.as_view(), name="api-reports"),
]
