from django import template

from accountability.review import PRIORITY_LABELS
from core.categories import category_label as _category_label
from generation.catalog import TEST_MODEL_ID, all_models

register = template.Library()


@register.filter
def category_label(key: str | None) -> str:
    """``violence_graphic`` → ``graphic violence``."""
    return _category_label(key)


@register.filter
def is_test_model(model_id: str | None) -> bool:
    """True for images made by the tiny random-weight test model: they are noise."""
    if not model_id:
        return False
    spec = all_models().get(str(model_id))
    return model_id == TEST_MODEL_ID or (spec is not None and "test_model" in spec.flags)


@register.filter
def priority_label(priority: int | None) -> str:
    """Review priority in words (4 is the most urgent): ``critical``, ``high``…"""
    return PRIORITY_LABELS.get(int(priority or 0), "normal")
