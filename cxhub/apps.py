"""Django's admin app, with CXHub's site (``cxhub.admin``) as the default ``admin.site``."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class CXHubAdminConfig(AdminConfig):
    default_site = "cxhub.admin.CXHubAdminSite"
