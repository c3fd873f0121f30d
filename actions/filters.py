"""Filters of the action list, shared by the API and the actions board."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from actions.models import Action, ActionStatus
from actions.selectors import OPEN_STATUSES
from feedback.models import Department


class ActionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ActionStatus.choices, empty_label="Any")
    department = django_filters.ModelChoiceFilter(
        field_name="department",
        to_field_name="slug",
        queryset=Department.objects.all(),
        empty_label="Any",
        help_text="Department slug.",
    )
    owner = django_filters.NumberFilter(field_name="owner_id", help_text="Owner's user id.")
    overdue = django_filters.ChoiceFilter(
        choices=[("true", "Overdue only"), ("false", "Not overdue")],
        method="filter_overdue",
        empty_label="Any",
        help_text="true: open and past the due date; false: the others.",
    )

    class Meta:
        model = Action
        fields = ["status", "department", "owner", "overdue"]

    def filter_overdue(self, queryset: QuerySet[Action], name: str, value: str) -> QuerySet[Action]:
        if not value:
            return queryset
        late = {"status__in": OPEN_STATUSES, "due_date__lt": timezone.localdate()}
        return queryset.filter(**late) if value == "true" else queryset.exclude(**late)
