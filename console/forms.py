from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from accountability.actions import BY_KEY, REVIEW_ACTIONS
from accountability.appeals import APPEAL_REASON_TEMPLATES
from accountability.models import AppealOutcome


def _template_choices(templates: Mapping[str, Mapping[str, str]]) -> list[tuple[str, Any]]:
    return [("", "— choose a reason —")] + [
        (str(group), [(key, text) for key, text in options.items()])
        for group, options in templates.items()
    ]


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[(a.key, a.label) for a in REVIEW_ACTIONS])
    reason_template = forms.ChoiceField(
        choices=_template_choices({a.key: a.reasons for a in REVIEW_ACTIONS})
    )
    reason_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        action, template = cleaned.get("action"), cleaned.get("reason_template")
        if action and template and template not in BY_KEY[action].reasons:
            self.add_error("reason_template", "Choose a reason that fits the action.")
        return cleaned


class AppealRulingForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[(AppealOutcome.UPHELD, "Uphold"), (AppealOutcome.REVERSED, "Reverse")]
    )
    reason_template = forms.ChoiceField(choices=_template_choices(APPEAL_REASON_TEMPLATES))
    reason_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        outcome, template = cleaned.get("outcome"), cleaned.get("reason_template")
        if outcome and template and template not in APPEAL_REASON_TEMPLATES[outcome]:
            self.add_error("reason_template", "Choose a reason that fits the outcome.")
        return cleaned


class LegalHoldForm(forms.Form):
    email = forms.EmailField()
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class TipNumberForm(forms.Form):
    tip_number = forms.CharField(max_length=64)
