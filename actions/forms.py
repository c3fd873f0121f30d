"""Forms of the action pages (parsing only; rules live in services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from actions.models import (
    AlertStatus,
    ContactChannel,
    ContactOutcome,
    NotificationPreference,
)
from actions.selectors import AlertFilters, customer_attribute_values, kpi_choices, line_managers
from actions.services import AlertContactRecord
from feedback.models import Department, Touchpoint

User = get_user_model()

KPI_ROWS_BLANK = 2
"""Empty target-KPI rows offered below the chosen ones (at least three rows in all)."""


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


class ActionEditForm(forms.Form):
    """The fields a CX manager may change after creation."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    department = forms.ModelChoiceField(queryset=Department.objects.all(), to_field_name="slug")
    due_date = forms.DateField(required=False, widget=DateInput())
    cost_estimate = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    currency = forms.RegexField(regex=r"^[A-Za-z]{3}$", initial="EUR", max_length=3)
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_kpi_rows()
        present = customer_attribute_values()
        if present:
            hint = "; ".join(f"{key}={','.join(values)}" for key, values in present.items())
            self.attribute_hint = f"Values in the data: {hint}"
            for name in ("scope_attributes", "control_attributes"):
                self.fields[
                    name
                ].help_text = (
                    "Customer attributes as attribute=value1,value2; separate attributes with ;."
                )
                self.fields[name].widget.attrs["list"] = "attribute-filter-examples"
        self.attribute_examples = [
            f"{key}={value}" for key, values in present.items() for value in values
        ]

    # --- target KPIs: one row a KPI, chosen from the KPIs that exist --------------------------

    def _add_kpi_rows(self) -> None:
        """Rows ``kpi_<i>`` (a choice of the existing KPIs), ``kpi_change_<i>`` and
        ``kpi_unit_<i>``; KPIs an action already targets stay choosable even if removed."""
        existing = list(self.initial.get("target_kpis_list") or [])
        known = {choice["slug"]: choice for choice in kpi_choices()}
        self.kpi_units = {slug: choice["unit"] for slug, choice in known.items()}
        choices = [("", "— no KPI —")] + [
            (slug, f"{choice['label']} ({slug})") for slug, choice in known.items()
        ]
        for item in existing:
            if item.get("kpi") and item["kpi"] not in known:
                choices.append((item["kpi"], f"{item['kpi']} (no longer a KPI)"))
        if self.is_bound:
            indices = [
                int(key.removeprefix("kpi_"))
                for key in self.data
                if key.startswith("kpi_") and key.removeprefix("kpi_").isdigit()
            ]
            rows = max([len(existing) + KPI_ROWS_BLANK, 3, *(i + 1 for i in indices)])
            posted = {str(self.data.get(f"kpi_{index}") or "") for index in indices}
            for slug in sorted(posted - {c for c, _ in choices} - {""}):
                choices.append((slug, slug))  # refused in clean() with a message
        else:
            rows = max(len(existing) + KPI_ROWS_BLANK, 3)
        self.kpi_row_names = []
        for index in range(min(rows, 20)):
            item = existing[index] if index < len(existing) else {}
            self.fields[f"kpi_{index}"] = forms.ChoiceField(
                choices=choices, required=False, label="KPI", initial=item.get("kpi", "")
            )
            self.fields[f"kpi_change_{index}"] = forms.FloatField(
                required=False,
                label="Expected change",
                initial=item.get("expected_change"),
                widget=forms.NumberInput(attrs={"step": "any"}),
            )
            self.fields[f"kpi_unit_{index}"] = forms.CharField(
                required=False,
                max_length=32,
                label="Unit",
                initial=item.get("unit", ""),
                help_text="Empty: the KPI's own unit.",
            )
            self.kpi_row_names.append((f"kpi_{index}", f"kpi_change_{index}", f"kpi_unit_{index}"))

    @property
    def kpi_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [(self[k], self[c], self[u]) for k, c, u in self.kpi_row_names]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        known = {choice["slug"] for choice in kpi_choices()}
        existing = {item.get("kpi") for item in self.initial.get("target_kpis_list") or []}
        targets: list[dict[str, Any]] = []
        for kpi_name, change_name, unit_name in self.kpi_row_names:
            slug = cleaned.pop(kpi_name, "") or ""
            change = cleaned.pop(change_name, None)
            unit = (cleaned.pop(unit_name, "") or "").strip()
            if not slug:
                if change is not None:
                    self.add_error(kpi_name, "Choose the KPI this change is expected on.")
                continue
            if slug not in known and slug not in existing:
                self.add_error(kpi_name, f"“{slug}” is not a KPI; choose one from the list.")
                continue
            if change is None:
                self.add_error(change_name, "Enter the expected change (a number).")
                continue
            targets.append(
                {
                    "kpi": slug,
                    "expected_change": change,
                    "unit": unit or self.kpi_units.get(slug, ""),
                }
            )
        cleaned["target_kpis"] = targets
        return cleaned

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
            "target_kpis_list": list(action.target_kpis or []),
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
    # The id of the evidence the server built for the insight (an EvidenceDraft of the
    # user); the evidence itself is never taken from the form.
    evidence = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = line_managers()  # type: ignore[attr-defined]


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
