"""Reads of the demo app."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from demo import generator

ROLE_LABELS = {
    "superuser": "administrator (superuser)",
    "cx_manager": "CX manager",
    "line_manager": "line manager",
    "viewer": "viewer",
}


def demo_logins() -> list[tuple[str, str, str, str]]:
    """(login, password, role, departments) of each demo user, marked when not seeded yet."""
    user_model = get_user_model()
    existing = {
        user.username: user
        for user in user_model.objects.filter(
            username__in=[spec["username"] for spec in generator.USERS]
        ).prefetch_related("departments", "groups")
    }
    rows = []
    for spec in generator.USERS:
        user = existing.get(spec["username"])
        if user is None:
            rows.append((spec["username"], "-", "not created yet: run seed_demo", ""))
            continue
        if user.is_superuser:
            role = ROLE_LABELS["superuser"]
        else:
            groups = sorted(group.name for group in user.groups.all())
            role = ", ".join(ROLE_LABELS.get(name, name) for name in groups) or "no role"
        departments = ", ".join(sorted(d.name for d in user.departments.all()))  # type: ignore[attr-defined]
        rows.append((spec["username"], generator.DEMO_PASSWORD, role, departments or "-"))
    return rows
