"""Analysis pages: driver quadrant and priorities, the verbatim explorer, action impact."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from analytics.models import AnalysisRun, Topic
from analytics.runs.services import run_request
from analytics.text.services import tag_correct
from cxhub.errors import ApplicationError, error_text
from cxhub.redirects import redirect_back
from cxhub.users import request_user
from dashboards import charts, impact, pages, permissions, selectors
from dashboards.filters import VerbatimForm, department_slugs, filters_parse
from dashboards.views import _render
from feedback.filters import scope_window_label
from feedback.models import Response
from feedback.roles import user_is_cx_manager


def _filters(
    request: HttpRequest, *, topics: list[tuple[str, str]] | None = None
) -> tuple[Any, Any, selectors.Catalogue]:
    catalogue = selectors.catalogue_get()
    version = selectors.data_version_get()
    slugs = department_slugs(request.GET)
    named = [catalogue.department_by_slug(slug) for slug in slugs]
    for department in named:
        if department is not None and not permissions.user_can_view_department(
            request.user, department.id
        ):
            raise PermissionDenied(
                "This department's data is shared with its members and CX managers."
            )
    single = named[0] if len(named) == 1 else None
    filters, form = filters_parse(
        request.GET,
        options=catalogue.options(department_slug=single.slug if single else ""),
        latest_day=version.latest_day,
        topics=topics,
    )
    return filters, form, catalogue


# --- Drivers --------------------------------------------------------------------------------


def _driver_points(result: dict[str, Any]) -> list[charts.DriverPoint]:
    points = []
    for driver in result.get("drivers") or []:
        interval = driver.get("share_interval") or [None, None]
        points.append(
            charts.DriverPoint(
                slug=str(driver.get("slug", "")),
                label=str(driver.get("label", driver.get("slug", ""))),
                share=float(driver.get("share") or 0.0),
                low=interval[0],
                high=interval[1],
                performance=float(driver.get("performance") or 0.0),
            )
        )
    return points


@login_required
@require_http_methods(["GET", "POST"])
def drivers(request: HttpRequest) -> HttpResponse:
    """Which drivers move the score: quadrant, shares with intervals, a priority list."""
    department_slug = request.GET.get("department", "") or request.POST.get("department", "")
    if request.method == "POST":
        if not user_is_cx_manager(request.user):
            raise PermissionDenied("Only CX managers start analyses.")
        parameters: dict[str, Any] = {
            "outcome": request.POST.get("outcome", "nps"),
            "filters": {"department": [department_slug]} if department_slug else {},
        }
        try:
            started = run_request(
                kind=AnalysisRun.Kind.DRIVERS,
                parameters=parameters,
                requested_by=request_user(request),
            )
            messages.success(
                request, f"Driver analysis #{started.pk} started; refresh in a moment."
            )
        except ApplicationError as error:
            messages.error(request, f"The analysis could not start: {error_text(error)}")
        query = urlencode({"department": department_slug}) if department_slug else ""
        return HttpResponseRedirect(request.path + (f"?{query}" if query else ""))
    filters, form, catalogue = _filters(request)
    outcome = request.GET.get("outcome", "nps")
    if outcome not in {"nps", "csat", "ces"}:
        outcome = "nps"
        messages.error(request, "Unknown outcome; showing NPS. Choose nps, csat or ces.")
    run = selectors.driver_run_latest(department_slug=department_slug, outcome=outcome)
    result: dict[str, Any] = run.result if run else {}
    points = _driver_points(result)
    context: dict[str, Any] = {
        "form": form,
        "filters": filters,
        "run": run,
        "run_window": scope_window_label((run.parameters or {}).get("filters") or {})
        if run
        else "",
        "result": result,
        "drivers": pages.driver_rows(result),
        "priority": result.get("priority") or [],
        "department_slug": department_slug,
        "outcome": outcome,
        "departments": catalogue.departments,
        "can_act": user_is_cx_manager(request.user),
        "charts": [charts.driver_quadrant_chart(dom_id="chart-driver-quadrant", drivers=points)]
        if points
        else [],
        "pending": AnalysisRun.objects.filter(
            kind=AnalysisRun.Kind.DRIVERS,
            status__in=[AnalysisRun.Status.QUEUED, AnalysisRun.Status.RUNNING],
        ).exists(),
    }
    return render(request, "dashboards/drivers.html", context)


# --- Verbatim explorer ----------------------------------------------------------------------


@login_required
@require_GET
def verbatims(request: HttpRequest) -> HttpResponse:
    """Search and filter what customers wrote; every comment is shown escaped."""
    topics = selectors.topic_choices_get()
    filters, form, catalogue = _filters(request, topics=topics)
    explorer = VerbatimForm(request.GET)
    context: dict[str, Any] = {
        "form": form,
        "filters": filters,
        "explorer": explorer,
        "swap_target": "verbatim-results",
        "rows": [],
        "has_next": False,
        "can_correct": user_is_cx_manager(request.user),
        "topics": [("", "Any topic"), *topics],
    }
    status = 200
    if filters is None or not explorer.is_valid():
        status = 400
    else:
        data = explorer.cleaned_data
        query = selectors.VerbatimQuery(search=data.get("q") or "", page=data.get("page") or 1)
        rows, has_next = selectors.verbatims_get(filters, catalogue, query)
        params = request.GET.copy()
        params.pop("page", None)
        context.update(
            rows=rows,
            has_next=has_next,
            page=query.page,
            base_query=params.urlencode(),
        )
    return _render(
        request,
        "dashboards/verbatims.html",
        "dashboards/partials/verbatim_results.html",
        context,
        status=status,
    )


# --- Action impact --------------------------------------------------------------------------


@login_required
@require_GET
def impact_list(request: HttpRequest) -> HttpResponse:
    """Implemented and measured actions with their measured effects and money value."""
    context = impact.impact_list_context(request)
    return render(request, "dashboards/impact_list.html", context)


@login_required
@require_GET
def impact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One action's KPI series before/after, in its scope and its control scope."""
    context = impact.impact_detail_context(request, pk)
    if context is None:
        raise Http404("No such action.")
    return render(request, "dashboards/impact_detail.html", context)


