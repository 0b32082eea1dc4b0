from django.urls import path

from generation import apis

urlpatterns = [
    path("models", apis.ModelListApi.as_view(), name="api-models"),
    path("generations", apis.GenerationListCreateApi.as_view(), name="api-generations"),
    path("generations/<str:job_id>", apis.GenerationDetailApi.as_view(), name="api-generation"),
    path(
        "generations/<str:job_id>/cancel",
        apis.GenerationCancelApi.as_view(),
        name="api-generation-cancel",
    ),
    path("images/<str:image_id>/file", apis.ImageFileApi.as_view(), name="api-image-file"),
    path("provenance/verify", apis.ProvenanceVerifyApi.as_view(), name="api-provenance-verify"),
]
