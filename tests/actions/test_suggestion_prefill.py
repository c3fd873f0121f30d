from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User


@pytest.mark.django_db
def test_a_dashboard_suggestion_prefills_the_new_action_form(client) -> None:  # type: ignore[no-untyped-def]
    """Turning a suggestion into an action opens the form with its words, escaped."""
    manager = User.objects.create_user("cx-suggest", password="pw-12345678")
    manager.groups.add(Group.objects.get(name="cx_manager"))
    client.force_login(manager)

    response = client.get(
        "/actions/new/",
        {
            "from": "suggestion",
            "id": "1",
            "label": "Open on Sundays",
            "text": "Open on Sundays <b>please</b>",
        },
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Unknown insight" not in page
    assert "Open on Sundays" in page
    assert "<b>please</b>" not in page
    assert "&lt;b&gt;please&lt;/b&gt;" in page
