"""``{% report_reasons as reasons %}``: the report form's choices, from ``ReportReason``."""

from __future__ import annotations

from django import template

from accountability.models import ReportReason

register = template.Library()


@register.simple_tag
def report_reasons() -> list[tuple[str, str]]:
    return list(ReportReason.choices)
