"""The one tag-correction form, shared by the verbatim explorer and the topic pages."""

from __future__ import annotations

from typing import Any

from django import forms

from analytics.text.models import TagCorrection


class TagCorrectionForm(forms.Form):
    """Parses a correction; the rules (sentiment range, no sentiment on a removal, the topic
    being on the response) are the service's, so every surface applies the same ones."""

    topic = forms.ChoiceField(error_messages={"required": "Choose a topic from the list."})
    action = forms.ChoiceField(choices=TagCorrection.Action.choices)
    sentiment = forms.FloatField(
        required=False, error_messages={"invalid": "Sentiment must be a number from -1 to 1."}
    )
    note = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, topics: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = topics  # type: ignore[attr-defined]
        self.fields["topic"].error_messages["invalid_choice"] = "Choose a topic from the list."
