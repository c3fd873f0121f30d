"""The rest of a real CX programme around the bench responses, written through the services.

A bench that holds only responses measures empty pages: the topic pages need a taxonomy of
about 200 topics, the board and the impact pages need hundreds of actions in every status with
target KPIs, scopes and control groups, and the impact estimates need two years of weekly KPI
observations per department. Everything here goes through the product's services
(``action_create`` and the lifecycle transitions, ``observations_bulk_record``,
``responses_process``, ``run_execute_now``; topics as ``topics_load_defaults`` writes them), so
the rows are the ones users make; none of it is timed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from bench.data import PHRASES_NEGATIVE, PHRASES_POSITIVE, REGIONS

TOPICS_WANTED = 200
KPI_SLUGS = ("churn-rate", "revenue", "cost-to-serve")
# How the actions spread over the lifecycle; cycles over the statuses so any count has all.
STATUS_CYCLE = (
    "proposed",
    "accepted",
    "in_progress",
    "implemented",
    "measured",
    "declined",
    "cancelled",
    "implemented",
    "in_progress",
    "measured",
)
WEEKS = 104

Log = Callable[[str], None]


def line_managers(departments: list[Any]) -> list[Any]:
    """One line manager per department, member of it (an action's owner must be one)."""
    from django.contrib.auth.models import Group, User

    group, _ = Group.objects.get_or_create(name="line_manager")
    managers = []
    for index, department in enumerate(departments):
        user, created = User.objects.get_or_create(username=f"bench-lm-{index}")
        if created:  # the bench signs in with force_login: no password to hash
            user.set_unusable_password()
            user.save()
        user.groups.add(group)
        department.members.add(user)
        managers.append(user)
    return managers


def generated_topics() -> Iterator[tuple[int, str, str, list[str]]]:
    """The bench's generated topics in order: (index, slug, name, keywords), without end.

    Pure (no database), so the tagging regression test can build the bench's taxonomy too.
    """
    words = sorted(
        {
            word
            for phrase in (*PHRASES_NEGATIVE, *PHRASES_POSITIVE)
            for word in re.findall(r"[a-z]{4,}", phrase.lower())
        }
    )
    rng = np.random.default_rng(13)
    index = 0
    while True:
        index += 1
        first, second, third = rng.choice(len(words), 3, replace=False)
        yield (
            index,
            f"bench-topic-{index:03d}",
            f"Bench topic {index:03d} ({words[first]})",
            [f"{words[first]} {words[second]}", words[third]],
        )


def topics_create(*, wanted: int = TOPICS_WANTED) -> int:
    """Top the taxonomy up to ``wanted`` topics: the default ones, then generated ones.

    Generated topics are children of the default top-level topics, with keywords taken from
    the bench's phrase bank (two-word phrases, so they match some comments, not all). They go
    in as one bulk insert with the keywords checked by ``keywords_clean`` and one re-tag
    queued, as ``topics_load_defaults`` does: ``topic_create`` queues a full re-tag per topic.
    """
    from analytics.text.models import Topic
    from analytics.text.services import (
        keywords_clean,
        responses_retag_all_on_commit,
        topics_load_defaults,
    )

    topics_load_defaults()
    parents = list(Topic.objects.filter(parent__isnull=True).order_by("slug"))
    existing = set(Topic.objects.values_list("slug", flat=True))
    new: list[Topic] = []
    for index, slug, name, keywords in generated_topics():
        if len(existing) + len(new) >= wanted:
            break
        if slug in existing:
            continue
        new.append(
            Topic(
                slug=slug,
                name=name,
                keywords=keywords_clean(keywords),
                parent=parents[index % len(parents)] if parents else None,
                origin=Topic.Origin.MANUAL,
            )
        )
    Topic.objects.bulk_create(new)
    if new:
        responses_retag_all_on_commit()
    return len(new)


def kpi_observations_create(*, departments: list[Any], end: dt.date) -> int:
    """Two years of weekly churn, revenue and cost to serve per department, one bulk call."""
    from analytics.impact.services.kpis import observations_bulk_record

    monday = end - dt.timedelta(days=end.weekday())
    rng = np.random.default_rng(17)
    items: list[dict[str, Any]] = []
    for department_index, department in enumerate(departments):
        size = 1 + department_index * 0.3
        for slug, level, spread in (
            ("churn-rate", 0.9, 0.08),
            ("revenue", 250_000 * size, 9_000),
            ("cost-to-serve", 80_000 * size, 4_000),
        ):
            noise = rng.normal(0, spread, WEEKS)
            for week in range(WEEKS):
                start = monday - dt.timedelta(weeks=WEEKS - week)
                items.append(
                    {
                        "kpi": slug,
                        "granularity": "week",
                        "period_start": start.isoformat(),
                        "department": department.slug,
                        "value": f"{max(level + noise[week], 0.0):.4f}",
                    }
                )
    outcome = observations_bulk_record(items=items, warn_gaps=False)
    if outcome.rejected or outcome.conflicts:
        raise RuntimeError(f"KPI observations refused: {outcome.errors[:3]}")
    return outcome.created + outcome.duplicates


def actions_create(
    *, count: int, cx: Any, departments: list[Any], managers: list[Any], log: Log
) -> dict[str, int]:
    """``count`` actions across the departments, walked through the lifecycle to every status.

    Each targets NPS and a KPI, is scoped to its department's touchpoints in one region with
    another region as control, and the implemented ones went live on dates spread over the
    last year of responses, so impact estimation has a before and an after.
    """
    from actions import services as action_services
    from actions.models import Action
    from feedback.models import Touchpoint

    existing = Action.objects.filter(title__startswith="Bench action").count()
    touchpoints = {
        department.pk: list(Touchpoint.objects.filter(department=department).order_by("slug"))
        for department in departments
    }
    from django.utils import timezone

    today = timezone.localdate()
    rng = np.random.default_rng(19)
    statuses: dict[str, int] = {}
    for index in range(existing, count):
        department = departments[index % len(departments)]
        owner = managers[index % len(managers)]
        status = STATUS_CYCLE[index % len(STATUS_CYCLE)]
        scope_region, control_region = REGIONS[index % len(REGIONS)], REGIONS[(index + 1) % 5]
        kpi = KPI_SLUGS[index % len(KPI_SLUGS)]
        action = action_services.action_create(
            created_by=cx,
            title=f"Bench action {index:04d}: improve {department.name.lower()}",
            department=department,
            owner=owner,
            description="Generated by the bench: a change in one region, another as control.",
            due_date=today + dt.timedelta(days=30 + index % 90),
            cost_estimate=int(rng.integers(5, 200)) * 1_000,
            target_kpis=[
                {"kpi": "nps", "expected_change": 3, "unit": "points"},
                {"kpi": kpi, "expected_change": -0.1 if kpi == "churn-rate" else 1000, "unit": ""},
            ],
            scope_touchpoints=touchpoints[department.pk],
            scope_attributes={"region": [scope_region]},
            control_touchpoints=touchpoints[department.pk],
            control_attributes={"region": [control_region]},
            today=today,
        )
        _walk(action_services, action, status, cx=cx, owner=owner, index=index, today=today)
        statuses[status] = statuses.get(status, 0) + 1
        if (index + 1) % 100 == 0:
            log(f"  {index + 1:,} of {count:,} actions")
    return statuses


def _walk(
    action_services: Any, action: Any, status: str, *, cx: Any, owner: Any, index: int, today: Any
) -> None:
    if status == "proposed":
        return
    if status == "declined":
        action_services.action_decline(action=action, by=owner, reason="Not this quarter.")
        return
    if status == "cancelled":
        action_services.action_cancel(action=action, by=cx, reason="Superseded.")
        return
    action_services.action_accept(action=action, by=owner)
    if status == "accepted":
        return
    action_services.action_update_post(action=action, by=owner, text="Started.", progress=40)
    if status == "in_progress":
        return
    # Responses run from 1 November 2024 for two years: live dates within their last year.
    live = dt.date(2025, 11, 1) + dt.timedelta(days=(index * 37) % 330)
    action_services.action_implement(action=action, by=owner, implemented_at=live, today=today)
    if status == "measured":
        action_services.action_mark_measured(action=action, by=cx)


def measurable_action_ids(*, limit: int) -> list[int]:
    """Implemented and measured actions, the ones impact estimation takes."""
    from actions.models import Action

    return list(
        Action.objects.filter(status__in=["implemented", "measured"])
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def analyses_run(*, impact_actions: int, log: Log) -> list[str]:
    """Every available analysis kind once (impact for a few actions), for the pages to show."""
    from analytics.runs.kinds import run_kinds_available
    from analytics.runs.services import run_execute_now

    failed = []
    for kind in run_kinds_available():
        if kind == "tagging":
            continue  # the processing step tags every comment already
        parameter_sets: list[dict[str, Any]] = (
            [{"action_id": pk} for pk in measurable_action_ids(limit=impact_actions)]
            if kind == "impact"
            else [{}]
        )
        for parameters in parameter_sets:
            run = run_execute_now(kind=kind, parameters=parameters)
            if run.status != "succeeded":
                failed.append(f"{kind} {parameters}: {run.error[:200]}")
    if failed:
        log(f"  analyses that did not succeed: {failed}")
    return failed


def responses_process_all(*, log: Log, chunk: int = 5_000) -> int:
    """Tag and alert every response not processed yet, as the workers do after ingest."""
    from feedback.models import Response
    from feedback.services import responses_process

    ids = list(
        Response.objects.filter(processed_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    for start in range(0, len(ids), chunk):
        responses_process(response_ids=ids[start : start + chunk])
    log(f"  processed {len(ids):,} responses (tagging, alerts)")
    return len(ids)
