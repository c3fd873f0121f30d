"""Forms of the action pages (parsing only; rules live in services)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from actions.models import (
    AlertStatus,
    ContactChannel,
    ContactOutcome,
    InsightKind,
    NotificationPreference,
)
from actions.selectors import AlertFilters, line_managers
from actions.services import AlertContactRecord
from feedback.models import Department, Touchpoint

User = get_user_model()

EVIDENCE_FIGURE_KEYS = ("share", "performance", "comments", "mentions", "sentiment", "nps_impact")


class DateInput(forms.DateInput):
    """A browser date picker. Its value must be ISO (``2027-01-01``) whatever the locale: an
    ``<input type=date>`` given ``01/01/2027`` shows empty, and saving then loses the date."""

    input_type = "date"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)  # type: ignore[arg-type]


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.get_username())


def parse_attribute_filter(text: str) -> dict[str, list[str]]:
    """``region=north,south; plan=premium`` → ``{"region": ["north", "south"], ...}``."""
    result: dict[str, list[str]] = {}
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise forms.ValidationError(
                f"“{part}” is not of the form attribute=value1,value2 (separate attributes with ;)."
            )
        key, _, values = part.partition("=")
        cleaned = [v.strip() for v in values.split(",") if v.strip()]
        if not key.strip() or not cleaned:
            raise forms.ValidationError(f"“{part}” needs an attribute name and at least one value.")
        result[key.strip()] = cleaned
    return result


def format_attribute_filter(value: dict[str, list[str]]) -> str:
    return "; ".join(f"{key}={','.join(values)}" for key, values in value.items())


def parse_target_kpis(text: str) -> list[dict[str, Any]]:
    """One KPI per line: ``churn-rate, -0.5, pp``."""
    rows: list[dict[str, Any]] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 2:
            raise forms.ValidationError(
                f"Line {number}: write “kpi-slug, expected change, unit”, e.g. “churn-rate, -0.5, pp”."
            )
        try:
            change = float(parts[1].replace("−", "-"))
        except ValueError:
            raise forms.ValidationError(
                f"Line {number}: the expected change “{parts[1]}” is not a number."
            ) from None
        rows.append(
            {"kpi": parts[0], "expected_change": change, "unit": parts[2] if len(parts) > 2 else ""}
        )
    return rows


class ActionEditForm(forms.Form):
    """The fields a CX manager may change after creation."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    department = forms.ModelChoiceField(queryset=Department.objects.all(), to_field_name="slug")
    due_date = forms.DateField(required=False, widget=DateInput())
    cost_estimate = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    currency = forms.RegexField(regex=r"^[A-Za-z]{3}$", initial="EUR", max_length=3)
    target_kpis = forms.CharField(
        required=False,
        label="Target KPIs",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "churn-rate, -0.5, pp"}),
        help_text="One per line: KPI slug, expected change, unit.",
    )
    scope_touchpoints = forms.ModelMultipleChoiceField(
        queryset=Touchpoint.objects.all(), required=False, to_field_name="slug"
    )
    scope_departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.all(), required=False, to_field_name="slug"
    )
    scope_attributes = forms.CharField(
        required=False,
        help_text="Customer attributes, e.g. region=north,south; plan=premium",
    )
    control_touchpoints = forms.ModelMultipleChoiceField(
        queryset=Touchpoint.objects.all(), required=False, to_field_name="slug"
    )
    control_departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.all(), required=False, to_field_name="slug"
    )
    control_attributes = forms.CharField(required=False)
    cross_department = forms.BooleanField(
        required=False, label="Shared with every department (organisation-wide action)"
    )

    def clean_target_kpis(self) -> list[dict[str, Any]]:
        return parse_target_kpis(self.cleaned_data.get("target_kpis", ""))

    def clean_scope_attributes(self) -> dict[str, list[str]]:
        return parse_attribute_filter(self.cleaned_data.get("scope_attributes", ""))

    def clean_control_attributes(self) -> dict[str, list[str]]:
        return parse_attribute_filter(self.cleaned_data.get("control_attributes", ""))

    @classmethod
    def initial_for(cls, action: Any) -> dict[str, Any]:
        return {
            "title": action.title,
            "description": action.description,
            "department": action.department.slug,
            "due_date": action.due_date,
            "cost_estimate": action.cost_estimate,
            "currency": action.currency,
            "target_kpis": "\n".join(
                f"{k['kpi']}, {k['expected_change']:g}, {k.get('unit', '')}".rstrip(", ")
                for k in action.target_kpis
            ),
            "scope_touchpoints": [t.slug for t in action.scope_touchpoints.all()],
            "scope_departments": [d.slug for d in action.scope_departments.all()],
            "scope_attributes": format_attribute_filter(action.scope_attributes),
            "control_touchpoints": [t.slug for t in action.control_touchpoints.all()],
            "control_departments": [d.slug for d in action.control_departments.all()],
            "control_attributes": format_attribute_filter(action.control_attributes),
            "cross_department": action.cross_department,
        }


