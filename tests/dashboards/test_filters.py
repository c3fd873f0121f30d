"""The filter bar's selects: remembered HTML is the HTML Django's widget draws."""

from __future__ import annotations

from django import forms

from dashboards.filters import FilterSelect

CHOICES = [("", "Any topic"), ("wait", "Wait <time> & more"), ("staff", "Staff")]


def test_a_remembered_select_is_the_html_djangos_select_draws() -> None:
    """For each value (none, one, unknown), with and without attributes, the same bytes."""
    for value in (None, "", "wait", "staff", "nothing-like-it"):
        for attrs in (None, {"id": "id_topic"}, {"id": "other", "aria-invalid": "true"}):
            expected = forms.Select(choices=CHOICES).render("topic", value, attrs)
            remembered = FilterSelect(choices=CHOICES)

            assert remembered.render("topic", value, attrs) == expected
            assert remembered.render("topic", value, attrs) == expected  # from memory


def test_another_value_or_other_choices_are_not_served_from_memory() -> None:
    """The chosen option moves with the value; a renamed choice shows its new name."""
    select = FilterSelect(choices=CHOICES)
    first = select.render("topic", "wait", {"id": "id_topic"})
    second = select.render("topic", "staff", {"id": "id_topic"})
    renamed = FilterSelect(choices=[*CHOICES[:2], ("staff", "People")])

    assert '<option value="wait" selected>' in first
    assert '<option value="staff" selected>' in second
    assert "People" in renamed.render("topic", "staff", {"id": "id_topic"})
