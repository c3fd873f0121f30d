"""Analysis pages: insights (scores, drivers, value, topic impact, runs), the verbatim
explorer, action impact. Analytics is read through its features' selectors and services."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from actions.models import Action
from actions.permissions import can_create_action
from actions.selectors import action_get
from analytics.impact.effects import action_measurement_note
from analytics.impact.services import MEASURABLE_STATUSES, impact_request
from analytics.insights import selectors as insights_selectors
from analytics.runs import selectors as run_selectors
from analytics.runs.services import run_request
from analytics.text import selectors as text_selectors
from analytics.text.choices import SentimentLabel
from cxhub import access
from cxhub.errors import ApplicationError, InvalidInput, NotFound, error_text
from cxhub.redirects import safe_next_url
from cxhub.users import request_user
from dashboards import charts, impact, pages, permissions, selectors, services
from dashboards.filters import VerbatimForm, department_slugs, filters_parse
from dashboards.views import _render
from feedback.filters import scope_window_label
from feedback.models import Department
from feedback.roles import user_is_cx_manager


def _filters(
    request: HttpRequest,
    *,
    records: bool,
    topics: list[tuple[str, str]] | None = None,
    query: QueryDict | None = None,
) -> tuple[Any, Any, selectors.Catalogue]:
    catalogue = selectors.catalogue_get()
    version = selectors.data_version_get()
    query = request.GET if query is None else query
    slugs = department_slugs(query)
    named = [catalogue.department_by_slug(slug) for slug in slugs]
    single = named[0] if len(named) == 1 else None
    filters, form = filters_parse(
        query,
        options=catalogue.options(department_slug=single.slug if single else ""),
        latest_day=version.latest_day,
        user=request.user,
        records=records,
        topics=topics,
    )
    return filters, form, catalogue


# --- Insights -------------------------------------------------------------------------------

OUTCOMES = {"nps": "NPS (0–10)", "csat": "CSAT (1–5)", "ces": "CES (1–7)"}
INSIGHT_RUN_KINDS = ("drivers", "value", "topic_impact", "scores")
RUN_CHOICES = {
    "all": "Drivers (NPS and CSAT), value of experience and topic impact",
    "drivers": "Driver analysis for the chosen outcome",
    "value": "Value of experience",
    "topic_impact": "Topic impact",
}


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


def _insights_department(request: HttpRequest, slug: str) -> str:
    """The department slug of the page's scope ("" for the organisation); 403 for a
    department the user may not see, a message and the organisation for an unknown one."""
    if not slug:
        return ""
    department = selectors.catalogue_get().department_by_slug(slug)
    if department is None:
        messages.error(request, f"Unknown department '{slug}'; showing the whole organisation.")
        return ""
    if not permissions.user_can_view_department(request.user, department.id):
        raise PermissionDenied("This department's data is shared with its members and CX managers.")
    return slug


def _scores_for(department_slug: str) -> dict[str, Any]:
    """Weekly scores by touchpoint for the scope, the last eight weeks shown."""
    scores = selectors.insights_scores_get(department_slug, selectors.data_version_get())
    return {**scores, "periods": scores.get("periods", [])[-8:]}


@access.page
@require_GET
def insights(request: HttpRequest) -> HttpResponse:
    """Scores, what drives them (quadrant, shares and priorities with intervals), what they
    are worth, topic impact and the recent runs, for the organisation or one department."""
    department_slug = _insights_department(request, request.GET.get("department", ""))
    try:
        scores = _scores_for(department_slug)
    except InvalidInput:
        # The cached catalogue may still list a department that has just been removed.
        messages.error(request, "Unknown department; showing the whole organisation.")
        department_slug = ""
        scores = _scores_for(department_slug)
    outcome = request.GET.get("outcome", "nps")
    if outcome not in OUTCOMES:
        messages.error(request, "Unknown outcome; showing NPS. Choose nps, csat or ces.")
        outcome = "nps"
    driver_filters = {"department": [department_slug]} if department_slug else {}
    drivers_run = insights_selectors.driver_run_latest(outcome=outcome, filters=driver_filters)
    result: dict[str, Any] = drivers_run.result if drivers_run else {}
    points = _driver_points(result)
    value_run = run_selectors.run_latest_matching(kind="value", outcome="nps", filters={})
    topics_run = run_selectors.run_latest_matching(kind="topic_impact", outcome="nps", filters={})
    context: dict[str, Any] = {
        "department_slug": department_slug,
        "departments": [
            d
            for d in selectors.catalogue_get().departments
            if permissions.user_can_view_department(request.user, d.id)
        ],
        "outcome": outcome,
        "outcomes": OUTCOMES,
        "run_choices": RUN_CHOICES,
        "scores": scores,
        "drivers_run": drivers_run,
        "result": result,
        "drivers": pages.driver_rows(result),
        "priority": result.get("priority") or [],
        "charts": [charts.driver_quadrant_chart(dom_id="chart-driver-quadrant", drivers=points)]
        if points
        else [],
        "pending": run_selectors.run_pending_exists(kind="drivers"),
        "value_run": value_run,
        "value": value_run.result if value_run else None,
        "topics_run": topics_run,
        "topics": (topics_run.result.get("topics", [])[:15] if topics_run else []),
        "recent_runs": run_selectors.runs_recent(
            kinds=INSIGHT_RUN_KINDS, user=request.user, limit=8
        ),
        "can_act": can_create_action(request.user),
        "chart_insights": [(f"driver:{point.slug}", f"Driver: {point.label}") for point in points],
        "scores_window": scope_window_label({}),
        "drivers_window": run_selectors.run_window_label(drivers_run),
        "value_window": run_selectors.run_window_label(value_run),
        "topics_window": run_selectors.run_window_label(topics_run),
    }
    return render(request, "dashboards/insights.html", context)


def _insight_runs(
    which: str, outcome: str, department_slug: str
) -> list[tuple[str, dict[str, Any]]]:
    """The runs one "Run analysis" choice queues: driver runs in the page's scope, value of
    experience and topic impact for the whole organisation (what the page shows)."""
    scope = {"filters": {"department": [department_slug]}} if department_slug else {}
    drivers = [("drivers", {"outcome": outcome, **scope})]
    if which == "all":
        drivers = [("drivers", {"outcome": name, **scope}) for name in ("nps", "csat")]
        return [*drivers, ("value", {}), ("topic_impact", {})]
    if which == "drivers":
        return drivers
    return [(which, {})]


@access.page
@require_POST
def insights_run(request: HttpRequest) -> HttpResponseRedirect:
    """A CX manager queues analyses; the page shows them under "Recent runs"."""
    if not user_is_cx_manager(request.user):
        raise PermissionDenied("Only CX managers start analyses.")
    department_slug = request.POST.get("department", "")
    outcome = request.POST.get("outcome", "nps")
    which = request.POST.get("analysis", "all")
    query = urlencode(
        {k: v for k, v in (("department", department_slug), ("outcome", outcome)) if v}
    )
    back = HttpResponseRedirect(reverse("dashboards:insights") + (f"?{query}" if query else ""))
    if which not in RUN_CHOICES or outcome not in OUTCOMES:
        messages.error(
            request,
            f"Choose an analysis ({', '.join(RUN_CHOICES)}) and an outcome ({', '.join(OUTCOMES)}).",
        )
        return back
    started = []
    for kind, parameters in _insight_runs(which, outcome, department_slug):
        try:
            run = run_request(kind=kind, parameters=parameters, requested_by=request_user(request))
        except ApplicationError as error:
            messages.error(request, f"{kind}: the analysis could not start: {error_text(error)}")
        else:
            started.append(f"#{run.pk} {run.get_kind_display().lower()}")
    if started:
        messages.success(
            request, "Analysis queued: " + ", ".join(started) + ". Refresh in a moment."
        )
    return back


# --- Verbatim explorer ----------------------------------------------------------------------


def _verbatim_quotes(request: HttpRequest, filters: Any) -> dict[str, Any]:
    """With one topic chosen, the quotes that sum it up (``topic_quotes_get``): positive
    ones when only positive comments are asked for, negative ones otherwise."""
    slugs = filters.values("topic")
    if len(slugs) != 1:
        return {}
    topic = text_selectors.topic_get(slug=slugs[0])
    stance = (
        SentimentLabel.POSITIVE
        if filters.values("sentiment") == [SentimentLabel.POSITIVE]
        else SentimentLabel.NEGATIVE
    )
    quotes = text_selectors.topic_quotes_get(
        topic_id=topic.pk, stance=stance, scope=filters.scope, user=request.user
    )
    return {"quote_topic": topic, "quote_stance": stance, "quotes": quotes}


@access.page
@require_GET
def verbatims(request: HttpRequest) -> HttpResponse:
    """Search and filter what customers wrote; every comment is shown escaped."""
    topics = selectors.topic_choices_get()
    filters, form, catalogue = _filters(request, records=True, topics=topics)
    explorer = VerbatimForm(request.GET)
    context: dict[str, Any] = {
        "form": form,
        "filters": filters,
        "explorer": explorer,
        "swap_target": "verbatim-results",
        "rows": [],
        "has_next": False,
        "can_correct": user_is_cx_manager(request.user),
        "can_act": can_create_action(request.user),
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
            **_verbatim_quotes(request, filters),
        )
    return _render(
        request,
        "dashboards/verbatims.html",
        "dashboards/partials/verbatim_results.html",
        context,
        status=status,
    )


# --- A topic's page -------------------------------------------------------------------------


@access.page
@require_GET
def topic_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A topic in the window: how often customers mention it and how negatively, per week
    or month with 95% intervals, the NPS points it costs or earns, quotes that agree with
    each side, and its latest comments with their tags (corrected here by CX managers).

    ``sentiment`` filters the comments listed by the mention's sentiment; the other
    parameters are the dashboards' filters, read as the overview reads them."""
    try:
        topic = text_selectors.topic_get(slug=slug)
    except NotFound:
        raise Http404("No such topic.") from None
    sentiment = request.GET.get("sentiment", "")
    if sentiment not in SentimentLabel.values:
        sentiment = ""
    query = request.GET.copy()
    for name in ("sentiment", "topic"):
        query.pop(name, None)
    filters, form, catalogue = _filters(request, records=False, query=query)
    mentions = text_selectors.topic_verbatims(
        topic=topic, user=request.user, sentiment=sentiment or None, limit=50
    )
    tags = text_selectors.response_topics_map(response_ids=[m.response_id for m in mentions])
    context: dict[str, Any] = {
        "topic": topic,
        "rows": [
            {"mention": m, "response": m.response, "tags": tags.get(m.response_id, [])}
            for m in mentions
        ],
        "sentiment": sentiment,
        "sentiments": SentimentLabel.choices,
        "topics": text_selectors.topic_choices(),
        "can_edit": user_is_cx_manager(request.user),
        "can_act": can_create_action(request.user),
        "form": form,
        "filters": filters,
    }
    if filters is None:
        return render(request, "analytics/topics_verbatims.html", context, status=400)
    version = selectors.data_version_get()
    figures = selectors.response_figures_get(filters, catalogue, version)
    trend = text_selectors.topic_trend_get(
        topic=topic,
        scope=filters.scope,
        period=text_selectors.trend_period(date_from=filters.date_from, date_to=filters.date_to),
        version=version,
    )
    context.update(
        total=figures.breakdown.total,
        figure=selectors.topic_figure_get(
            filters, topic.pk, figures.breakdown.total_counts, version=version
        ),
        trend=trend,
        charts=pages.topic_trend_charts(topic_name=topic.name, trend=trend),
        quotes={
            stance: text_selectors.topic_quotes_get(
                topic_id=topic.pk,
                stance=stance,
                scope=filters.scope,
                user=request.user,
                version=version,
            )
            for stance in text_selectors.QUOTE_STANCES
        },
        filter_query=filters.as_query(),
        min_responses=selectors.min_responses(),
    )
    return render(request, "analytics/topics_verbatims.html", context)