class ActionForm(ActionEditForm):
    """Creation: the editable fields plus the owner and the insight it comes from."""

    owner = UserChoiceField(queryset=User.objects.none(), help_text="A line manager.")
    insight_kind = forms.ChoiceField(
        choices=InsightKind.choices, initial=InsightKind.SCRATCH, widget=forms.HiddenInput
    )
    evidence_reference = forms.CharField(required=False, widget=forms.HiddenInput)
    evidence_label = forms.CharField(required=False, widget=forms.HiddenInput)
    evidence_figures = forms.CharField(required=False, widget=forms.HiddenInput)
    alert = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = line_managers()  # type: ignore[attr-defined]

    def clean_evidence_figures(self) -> dict[str, Any]:
        raw = self.cleaned_data.get("evidence_figures") or ""
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise forms.ValidationError("The evidence figures are not valid JSON.") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("The evidence figures must be an object.")
        return value


class DeclineForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class CancelForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, required=False
    )


class ImplementForm(forms.Form):
    implemented_at = forms.DateField(widget=DateInput())


class ReassignForm(forms.Form):
    owner = UserChoiceField(queryset=User.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = line_managers()  # type: ignore[attr-defined]


class UpdateForm(forms.Form):
    progress = forms.IntegerField(min_value=0, max_value=100, required=False)
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=10_000
    )


class DateTimeInput(forms.DateTimeInput):
    """A browser date-and-time picker; its value is ISO (``2026-12-04T18:30``) in any locale."""

    input_type = "datetime-local"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)  # type: ignore[arg-type]


ALERT_STATUS_CHOICES = [*AlertStatus.choices, ("all", "All")]


class AlertFilterForm(forms.Form):
    """The queue's filters, each a choice from the data the user may see."""

    status = forms.ChoiceField(choices=ALERT_STATUS_CHOICES, required=False)
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label="All departments",
    )
    touchpoint = forms.ModelChoiceField(
        queryset=Touchpoint.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label="All touchpoints",
    )
    assignee = forms.ChoiceField(required=False)
    overdue = forms.BooleanField(required=False, label="Overdue only")

    def __init__(
        self,
        *args: Any,
        departments: Any,
        touchpoints: Any,
        assignees: list[Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]
        self.fields["touchpoint"].queryset = touchpoints  # type: ignore[attr-defined]
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            ("", "Anyone"),
            ("none", "Nobody yet"),
            *[(str(u.pk), u.get_full_name() or u.get_username()) for u in assignees],
        ]

    def filters(self) -> AlertFilters:
        data = self.cleaned_data
        status = data.get("status") or AlertStatus.OPEN
        assignee = data.get("assignee") or ""
        return AlertFilters(
            status=None if status == "all" else status,
            department=data["department"].slug if data.get("department") else None,
            touchpoint=data["touchpoint"].slug if data.get("touchpoint") else None,
            assignee=0 if assignee == "none" else (int(assignee) if assignee else None),
            overdue=bool(data.get("overdue")),
        )


class AlertContactForm(forms.Form):
    """One contact with the customer (when, how, what came of it, a note)."""

    contacted_at = forms.DateTimeField(label="Contacted at", widget=DateTimeInput())
    channel = forms.ChoiceField(label="How", choices=[("", "—"), *ContactChannel.choices])
    outcome = forms.ChoiceField(label="Outcome", choices=[("", "—"), *ContactOutcome.choices])
    contact_note = forms.CharField(
        label="What was said",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
    )

    def record(self) -> AlertContactRecord:
        data = self.cleaned_data
        return AlertContactRecord(
            contacted_at=data["contacted_at"],
            channel=data["channel"],
            outcome=data["outcome"],
            note=data.get("contact_note") or "",
        )


class AlertCloseForm(AlertContactForm):
    """Closing an alert: a contact record (optional only when the alert already has one) and a
    closing note. The service decides whether a record is needed."""

    note = forms.CharField(
        label="Closing note",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("contacted_at", "channel", "outcome"):
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given = [name for name in ("channel", "outcome") if data.get(name)]
        if given:
            for name in ("contacted_at", "channel", "outcome"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, "Needed for the contact record.")
        return data

    def record_or_none(self) -> AlertContactRecord | None:
        return self.record() if self.cleaned_data.get("channel") else None


class NotificationPreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = [
            "assigned",
            "accepted",
            "declined",
            "due_soon",
            "overdue",
            "digest",
            "alert",
            "email",
        ]
        labels = {
            "assigned": "An action is assigned to me",
            "accepted": "An action I created is accepted",
            "declined": "An action I created is declined",
            "due_soon": "My action is due in 3 days",
            "overdue": "My action is overdue (daily)",
            "digest": "Weekly digest of my open actions",
            "alert": "Unhappy customer alerts for my departments",
            "email": "Also send these by e-mail",
        }
