"""The evidence an action is created from, looked up on the server for one insight.

A "Create action" button names only the insight (its kind and slug or id); the figure,
its interval, the analysis run it came from and the verbatims that support it are read
here from analytics and feedback, and handed to ``actions`` as data (an evidence draft),
so nothing in an address bar can change what an action records. ``actions`` imports
neither analytics nor dashboards; this module is where the two meet.

Quotes are chosen to support the claim they illustrate: for a topic or touchpoint that
costs NPS (or a low-rated driver) the most negative comments, for one that earns NPS the
positive ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from actions.models import Alert, InsightKind
from actions.permissions import alerts_visible_to
from analytics.insights import selectors as insights_selectors
from analytics.responses.sample import min_responses
from analytics.responses.score_days import score_counts_get
from analytics.runs import selectors as run_selectors
from analytics.stats.scores import Score, proportion_estimate, score_block, score_text
from analytics.templatetags.score_tags import share_cell
from analytics.text import selectors as text_selectors
from cxhub import access
from cxhub.errors import InvalidInput, NotFound
from dashboards.models import DashboardComment
from feedback.filters import responses_in_scope
from feedback.models import Attribute, Department, Response, Touchpoint

QUOTES = 3
QUOTE_LENGTH = 400
OUTCOME_LABELS = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}
BUILDABLE_KINDS = ("driver", "topic", "touchpoint", "response", "alert", "suggestion")
"""What a "Create action" button may name: the insight kinds and an alert (a verbatim)."""


@dataclass(frozen=True)
class Evidence:
    """What the server found for one insight, and what the create form should start with."""

    kind: str
    snapshot: dict[str, Any]
    run_id: int | None
    title: str
    description: str = ""
    department: Department | None = None
    touchpoints: tuple[Touchpoint, ...] = ()
    source_response: Response | None = None
    alert: Alert | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def evidence_build(
    *,
    user: access.AnyUser,
    kind: str,
    reference: str,
    outcome: str = "nps",
    department: str = "",
) -> Evidence:
    """The evidence of the insight ``kind``/``reference`` as ``user`` may see it.

    ``outcome`` and ``department`` choose which driver analysis a driver comes from (the
    one the insights page shows); they select a run, never a figure."""
    reference = (reference or "").strip()
    if kind not in BUILDABLE_KINDS:
        raise InvalidInput(
            "Unknown insight kind.",
            field_errors={"kind": [f"Choose one of: {', '.join(BUILDABLE_KINDS)}."]},
        )
    if not reference:
        raise InvalidInput(
            "Missing reference.",
            field_errors={"reference": [f"Name the {kind} (its slug or id)."]},
        )
    if kind == "driver":
        return _driver(user, reference, outcome, department)
    if kind == "topic":
        return _topic(user, reference)
    if kind == "touchpoint":
        return _touchpoint(user, reference)
    if kind == "suggestion":
        return _suggestion(user, _id(reference))
    if kind == "alert":
        alert = alerts_visible_to(user).filter(pk=_id(reference)).first()
        if alert is None:
            raise NotFound("No such alert, or it is not yours to see.")
        return _response(user, alert.response_id, alert=alert)
    return _response(user, _id(reference))


def _id(reference: str) -> int:
    if not reference.isdigit():
        raise InvalidInput("Invalid id.", field_errors={"reference": ["An id is a whole number."]})
    return int(reference)


def _run(run: Any) -> dict[str, Any]:
    """The analysis run an evidence figure came from, as the snapshot keeps it."""
    return {
        "id": run.pk,
        "kind": run.kind,
        "label": f"{run.get_kind_display()} #{run.pk}",
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "window": run_selectors.run_window_label(run),
    }


def _figure(name: str, score: Score, display: str) -> dict[str, Any]:
    return {
        "name": name,
        "value": score.value,
        "low": score.low,
        "high": score.high,
        "display": display,
    }


def _with_interval(score: Score, unit: str = "") -> str:
    """'value unit (95% interval low to high)', digits from the interval's width."""
    text = score_text(score)
    return f"{text['value']}{unit} (95% interval {text['low']} to {text['high']}{unit})"


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_LENGTH else text[: QUOTE_LENGTH - 1] + "…"


def _quotes(comments: Sequence[str]) -> list[dict[str, str]]:
    return [{"text": _quote(comment)} for comment in comments if comment]