# --- Action impact --------------------------------------------------------------------------


@access.page
@require_GET
def impact_list(request: HttpRequest) -> HttpResponse:
    """Every implemented action the user can see, its measured effects per metric and
    method, the verdict, and the roll-up of their money value; one department or all."""
    departments = list(Department.objects.order_by("name").only("slug", "name"))
    slug = request.GET.get("department") or None
    if slug is not None and slug not in {d.slug for d in departments}:
        messages.error(request, f"Unknown department '{slug}'; showing the whole organisation.")
        slug = None
    chosen = next((d for d in departments if d.slug == slug), None)
    access.require_department(request.user, chosen.pk if chosen else None)
    departments = [
        d for d in departments if access.access_for(request.user).may_see_department(d.pk)
    ]
    actions = impact.impact_actions(user=request.user, department_slug=slug)
    context = impact.impact_list_context(actions=actions, department_slug=slug)
    context.update(
        departments=departments, department=slug or "", chosen_name=chosen.name if chosen else ""
    )
    return render(request, "dashboards/impact_list.html", context)


def _visible_action(request: HttpRequest, pk: int) -> Action:
    try:
        return action_get(user=request.user, action_id=pk)
    except NotFound:
        raise Http404("No such action, or it is not visible to you.") from None


def _can_estimate(request: HttpRequest, action: Action) -> bool:
    return user_is_cx_manager(request.user) or action.owner_id == request.user.pk


