"""Forms: sign-up (allauth), API keys, erasure, manual verification."""

from __future__ import annotations

import datetime as dt
from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.core.exceptions import ValidationError

from accounts.age import age_in_zone, known_time_zones, local_today
from accounts.countries import COUNTRY_CHOICES, country_name
from accounts.models import ApiScope
from accounts.selectors import jurisdiction_for
from accounts.validation import validate_region


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(known_time_zones())]


class SignupForm(AllauthSignupForm):
    """allauth's sign-up plus date of birth, country, region and time zone (SPEC §5).

    Under the minimum age of the chosen jurisdiction the form is invalid, so allauth
    creates nothing: no user, no email address, no email sent.
    """

    date_of_birth = forms.DateField(
        label="Date of birth",
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
        help_text="You will confirm it with an identity document before generating.",
    )
    country = forms.ChoiceField(
        label="Country of residence",
        choices=[("", "Choose…"), *COUNTRY_CHOICES],
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )
    region = forms.CharField(
        label="Region (optional)",
        required=False,
        max_length=8,
        help_text="ISO 3166-2 code where rules differ by region, e.g. US-AL or CA-BC.",
    )
    time_zone = forms.ChoiceField(label="Time zone", initial="UTC")

    field_order = ["email", "password1", "password2", "date_of_birth", "country", "region"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = _time_zone_choices()

    def clean_region(self) -> str:
        return (self.cleaned_data.get("region") or "").strip().upper()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        country = cleaned.get("country") or ""
        region = cleaned.get("region") or ""
        if country and region:
            try:
                validate_region(country=country, region=region)
            except ValidationError as exc:
                self.add_error("region", exc.message_dict.get("region", exc.messages))
                region = ""
        date_of_birth: dt.date | None = cleaned.get("date_of_birth")
        time_zone = cleaned.get("time_zone") or "UTC"
        if date_of_birth and country and not self.has_error("region"):
            if date_of_birth > local_today(time_zone=time_zone):
                self.add_error("date_of_birth", "The date of birth is in the future.")
            elif date_of_birth.year < 1900:
                self.add_error("date_of_birth", "Enter your real date of birth.")
            else:
                jurisdiction = jurisdiction_for(country=country, region=region)
                age = age_in_zone(date_of_birth=date_of_birth, time_zone=time_zone)
                if age < jurisdiction.min_age:
                    place = region or country_name(country)
                    raise ValidationError(
                        f"Imagegate is only for adults: you must be at least "
                        f"{jurisdiction.min_age} to sign up in {place}. Nothing you entered "
                        f"has been kept.",
                        code="under_age",
                    )
        return cleaned

    def signup_profile(self) -> dict[str, Any]:
        return {
            "date_of_birth": self.cleaned_data["date_of_birth"],
            "country": self.cleaned_data["country"],
            "region": self.cleaned_data.get("region") or "",
            "time_zone": self.cleaned_data.get("time_zone") or "UTC",
        }


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiScope.READ.value],
    )


class EraseAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(label="I understand that this cannot be undone.", required=True)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError("The password is not correct.")
        return password


class ManualVerificationForm(forms.Form):
    is_verified = forms.TypedChoiceField(
        label="Outcome",
        choices=[("yes", "Verified: old enough"), ("no", "Not verified")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    evidence_note = forms.CharField(
        label="Evidence seen",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What was checked and how; never copy document numbers or the date of birth.",
    )