def _negative_comments(responses: QuerySet[Response]) -> list[str]:
    """The most negative comments among ``responses`` (by their comment's sentiment)."""
    return list(
        responses.exclude(comment="")
        .filter(analysis__sentiment_label="negative")
        .order_by("analysis__sentiment", "-submitted_at")
        .values_list("comment", flat=True)[:QUOTES]
    )


# --- a driver -------------------------------------------------------------------------------


def _driver(user: access.AnyUser, slug: str, outcome: str, department: str) -> Evidence:
    if outcome not in OUTCOME_LABELS:
        raise InvalidInput(field_errors={"outcome": ["Choose nps, csat or ces."]})
    scope_department = None
    if department:
        scope_department = Department.objects.filter(slug=department).first()
        if scope_department is None:
            raise InvalidInput(field_errors={"department": [f"No department '{department}'."]})
        access.require_department(user, scope_department.pk)
    filters = {"department": [department]} if department else {}
    run = insights_selectors.driver_run_latest(outcome=outcome, filters=filters)
    if run is None:
        raise InvalidInput(
            "No driver analysis.",
            field_errors={"reference": ["There is no driver analysis for this scope yet."]},
        )
    driver = next((d for d in run.result.get("drivers") or [] if d.get("slug") == slug), None)
    if driver is None:
        raise InvalidInput(
            "Unknown driver.",
            field_errors={"reference": [f"Driver analysis #{run.pk} has no driver '{slug}'."]},
        )
    label = str(driver.get("label") or slug)
    name = OUTCOME_LABELS[outcome]
    share = float(driver.get("share") or 0.0)
    interval = driver.get("share_interval") or [None, None]
    shown = share_cell(share, interval)
    figures: list[dict[str, Any]] = [
        {
            "name": "share",
            "value": share,
            "low": interval[0],
            "high": interval[1],
            "display": f"{shown} of the explained {name} variance",
        }
    ]
    if driver.get("performance") is not None:
        figures.append(
            {
                "name": "performance",
                "value": driver["performance"],
                "display": f"performance {float(driver['performance']):.0f} of 100",
            }
        )
    if driver.get("rank") is not None:
        rank_interval = driver.get("rank_interval")
        rank_text = f"rank {driver['rank']}"
        if rank_interval and rank_interval[0] != rank_interval[1]:
            rank_text += f" (95% interval {rank_interval[0]}–{rank_interval[1]})"
        figures.append({"name": "rank", "value": driver["rank"], "display": rank_text})
    attribute = Attribute.objects.filter(slug=slug).first()
    responses = access.visible(
        user, responses_in_scope((run.parameters or {}).get("filters") or {})
    )
    comments: list[str] = []
    if attribute is not None:
        low_rating = attribute.scale_min + (attribute.scale_max - attribute.scale_min) // 4
        comments = _negative_comments(responses.filter(**{f"ratings__{slug}__lte": low_rating}))
    snapshot = {
        "reference": slug,
        "label": label,
        "kind_label": "Driver result",
        "outcome": outcome,
        "claim": f"{label} explains {shown} of the explained {name} variance.",
        "figures": figures,
        "quotes": _quotes(comments),
        "quotes_heading": f"Customers who rated {label.lower()} low",
        "run": _run(run),
        "window": run_selectors.run_window_label(run),
        "method": str(run.result.get("method_label") or run.result.get("method") or ""),
    }
    snapshot["summary"] = snapshot["claim"]
    return Evidence(
        kind=InsightKind.DRIVER,
        snapshot=snapshot,
        run_id=run.pk,
        title=f"Improve {label.lower()}",
        department=scope_department,
    )


# --- a topic --------------------------------------------------------------------------------


