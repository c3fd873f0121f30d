"""Text analytics pages: the taxonomy with counts, verbatims per topic with tag correction,
and theme proposals. Plain server-rendered forms; every comment is escaped by the templates.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from actions.permissions import can_create_action
from analytics.responses.cache import data_version_get
from analytics.runs.models import AnalysisRun
from analytics.runs.services import run_request
from analytics.text import selectors as text_selectors
from analytics.text import services as text_services
from analytics.text.forms import TagCorrectionForm
from analytics.text.models import ThemeProposal, Topic
from cxhub import access
from cxhub.errors import ApplicationError, InvalidInput, error_text
from cxhub.redirects import redirect_back
from cxhub.users import request_user
from feedback.filters import scope_days
from feedback.models import Response
from feedback.roles import user_is_cx_manager

FILTER_NAMES = ("department", "touchpoint", "channel")
"""The filters the Topics page offers as choices; any other scope parameter also works."""


def _require_cx_manager(request: HttpRequest) -> None:
    if not user_is_cx_manager(request.user):
        raise PermissionDenied("Only CX managers can change topics and tags.")


@access.page
@require_http_methods(["GET", "POST"])
def topics_page(request: HttpRequest) -> HttpResponse:
    """The taxonomy with counts and sentiment; CX managers add a topic here."""
    if request.method == "POST":
        _require_cx_manager(request)
        keywords = [k.strip() for k in request.POST.get("keywords", "").split(",") if k.strip()]
        parent_slug = request.POST.get("parent", "")
        try:
            parent = Topic.objects.filter(slug=parent_slug).first() if parent_slug else None
            if parent_slug and parent is None:
                raise ApplicationError(f"Unknown parent topic '{parent_slug}'.")
            topic = text_services.topic_create(
                name=request.POST.get("name", ""),
                keywords=keywords,
                parent=parent,
                description=request.POST.get("description", ""),
                created_by=request.user,  # type: ignore[arg-type]
            )
        except ApplicationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"Topic '{topic.name}' added; comments are being re-tagged.")
        return HttpResponseRedirect(reverse("analytics-topics-page"))
    choices = text_selectors.topic_filter_choices(user=request.user)
    try:
        scope = access.request_scope(request.user, request.GET, records=False)
        first, last = scope_days(scope)
        window = text_selectors.topic_window_get(
            date_from=first.isoformat() if first else "", date_to=last.isoformat() if last else ""
        )
    except InvalidInput as exc:
        return render(
            request,
            "analytics/topics.html",
            {
                "errors": exc.field_errors,
                "topics": [],
                "parents": [],
                "choices": choices,
                "selected": {name: request.GET.getlist(name) for name in FILTER_NAMES},
            },
            status=400,
        )
    filters = window.filters(scope=scope)
    version = data_version_get()
    counts = text_selectors.topic_counts_get(scope=filters.scope, version=version)
    changes = text_selectors.topic_share_changes(window=window, scope=scope, version=version)
    topics = [
        {**row, "share_change": changes.get(row["id"])}
        for row in text_selectors.topics_with_stats(filters=filters, counts=counts)
    ]
    parents = [t for t in topics if t["parent"] is None]
    return render(
        request,
        "analytics/topics.html",
        {
            "topics": topics,
            "parents": parents,
            "choices": choices,
            "selected": {name: list(scope.get(name) or []) for name in FILTER_NAMES},
            "window": window,
            "counts": text_selectors.comments_count(scope=filters.scope, version=version),
            "query": urlencode(
                [
                    (name, ",".join(scope.get(name) or []))
                    for name in FILTER_NAMES
                    if scope.get(name)
                ]
                + [
                    (name, request.GET[name])
                    for name in ("date_from", "date_to")
                    if request.GET.get(name)
                ]
            ),
            "can_edit": user_is_cx_manager(request.user),
            "can_act": can_create_action(request.user),
        },
    )


def _form_errors(form: TagCorrectionForm) -> str:
    return " ".join(str(m) for msgs in form.errors.values() for m in msgs)


@access.page
@require_POST
def tag_correct_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The one tag correction: a CX manager adds or removes a topic on one comment (with the
    mention's sentiment when adding). An htmx post gets the response's tags and form back
    (400 with the messages when the correction is refused); a plain post goes back to
    ``next`` with a message."""
    _require_cx_manager(request)
    response = Response.objects.filter(pk=pk).first()
    if response is None:
        raise Http404("No such response.")
    topics = text_selectors.topic_choices()
    form = TagCorrectionForm(request.POST, topics=topics)
    topic = None
    if form.is_valid():
        topic = Topic.objects.get(slug=form.cleaned_data["topic"])
        try:
            text_services.tag_correct(
                response=response,
                topic=topic,
                action=form.cleaned_data["action"],
                sentiment=form.cleaned_data["sentiment"],
                note=form.cleaned_data["note"],
                corrected_by=request_user(request),
            )
        except ApplicationError as exc:
            for field, field_messages in exc.field_errors.items():
                for message in field_messages:
                    form.add_error(field if field in form.fields else None, str(message))
            if not exc.field_errors:
                form.add_error(None, exc.message)
    error = _form_errors(form)
    if getattr(request, "htmx", None):
        context = {
            "response": text_selectors.response_with_tags(response_id=pk),
            "topics": topics,
            "can_correct": True,
            "correction_error": error,
            "corrected": not error,
            "next": request.POST.get("next", ""),
        }
        return render(
            request, "analytics/partials/response_tags.html", context, status=400 if error else 200
        )
    if error:
        messages.error(request, error)
        return redirect_back(request, reverse("analytics-topics-page"))
    done = "removed" if form.cleaned_data["action"] == "remove" else "added"
    messages.success(request, f"Response {pk}: '{topic.name if topic else ''}' {done}.")
    return redirect_back(
        request, reverse("analytics-topic-verbatims-page", args=[form.cleaned_data["topic"]])
    )