def _proof_context(request: HttpRequest, action: Action) -> dict[str, Any]:
    if action.status not in MEASURABLE_STATUSES:
        # Nothing is estimated before implementation: only when it will be (no query).
        return {
            "action": action,
            "summary": {"metrics": [], "history": []},
            "charts": [],
            "can_estimate": False,
            "measurement_note": action_measurement_note(action),
        }
    context = impact.impact_detail_context(action=action)
    context["can_estimate"] = (
        _can_estimate(request, action) and action.status in MEASURABLE_STATUSES
    )
    context["measurement_note"] = action_measurement_note(action)
    return context


def action_proof_section(request: HttpRequest, action: Action) -> SafeString:
    """The action page's "What it achieved" section (registered with ``actions.effects``):
    every estimate with its interval, value and ROI, the method in words, the KPI chart."""
    return SafeString(
        render_to_string(
            "dashboards/partials/action_proof.html", _proof_context(request, action), request
        )
    )


@access.page
@require_GET
def impact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One action's estimates per metric with intervals, its KPI series before and after in
    scope and control scope, earlier estimates, and "Re-estimate now" for those allowed
    (the same section as the action page, under Impact)."""
    action = _visible_action(request, pk)
    return render(request, "dashboards/impact_detail.html", _proof_context(request, action))


@access.page
@require_POST
def impact_estimate(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """Queue a re-estimation (CX managers and the action's owner) and come back to the page."""
    access.require_writer(request.user)
    action = _visible_action(request, pk)
    if not _can_estimate(request, action):
        raise PermissionDenied("Only CX managers and the action's owner may re-estimate.")
    if action.status not in MEASURABLE_STATUSES:
        messages.error(request, "Impact is measured once the action is implemented.")
    else:
        run = impact_request(action=action, requested_by=request_user(request))
        messages.success(request, f"Re-estimation queued (run #{run.pk}); reload in a moment.")
    return HttpResponseRedirect(reverse("dashboards:impact-detail", args=[action.pk]))


# --- Evidence for a new action ------------------------------------------------------------


@access.page
@require_http_methods(["GET", "POST"])
def evidence_new(request: HttpRequest) -> HttpResponse:
    """ "Create action" on an insight: the server looks the insight up (its figure with the
    interval, the analysis run, supporting verbatims), keeps it as the user's evidence draft
    and opens the create form on it. Only the insight's kind and reference are read from the
    request (and, for a driver, which analysis: outcome and department); GET serves the old
    ``/actions/new/?from=…`` links, whose figures are dropped."""
    if not can_create_action(request.user):
        raise PermissionDenied("Only a CX manager can create actions.")
    data = request.POST if request.method == "POST" else request.GET
    kind, reference = data.get("kind", ""), data.get("reference", "")
    if data.get("insight"):  # a chart element chosen from a list: "topic:wait-time"
        kind, _, reference = data["insight"].partition(":")
    try:
        draft = services.evidence_draft_build(
            created_by=request_user(request),
            kind=kind,
            reference=reference,
            outcome=data.get("outcome", "") or "nps",
            department=data.get("department", ""),
        )
    except NotFound as error:
        raise Http404(error_text(error)) from None
    except InvalidInput as error:
        return render(
            request,
            "dashboards/evidence_error.html",
            {"error": error, "back": safe_next_url(request, reverse("actions:create"))},
            status=400,
        )
    return HttpResponseRedirect(reverse("actions:create") + f"?evidence={draft.pk}")