@login_required
@require_http_methods(["POST"])
def tag_correct_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A CX manager adds or removes a topic on one comment; corrections win over rules."""
    if not user_is_cx_manager(request.user):
        raise PermissionDenied("Only CX managers correct tags.")
    response = Response.objects.filter(pk=pk).first()
    topic = Topic.objects.filter(slug=request.POST.get("topic", "")).first()
    if response is None:
        raise Http404("No such response.")
    error = ""
    if topic is None:
        error = "Choose a topic from the list."
    else:
        raw_sentiment = request.POST.get("sentiment", "")
        try:
            sentiment = float(raw_sentiment) if raw_sentiment not in ("", None) else None
            tag_correct(
                response=response,
                topic=topic,
                action=request.POST.get("action", ""),
                corrected_by=request_user(request),
                sentiment=sentiment if request.POST.get("action") == "add" else None,
            )
        except ValueError:
            error = "Sentiment must be a number between -1 and 1."
        except ApplicationError as exc:
            error = error_text(exc)
    row = (
        Response.objects.filter(pk=pk)
        .select_related("touchpoint", "analysis")
        .prefetch_related("topic_mentions__topic")
        .get()
    )
    context = {
        "response": row,
        "can_correct": True,
        "topics": [("", "Any topic"), *selectors.topic_choices_get()],
        "correction_error": error,
        "corrected": not error,
    }
    if getattr(request, "htmx", None):
        return render(
            request, "dashboards/partials/verbatim_item.html", context, status=400 if error else 200
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Tags corrected.")
    return redirect_back(request, "/verbatims/")
