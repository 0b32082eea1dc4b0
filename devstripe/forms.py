"""The offline Identity page's form: the outcome the document check has."""

from __future__ import annotations

from typing import Any

from django import forms

from devstripe.identity import OfflineOutcome


class OfflineIdentityForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[
            (OfflineOutcome.VERIFIED, "The document is verified, with this date of birth"),
            (OfflineOutcome.FAILED, "The check fails"),
            (OfflineOutcome.CANCELED, "Cancel"),
        ],
        widget=forms.RadioSelect,
        initial=OfflineOutcome.VERIFIED,
    )
    date_of_birth = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Date of birth"
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("outcome") == OfflineOutcome.VERIFIED and not cleaned.get("date_of_birth"):
            self.add_error("date_of_birth", "Give the date of birth the document shows.")
        return cleaned
