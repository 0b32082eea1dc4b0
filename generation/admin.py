"""Operators' view of jobs. No group has permissions here: billing admins see nothing."""

from django.contrib import admin
from django.http import HttpRequest

from generation.models import GeneratedImage, GenerationJob


class GeneratedImageInline(admin.TabularInline):
    model = GeneratedImage
    extra = 0
    can_delete = False
    readonly_fields = ["id", "index", "width", "height", "sha256", "storage_key", "purged_at"]


@admin.register(GenerationJob)
class GenerationJobAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "status", "model_id", "credits_reserved", "created_at"]
    list_filter = ["status", "model_id"]
    search_fields = ["id", "user__email"]
    inlines = [GeneratedImageInline]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in GenerationJob._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