@access.page
@require_http_methods(["GET", "POST"])
def themes_page(request: HttpRequest) -> HttpResponse:
    """Proposed themes with their terms and examples; CX managers accept or dismiss them."""
    if request.method == "POST":
        _require_cx_manager(request)
        try:
            _theme_decide(request)
        except ApplicationError as exc:
            messages.error(request, error_text(exc))
        return HttpResponseRedirect(reverse("analytics-themes-page"))
    access.require_cx_manager(
        request.user, "Proposed themes quote every department's comments; CX managers review them."
    )
    themes = list(text_selectors.themes_list(status=ThemeProposal.Status.PROPOSED)[:50])
    examples = text_selectors.theme_examples(proposals=themes)
    rows = [
        {"theme": t, "examples": [examples[pk] for pk in t.example_response_ids if pk in examples]}
        for t in themes
    ]
    last_run = AnalysisRun.objects.filter(kind=AnalysisRun.Kind.THEME_DISCOVERY).first()
    return render(
        request,
        "analytics/topics_themes.html",
        {"rows": rows, "last_run": last_run, "can_edit": user_is_cx_manager(request.user)},
    )


def _theme_decide(request: HttpRequest) -> None:
    decision = request.POST.get("decision", "")
    if decision == "discover":
        run = run_request(
            kind=AnalysisRun.Kind.THEME_DISCOVERY,
            parameters={},
            requested_by=request.user,  # type: ignore[arg-type]
        )
        messages.success(request, f"Theme discovery started (run {run.pk}).")
        return
    theme = ThemeProposal.objects.filter(pk=request.POST.get("theme") or 0).first()
    if theme is None:
        raise Http404("No such theme.")
    if decision == "accept":
        topic = text_services.theme_accept(
            proposal=theme,
            accepted_by=request.user,  # type: ignore[arg-type]
            name=request.POST.get("name", "").strip() or None,
        )
        messages.success(
            request, f"'{topic.name}' added to the taxonomy; comments are being re-tagged."
        )
    elif decision == "dismiss":
        text_services.theme_dismiss(proposal=theme, dismissed_by=request.user)  # type: ignore[arg-type]
        messages.success(request, f"Theme '{theme.label}' dismissed.")
    else:
        raise ApplicationError("Unknown decision.")