def _topic(user: access.AnyUser, slug: str) -> Evidence:
    topic = text_selectors.topic_get(slug=slug)
    window = text_selectors.topic_window_get()
    scope = window.filters().scope
    row = text_selectors.topic_mention_stats(scope=scope).get(topic.pk)
    mentions = int(row["responses"]) if row else 0
    figures: list[dict[str, Any]] = []
    claim = f"{mentions:,} responses mention {topic.name.lower()} ({window.label})."
    figures.append(
        {
            "name": "mentions",
            "value": mentions,
            "display": f"{mentions:,} responses mention it ({window.label})",
        }
    )
    negative_claim = True
    run = run_selectors.run_latest_matching(kind="topic_impact", outcome="nps", filters={})
    impact_row = None
    if run is not None:
        impact_row = next(
            (t for t in run.result.get("topics") or [] if t.get("slug") == topic.slug), None
        )
    if impact_row is not None and impact_row.get("status") == "ok":
        low, high = impact_row["interval"]
        impact = Score(status="ok", n=mentions, value=impact_row["impact"], low=low, high=high)
        verb = "costs" if (impact.value or 0) < 0 else "earns"
        negative_claim = (impact.value or 0) < 0
        shown = score_text(impact)
        claim = (
            f"{topic.name} {verb} about {shown['value'].lstrip('-')} NPS points "
            f"(impact {shown['value']}, 95% interval {shown['low']} to {shown['high']}); "
            f"{mentions:,} responses mention it ({window.label})."
        )
        figures.append(
            _figure("NPS impact", impact, f"NPS impact {_with_interval(impact, ' points')}")
        )
    if row and mentions:
        negative = proportion_estimate(
            int(row["negative"]),
            int(row["negative"]) + int(row["neutral"]) + int(row["positive"]),
            min_n=min_responses(),
        )
        if negative.ok:
            figures.append(
                _figure(
                    "negative share", negative, f"negative mentions {_with_interval(negative, '%')}"
                )
            )
            if impact_row is None or impact_row.get("status") != "ok":
                negative_claim = (negative.value or 0) >= 50
        if row.get("mean_sentiment") is not None:
            figures.append(
                {
                    "name": "mean sentiment",
                    "value": row["mean_sentiment"],
                    "display": f"mean sentiment {row['mean_sentiment']:+.2f} (−1 to +1)",
                }
            )
    # The one choice of quotes for a claim about a topic (the report's and the topic page's).
    stance = "negative" if negative_claim else "positive"
    comments = [
        quote.text
        for quote in text_selectors.topic_quotes_get(
            topic_id=topic.pk, stance=stance, scope=scope, user=user, limit=QUOTES
        )
    ]
    heading = (
        f"The most negative mentions of {topic.name.lower()}"
        if negative_claim
        else f"Positive mentions of {topic.name.lower()}"
    )
    snapshot = {
        "reference": topic.slug,
        "label": topic.name,
        "kind_label": "Topic",
        "claim": claim,
        "summary": claim,
        "figures": figures,
        "quotes": _quotes(comments),
        "quotes_heading": heading,
        "run": _run(run) if run is not None and impact_row is not None else None,
        "window": window.label,
        "method": str(run.result.get("method", ""))
        if run is not None and impact_row is not None
        else "",
    }
    return Evidence(
        kind=InsightKind.TOPIC,
        snapshot=snapshot,
        run_id=run.pk if run is not None and impact_row is not None else None,
        title=f"Fix what customers say about {topic.name.lower()}",
    )


# --- a touchpoint ---------------------------------------------------------------------------


def _touchpoint(user: access.AnyUser, slug: str) -> Evidence:
    touchpoint = (
        access.visible(user, Touchpoint.objects.select_related("department"))
        .filter(slug=slug)
        .first()
    )
    if touchpoint is None:
        raise NotFound(f"No touchpoint '{slug}', or it is not yours to see.")
    window = text_selectors.topic_window_get()
    scope = {
        "touchpoint": [touchpoint.slug],
        "date_from": window.date_from.isoformat(),
        "date_to": window.date_to.isoformat(),
    }
    responses = responses_in_scope(scope)
    block = score_block(score_counts_get(scope)[0], min_n=min_responses())
    figures: list[dict[str, Any]] = [
        {
            "name": "responses",
            "value": block.responses,
            "display": f"{block.responses:,} responses ({window.label})",
        }
    ]
    if block.nps.ok:
        figures.append(_figure("NPS", block.nps, f"NPS {_with_interval(block.nps)}"))
        claim = f"NPS at {touchpoint.name} is {_with_interval(block.nps)}, from {block.nps.n:,} answers ({window.label})."
    else:
        claim = f"{touchpoint.name}: {block.responses:,} responses, too few NPS answers for a score ({window.label})."
    if block.csat_pct.ok:
        figures.append(
            _figure("CSAT", block.csat_pct, f"CSAT {_with_interval(block.csat_pct, '%')} satisfied")
        )
    snapshot = {
        "reference": touchpoint.slug,
        "label": touchpoint.name,
        "kind_label": "Touchpoint",
        "department": touchpoint.department.slug,
        "claim": claim,
        "summary": claim,
        "figures": figures,
        "quotes": _quotes(_negative_comments(responses)),
        "quotes_heading": f"The most negative comments at {touchpoint.name}",
        "run": None,
        "window": window.label,
        "method": "NPS with a 95% interval from the responses in the window.",
    }
    return Evidence(
        kind=InsightKind.TOUCHPOINT,
        snapshot=snapshot,
        run_id=None,
        title=f"Improve the experience at {touchpoint.name}",
        department=touchpoint.department,
        touchpoints=(touchpoint,),
    )


