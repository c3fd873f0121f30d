from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from dashboards.models import DashboardComment


@pytest.mark.django_db
def test_a_dashboard_suggestion_prefills_the_new_action_form(client) -> None:  # type: ignore[no-untyped-def]
    """An old suggestion link goes through the evidence builder: the form opens with the
    suggestion's stored words, escaped; words in the address bar are not used."""
    manager = User.objects.create_user("cx-suggest", password="pw-12345678")
    manager.groups.add(Group.objects.get(name="cx_manager"))
    comment = DashboardComment.objects.create(
        author=manager, kind="suggestion", body="Open on Sundays <b>please</b>"
    )
    client.force_login(manager)

    response = client.get(
        "/actions/new/",
        {"from": "suggestion", "id": str(comment.pk), "label": "Forged", "text": "Forged text"},
        follow=True,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Open on Sundays" in page and "Forged" not in page
    assert "<b>please</b>" not in page
    assert "&lt;b&gt;please&lt;/b&gt;" in page
