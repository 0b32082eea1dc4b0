from django import template

from core.categories import category_label as _category_label

register = template.Library()


@register.filter
def category_label(key: str | None) -> str:
    """``violence_graphic`` → ``graphic violence``."""
    return _category_label(key)
