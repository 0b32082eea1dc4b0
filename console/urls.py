from django.urls import path

from console import views

app_name = "console"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("queue/", views.queue, name="queue"),
    path("queue/claim/", views.claim_next, name="claim-next"),
    path("items/<int:item_id>/", views.item_view, name="item"),
    path("items/<int:item_id>/claim/", views.item_claim, name="item-claim"),
    path("items/<int:item_id>/release/", views.item_release, name="item-release"),
    path("items/<int:item_id>/decide/", views.item_decide, name="item-decide"),
    path("images/<uuid:image_id>/", views.image_file, name="image"),
    path("reports/", views.reports, name="reports"),
    path("appeals/", views.appeals, name="appeals"),
    path("appeals/<uuid:appeal_id>/", views.appeal_view, name="appeal"),
    path("users/", views.users, name="users"),
    path("users/<uuid:user_id>/", views.user_view, name="user"),
    path("legal-holds/", views.legal_holds, name="legal-holds"),
    path(
        "legal-holds/<int:hold_id>/release/",
        views.legal_hold_release_view,
        name="legal-hold-release",
    ),
    path("policy/", views.policy_editor, name="policy"),
    path("csam/", views.csam_cases, name="csam-cases"),
    path("csam/<uuid:case_id>/", views.csam_case_view, name="csam-case"),
    path("csam/<uuid:case_id>/package.json", views.csam_case_package, name="csam-package"),
]
