"""The admin site, with CXHub's readiness on its index page.

The checks are those of ``/readyz/`` (``cxhub.health.readiness_get``), so the admin and the
load balancer never disagree.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from cxhub.health import readiness_get


class CXHubAdminSite(admin.AdminSite):
    index_template = "admin/cxhub_index.html"

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        readiness = readiness_get()
        context = {
            **(extra_context or {}),
            "readiness": readiness,
            "readiness_checks": readiness.checks,
        }
        return super().index(request, extra_context=context)
