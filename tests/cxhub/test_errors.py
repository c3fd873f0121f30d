"""The one way a domain error becomes readable text on pages and in CLI commands."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from cxhub.errors import ApplicationError, Forbidden, InvalidInput, error_text


def test_error_text_joins_every_field_message_in_order() -> None:
    """Messages of all fields appear once each, in the order the service gave them."""
    error = InvalidInput(
        "Invalid action.",
        field_errors={"title": ["A title is required."], "owner": ["Pick a line manager.", "x"]},
    )

    assert error_text(error) == "A title is required. Pick a line manager. x"


def test_error_text_of_an_error_without_fields_is_its_message() -> None:
    """A plain domain error reads as its message; an empty one as the generic sentence."""
    assert error_text(Forbidden("Only CX managers may do this.")) == "Only CX managers may do this."
    assert error_text(ApplicationError()) == "Invalid request."
    assert error_text(ApplicationError("Kept.", field_errors={"x": []})) == "Kept."


@pytest.mark.django_db
def test_cli_commands_show_the_same_text() -> None:
    """A command that a service refuses stops with the error's text, not a dict."""
    with pytest.raises(CommandError) as raised:
        call_command("create_api_key", "--source", "   ")

    assert str(raised.value) == "A source name is required."