# --- a verbatim (or the alert raised on it) -------------------------------------------------


def _response(user: access.AnyUser, response_id: int, *, alert: Alert | None = None) -> Evidence:
    response = (
        access.visible(user, Response.objects.select_related("customer", "touchpoint__department"))
        .filter(pk=response_id)
        .first()
    )
    if response is None:
        raise NotFound("No such response, or it is not yours to see.")
    tags = text_selectors.response_tags(response=response)
    figures: list[dict[str, Any]] = []
    for name, value, scale in (
        ("NPS", response.nps, 10),
        ("CSAT", response.csat, 5),
        ("CES", response.ces, 7),
    ):
        if value is not None:
            figures.append({"name": name, "value": value, "display": f"{name} {value} of {scale}"})
    analysis = tags.get("analysis") or {}
    if analysis.get("sentiment") is not None:
        figures.append(
            {
                "name": "sentiment",
                "value": analysis["sentiment"],
                "display": f"comment sentiment {analysis['sentiment']:+.2f} ({analysis.get('sentiment_label', '')})",
            }
        )
    customer = response.customer.external_id if response.customer else ""
    where = response.touchpoint.name if response.touchpoint else "no touchpoint"
    label = f"Verbatim from {customer or 'an anonymous customer'} ({where})"
    claim = f"A customer at {where} wrote on {response.submitted_at:%d %b %Y}"
    if alert is not None:
        claim = f"Alert: {alert.get_reason_display().lower()} at {where}, {response.submitted_at:%d %b %Y}"
    snapshot = {
        "reference": str(response.pk),
        "label": label,
        "kind_label": "Alert on a verbatim" if alert is not None else "Verbatim",
        "claim": claim + ".",
        "verbatim": response.comment,
        "customer": customer,
        "touchpoint": response.touchpoint.slug if response.touchpoint else "",
        "submitted_at": response.submitted_at.isoformat(),
        "tags": [
            {"slug": t["topic"], "name": t["name"], "sentiment": t.get("sentiment_label") or ""}
            for t in tags.get("topics") or []
        ],
        "figures": figures,
        "alert": {"id": alert.pk, "reason": alert.reason} if alert is not None else None,
        "run": None,
        "summary": f"“{_quote(response.comment)}”" if response.comment else label,
    }
    touchpoint = response.touchpoint
    return Evidence(
        kind=InsightKind.RESPONSE,
        snapshot=snapshot,
        run_id=None,
        title="Fix what this customer ran into",
        description=f"Customer said: “{response.comment}”" if response.comment else "",
        department=touchpoint.department if touchpoint else None,
        touchpoints=(touchpoint,) if touchpoint else (),
        source_response=response,
        alert=alert,
    )


# --- a dashboard suggestion -----------------------------------------------------------------


def _suggestion(user: access.AnyUser, comment_id: int) -> Evidence:
    comment = (
        access.visible(user, DashboardComment.objects.select_related("author", "department"))
        .filter(pk=comment_id)
        .first()
    )
    if comment is None:
        raise NotFound("No such suggestion, or it is not yours to see.")
    author = comment.author.get_full_name() or comment.author.get_username()
    where = comment.department.name if comment.department else "the overview"
    snapshot: dict[str, Any] = {
        "reference": str(comment.pk),
        "label": f"Suggestion by {author} on {where}",
        "kind_label": "Dashboard suggestion",
        "claim": f"{author} suggested on {where} ({comment.created_at:%d %b %Y}):",
        "verbatim": comment.body,
        "view_query": comment.view_query,
        "figures": [],
        "run": None,
        "summary": f"Suggested on a dashboard: “{_quote(comment.body)}”",
    }
    return Evidence(
        kind=InsightKind.SUGGESTION,
        snapshot=snapshot,
        run_id=None,
        title=_quote(comment.body)[:120],
        description=f"Suggested on a dashboard: “{comment.body}”",
        department=comment.department,
    )
