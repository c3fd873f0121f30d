"""Dashboard pages: thin views that parse filters, call selectors and render.

Every page works without JavaScript; with htmx, changing a filter swaps only the
dashboard body and pushes the new URL, so the address bar is always a shareable link.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from cxhub import access
from cxhub.errors import ApplicationError, error_text
from cxhub.redirects import redirect_back
from cxhub.users import request_user
from dashboards import exports, pages, permissions, selectors, services
from dashboards.filters import department_slugs
from dashboards.models import DashboardComment
from feedback.models import Department


def _render(
    request: HttpRequest, template: str, partial: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """The whole page, or only the swapped part for an htmx filter change."""
    htmx = getattr(request, "htmx", None)
    swap = bool(
        htmx
        and not htmx.boosted
        and not htmx.history_restore_request
        and htmx.target == context.get("swap_target")
    )
    name = partial if swap else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _department_or_404(request: HttpRequest, slug: str) -> selectors.DepartmentInfo:
    catalogue = selectors.catalogue_get()
    department = catalogue.department_by_slug(slug)
    if department is None:
        # A department created a moment ago may not be in the cached catalogue yet.
        if not Department.objects.filter(slug=slug).exists():
            raise Http404("No such department.")
        selectors.catalogue_forget()
        department = selectors.catalogue_get().department_by_slug(slug)
        if department is None:
            raise Http404("No such department.")
    if not permissions.user_can_view_department(request.user, department.id):
        raise PermissionDenied(
            "This dashboard is shared with the department's members and CX managers."
        )
    return department


@access.page
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    context = pages.dashboard_context(request, department=None)
    return _render(
        request,
        "dashboards/overview.html",
        "dashboards/partials/dashboard_body.html",
        context,
        status=context["status"],
    )


@access.page
@require_GET
def department(request: HttpRequest, slug: str) -> HttpResponse:
    info = _department_or_404(request, slug)
    context = pages.dashboard_context(request, department=info)
    return _render(
        request,
        "dashboards/department.html",
        "dashboards/partials/dashboard_body.html",
        context,
        status=context["status"],
    )


@access.page
@require_GET
def department_report(request: HttpRequest, slug: str) -> HttpResponse:
    """A one-page printable report of a department's dashboard."""
    info = _department_or_404(request, slug)
    context = pages.dashboard_context(request, department=info, with_comments=False)
    return render(request, "dashboards/report.html", context, status=context["status"])


@access.page
@require_GET
def export_csv(request: HttpRequest, table: str) -> HttpResponseBase:
    """Any dashboard table as CSV, under the same filters as the page it came from."""
    departments = [_department_or_404(request, slug) for slug in department_slugs(request.GET)]
    department = departments[0] if len(departments) == 1 else None
    if table not in exports.TABLES:
        raise Http404(f"No table called {table!r}; choose one of: {', '.join(exports.TABLES)}.")
    return exports.table_csv(request, table=table, department=department)


@access.page
@require_POST
def comment_create(request: HttpRequest) -> HttpResponse:
    """Post a comment or suggestion from a dashboard (htmx swaps the comment list)."""
    department_slug = request.POST.get("department", "")
    department_info = _department_or_404(request, department_slug) if department_slug else None
    department = Department.objects.get(pk=department_info.id) if department_info else None
    errors: dict[str, list[str]] = {}
    try:
        services.dashboard_comment_create(
            author=request_user(request),
            body=request.POST.get("body", ""),
            kind=request.POST.get("kind", DashboardComment.Kind.COMMENT),
            department=department,
            view_query=request.POST.get("view_query", ""),
        )
    except ApplicationError as error:
        if error.status_code == 403:
            raise PermissionDenied(error_text(error)) from error
        errors = error.field_errors
    htmx = getattr(request, "htmx", None)
    if htmx:
        context = pages.comments_context(
            request,
            department=department_info,
            errors=errors,
            body=request.POST.get("body", "") if errors else "",
            view_query=request.POST.get("view_query", ""),
        )
        return render(
            request, "dashboards/partials/comments.html", context, status=400 if errors else 200
        )
    fallback = f"/departments/{department_info.slug}/" if department_info else "/"
    if errors:
        context = pages.comments_context(
            request, department=department_info, errors=errors, body=request.POST.get("body", "")
        )
        return render(request, "dashboards/comment_form_page.html", context, status=400)
    return redirect_back(request, fallback)


@access.page
@require_GET
def comment_list(request: HttpRequest) -> HttpResponse:
    """Every comment and suggestion on every dashboard, for CX managers."""
    if not permissions.user_can_manage_comments(request.user):
        raise PermissionDenied("Only CX managers see all comments in one list.")
    context = pages.comment_inbox_context(request)
    return render(request, "dashboards/comments.html", context, status=context["status"])


@access.page
@require_POST
def comment_status(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_cx_manager(request.user, "Only CX managers can change the status of comments.")
    try:
        services.dashboard_comment_resolve(
            comment_id=pk,
            user=request_user(request),
            status=request.POST.get("status", ""),
        )
    except ApplicationError as error:
        if error.status_code == 403:
            raise PermissionDenied(error_text(error)) from error
        if error.status_code == 404:
            raise Http404(error_text(error)) from error
        context = pages.comment_inbox_context(request, error=error_text(error))
        return render(request, "dashboards/comments.html", context, status=400)
    return redirect_back(request, "/comments/")
