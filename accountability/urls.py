from django.urls import path

from accountability import views

app_name = "accountability"

urlpatterns = [
    path("account/statements/", views.statement_list, name="statement-list"),
    path(
        "account/statements/<str:statement_id>/",
        views.statement_detail,
        name="statement-detail",
    ),
    path("account/reports/", views.report_create, name="report-create"),
    path("transparency/", views.transparency, name="transparency"),
]
