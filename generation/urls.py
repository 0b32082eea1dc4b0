from django.urls import path

from generation import views

urlpatterns = [
    path("studio/", views.studio, name="studio"),
    path("studio/gallery/", views.gallery, name="studio-gallery"),
    path("studio/jobs/<str:job_id>/", views.job_page, name="studio-job"),
    path("studio/jobs/<str:job_id>/progress", views.job_progress, name="studio-job-progress"),
    path("studio/jobs/<str:job_id>/cancel", views.job_cancel, name="studio-job-cancel"),
    path("studio/images/<str:image_id>/", views.image_page, name="studio-image"),
    path("studio/images/<str:image_id>/share", views.share_create, name="studio-share-create"),
    path(
        "studio/images/<str:image_id>/share/<int:link_id>/revoke",
        views.share_revoke,
        name="studio-share-revoke",
    ),
    path("s/<str:token>/", views.shared_image_page, name="shared-image"),
    path("s/<str:token>/image.png", views.shared_image_file, name="shared-image-file"),
]
