"""Writes the generated demo organisation (``demo.generator``) to the database, fast.

Structure (departments, journeys, touchpoints, drivers, sources, users) is upserted by slug
or name, so seeding twice never duplicates it. Customers and responses go in as plain rows
(``COPY`` on PostgreSQL, ``executemany`` elsewhere) inside one transaction that also marks
their days changed; per-row processing is not triggered. Afterwards the post-ingest
processors (text tagging, alerts) run once over all responses in large chunks, then each
available analysis once, then the roll-ups are refreshed for every day written (the pages
read them), and the command prints what ran. The demo's history is not news: e-mails raised
while seeding go to an in-memory outbox (the in-app notifications stay)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

import pandas as pd
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import (
    CASCADE,
    PROTECT,
    SET_NULL,
    Field,
    Model,
    ProtectedError,
    QuerySet,
    signals,
)
from django.test.utils import override_settings
from django.utils import timezone

from actions import services as action_services
from actions.models import Action
from analytics.impact.services import scope_key_build
from analytics.models import AnalysisRun, Kpi, KpiObservation
from analytics.responses.rollups import rollups_refresh_all
from analytics.runs.services import run_execute_now, run_kinds_available
from cxhub.errors import ApplicationError, Conflict, InvalidInput, error_text
from demo import generator
from demo.alerts import demo_alerts_work
from demo.generator import DemoData
from feedback.models import (
    Attribute,
    Customer,
    Department,
    Journey,
    Response,
    Source,
    Touchpoint,
)
from feedback.services import (
    response_day,
    response_days_changed,
    response_days_of,
    responses_process,
)
from feedback.validation import comment_for_storage, content_hash, pii_mask_region

logger = logging.getLogger(__name__)

INSERT_BATCH = 5_000
PROCESS_CHUNK = 5_000
KPI_SOURCE = {"key": "warehouse", "name": "Data warehouse", "kind": "other"}
QUIET_EMAIL = "django.core.mail.backends.locmem.EmailBackend"
ANALYSIS_KINDS = ("scores", "drivers", "topic_impact", "value", "theme_discovery", "impact")

Log = Callable[[str], None]


@dataclass
class SeedSummary:
    """What a seed wrote and which analyses ran (and which were skipped, and why)."""

    seed: int
    implemented_on: dt.date | None = None
    customers: int = 0
    responses: int = 0
    comments: int = 0
    kpi_observations: int = 0
    actions: int = 0
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0


def demo_has_data() -> bool:
    """Whether the database already holds feedback or customers (seeding would mix two worlds)."""
    return Response.objects.exists() or Customer.objects.exists()


def _quiet(log: Log | None) -> Log:
    return log or (lambda message: logger.info("%s", message))


def demo_seed(
    *,
    seed: int = generator.DEFAULT_SEED,
    responses: int = 50_000,
    reset: bool = False,
    analyse: bool = True,
    end: dt.datetime | None = None,
    log: Log | None = None,
) -> SeedSummary:
    """Generate the demo organisation for ``seed`` and write it; refuses a non-empty database.

    ``reset`` first deletes existing feedback, customers, actions and KPI observations.
    ``analyse`` runs tagging and the analyses once at the end (tests switch it off to stay
    independent of the analytics code).
    """
    say = _quiet(log)
    if isinstance(responses, bool) or not isinstance(responses, int) or responses < 0:
        raise InvalidInput(field_errors={"responses": ["Must be a whole number, 0 or more."]})
    if responses > 5_000_000:
        raise InvalidInput(field_errors={"responses": ["At most 5,000,000 for a demo."]})
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise InvalidInput(field_errors={"seed": ["Must be a whole number from 0 to 2^32 - 1."]})
    started = time.perf_counter()
    if not reset and demo_has_data():
        count = Response.objects.count()
        customers = Customer.objects.count()
        raise Conflict(
            f"The database already holds {count:,} responses and {customers:,} customers. "
            "Seed a demo only into an "
            "empty database: add --reset to delete the existing feedback, customers, "
            "actions and KPI observations first, or --if-empty to leave it as it is."
        )
    if reset:
        demo_reset(log=say)
    data = generator.generate(seed=seed, responses=responses, end=end)
    say(
        f"Generated {len(data.customers):,} customers and {len(data.responses):,} responses "
        f"({data.start:%Y-%m-%d} to {data.end:%Y-%m-%d}), seed {seed}."
    )
    summary = SeedSummary(seed=seed, implemented_on=data.implemented_on)
    with override_settings(EMAIL_BACKEND=QUIET_EMAIL), transaction.atomic():
        org = _organisation_upsert()
        users = _users_upsert(org["departments"])
        customer_ids = _customers_insert(data)
        summary.customers = len(customer_ids)
        summary.responses = _responses_insert(data, org, customer_ids)
        summary.comments = int((data.responses["comment"] != "").sum())
        say(
            f"Wrote {summary.customers:,} customers and {summary.responses:,} responses "
            f"in {time.perf_counter() - started:.1f} s."
        )
        summary.kpi_observations = _kpis_insert(data, org, summary, say)
        summary.actions = _actions_create(data, org, users, summary, say)
    if analyse:
        with override_settings(EMAIL_BACKEND=QUIET_EMAIL):
            _analyse(summary, say)
            demo_alerts_work(users=users, say=say)
    refreshing = time.perf_counter()
    days = rollups_refresh_all()
    say(f"Refreshed the roll-ups for {days:,} days in {time.perf_counter() - refreshing:.1f} s.")
    summary.seconds = round(time.perf_counter() - started, 1)
    return summary


# --- structure ----------------------------------------------------------------------------


def _organisation_upsert() -> dict[str, dict[str, Any]]:
    departments = {}
    for spec in generator.DEPARTMENTS:
        department, _ = Department.objects.update_or_create(
            slug=spec["slug"], defaults={"name": spec["name"], "description": spec["description"]}
        )
        departments[spec["slug"]] = department
    journeys = {}
    for spec in generator.JOURNEYS:
        journey, _ = Journey.objects.update_or_create(
            slug=spec["slug"], defaults={"name": spec["name"], "position": spec["position"]}
        )
        journeys[spec["slug"]] = journey
    touchpoints = {}
    for spec in generator.TOUCHPOINTS:
        touchpoint, _ = Touchpoint.objects.update_or_create(
            slug=spec["slug"],
            defaults={
                "name": spec["name"],
                "journey": journeys[spec["journey"]],
                "step": spec["step"],
                "step_position": spec["step_position"],
                "department": departments[spec["department"]],
            },
        )
        touchpoints[spec["slug"]] = touchpoint
    for spec in generator.DRIVERS:
        Attribute.objects.update_or_create(
            slug=spec["slug"],
            defaults={"label": spec["label"], "scale_min": 1, "scale_max": 5},
        )
    sources = {}
    for spec in [*generator.SOURCES, KPI_SOURCE]:
        source, _ = Source.objects.update_or_create(
            name=spec["name"], defaults={"kind": spec["kind"], "is_active": True}
        )
        sources[spec["key"]] = source
    return {
        "departments": departments,
        "journeys": journeys,
        "touchpoints": touchpoints,
        "sources": sources,
    }


def _users_upsert(departments: dict[str, Department]) -> dict[str, Any]:
    user_model = get_user_model()
    users = {}
    for spec in generator.USERS:
        user = user_model.objects.filter(username=spec["username"]).first()
        if user is None:
            user = user_model(username=spec["username"])
        user.first_name = spec["first_name"]
        user.last_name = spec["last_name"]
        user.email = f"{spec['username']}@demo.cxhub.invalid"
        user.is_active = True
        user.is_superuser = spec["role"] == "superuser"
        user.is_staff = spec["role"] in {"superuser", "cx_manager"}
        user.set_password(generator.DEMO_PASSWORD)
        user.save()
        if spec["role"] != "superuser":
            group, _ = Group.objects.get_or_create(name=spec["role"])
            user.groups.add(group)
        for slug in spec["departments"]:
            departments[slug].members.add(user)
        users[spec["username"]] = user
    return users


# --- customers and responses --------------------------------------------------------------


def _insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert plain rows into ``model``'s table: ``COPY`` on PostgreSQL, ``executemany`` else.

    The ORM's ``bulk_create`` spends most of its time building model instances and
    preparing each value; the demo's values are already clean (generated, in range), so they
    go in as they are. Datetimes must be aware; JSON values are given as text.
    """
    table = model._meta.db_table
    columns = [cast("Field[Any, Any]", model._meta.get_field(name)).column for name in fields]
    quoted = ", ".join(connection.ops.quote_name(str(column)) for column in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(
                f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        adapt = connection.ops.adapt_datetimefield_value
        placeholders = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({placeholders})"
        batch: list[list[Any]] = []
        for row in rows:
            batch.append(
                [adapt(value) if isinstance(value, dt.datetime) else value for value in row]
            )
            if len(batch) >= INSERT_BATCH:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _aware(value: Any) -> dt.datetime | None:
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.to_pydatetime()


def _customers_insert(data: DemoData) -> dict[str, int]:
    frame = data.customers
    now = timezone.now()
    rows = (
        (
            external_id,
            segment,
            region,
            plan,
            json.dumps({"tenure_years": float(tenure)}),
            Decimal(str(revenue)),
            Decimal(str(cost)),
            _aware(churned),
            now,
            now,
        )
        for external_id, segment, region, plan, tenure, revenue, cost, churned in zip(
            frame["external_id"],
            frame["segment"],
            frame["region"],
            frame["plan"],
            frame["tenure_years"],
            frame["annual_revenue"],
            frame["cost_to_serve"],
            frame["churned_at"],
            strict=True,
        )
    )
    _insert_rows(
        Customer,
        [
            "external_id",
            "segment",
            "region",
            "plan",
            "attributes",
            "annual_revenue",
            "cost_to_serve",
            "churned_at",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    wanted = set(frame["external_id"])
    return {
        external_id: pk
        for external_id, pk in Customer.objects.values_list("external_id", "id")
        if external_id in wanted
    }


def _responses_insert(
    data: DemoData, org: dict[str, dict[str, Any]], customer_ids: dict[str, int]
) -> int:
    frame = data.responses
    if frame.empty:
        return 0
    source_ids = {key: source.pk for key, source in org["sources"].items()}
    touchpoint_ids = {slug: touchpoint.pk for slug, touchpoint in org["touchpoints"].items()}
    submitted = [stamp.to_pydatetime() for stamp in frame["submitted_at"]]
    response_days_changed(days={response_day(moment) for moment in submitted})
    csat = frame["csat"].astype(object).where(frame["csat"].notna(), None)
    ces = frame["ces"].astype(object).where(frame["ces"].notna(), None)
    now = timezone.now()
    mask_region = pii_mask_region()

    def rows() -> Iterator[tuple[Any, ...]]:
        for (
            external_id,
            source_key,
            submitted_at,
            customer,
            channel,
            touchpoint,
            nps,
            csat_value,
            ces_value,
            ratings,
            comment,
            region,
            segment,
            plan,
        ) in zip(
            frame["external_id"],
            frame["source"],
            submitted,
            frame["customer"],
            frame["channel"],
            frame["touchpoint"],
            frame["nps"],
            csat,
            ces,
            frame["ratings"],
            frame["comment"],
            frame["region"],
            frame["segment"],
            frame["plan"],
            strict=True,
        ):
            attributes = {"region": region, "segment": segment, "plan": plan}
            comment = comment_for_storage(comment, region=mask_region)
            nps_value = int(nps)
            csat_int = None if csat_value is None else int(csat_value)
            ces_int = None if ces_value is None else int(ces_value)
            ratings = dict(sorted(ratings.items()))
            digest = content_hash(
                submitted_at=submitted_at,
                customer_external_id=customer,
                channel=channel,
                touchpoint_slug=touchpoint,
                nps=nps_value,
                csat=csat_int,
                ces=ces_int,
                ratings=ratings,
                comment=comment,
                attributes=attributes,
            )
            yield (
                source_ids[source_key],
                external_id,
                submitted_at,
                customer_ids[customer],
                channel,
                touchpoint_ids[touchpoint],
                nps_value,
                csat_int,
                ces_int,
                json.dumps(ratings),
                comment,
                json.dumps(attributes),
                digest,
                now,
                now,
            )

    return _insert_rows(
        Response,
        [
            "source",
            "external_id",
            "submitted_at",
            "customer",
            "channel",
            "touchpoint",
            "nps",
            "csat",
            "ces",
            "ratings",
            "comment",
            "attributes",
            "content_hash",
            "created_at",
            "updated_at",
        ],
        rows(),
    )


# --- KPIs ---------------------------------------------------------------------------------


def _kpis_insert(
    data: DemoData, org: dict[str, dict[str, Any]], summary: SeedSummary, say: Log
) -> int:
    kpis = {}
    for spec in generator.KPIS:
        unit = "percent" if spec["slug"] == "churn-rate" else "currency"
        kpi, _ = Kpi.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "name": spec["name"],
                "unit": unit,
                "higher_is_better": spec["higher_is_better"],
                "aggregation": "mean" if unit == "percent" else "sum",
                "currency": "EUR" if unit == "currency" else "",
                "description": spec["description"],
            },
        )
        kpis[spec["slug"]] = kpi
    frame = data.kpis[data.kpis["kpi"].isin(list(kpis))]
    departments = org["departments"]
    touchpoints = org["touchpoints"]
    source = org["sources"][KPI_SOURCE["key"]]
    rows = [
        KpiObservation(
            kpi=kpis[kpi_slug],
            granularity="week",
            period_start=period_start,
            department=departments[department] if department else None,
            touchpoint=touchpoints[touchpoint] if touchpoint else None,
            region=region,
            scope_key=scope_key_build(department=department, touchpoint=touchpoint, region=region),
            value=Decimal(str(value)),
            source=source,
        )
        for kpi_slug, period_start, region, touchpoint, department, value in zip(
            frame["kpi"],
            frame["period_start"],
            frame["region"],
            frame["touchpoint"],
            frame["department"],
            frame["value"],
            strict=True,
        )
    ]
    KpiObservation.objects.bulk_create(rows, batch_size=2_000)
    say(f"Wrote {len(rows):,} weekly KPI observations ({', '.join(kpis)}).")
    return len(rows)


# --- actions ------------------------------------------------------------------------------


def _actions_create(
    data: DemoData,
    org: dict[str, dict[str, Any]],
    users: dict[str, Any],
    summary: SeedSummary,
    say: Log,
) -> int:
    today = data.end.date()
    created = 0
    for spec in generator.ACTIONS:
        with transaction.atomic():
            action = _action_create(spec, data, org, users, today)
        created_at = data.end - dt.timedelta(days=spec["created_days_before_end"])
        Action.objects.filter(pk=action.pk).update(created_at=created_at)
        created += 1
    say(
        f"Created {created} actions (proposed, accepted, in progress, implemented, measured, "
        "declined)."
    )
    return created


def _action_create(
    spec: dict[str, Any],
    data: DemoData,
    org: dict[str, dict[str, Any]],
    users: dict[str, Any],
    today: dt.date,
) -> Action:
    cx = users["cx"]
    owner = users[spec["owner"]]
    touchpoints = [org["touchpoints"][slug] for slug in spec["touchpoints"]]
    kind = spec["insight_kind"]
    reference = next(iter(spec["evidence"].values()), "")
    figures: dict[str, Any] = {}
    if kind == "driver":
        figures = _driver_figures(data, reference)
    elif kind == "topic":
        kind, figures = "scratch", {}
    open_status = spec["status"] in {"proposed", "accepted", "in_progress"}
    action = action_services.action_create(
        created_by=cx,
        title=spec["title"],
        department=org["departments"][spec["department"]],
        owner=owner,
        description=spec["description"],
        insight_kind=kind,
        evidence_reference=reference if kind != "scratch" else "",
        evidence_label="" if kind != "scratch" else spec["title"],
        evidence_figures=figures,
        due_date=today + dt.timedelta(days=45) if open_status else None,
        cost_estimate=spec["cost_estimate"],
        target_kpis=spec["target_kpis"],
        scope_touchpoints=touchpoints,
        scope_attributes=spec["scope_attributes"],
        control_touchpoints=touchpoints if spec["control_attributes"] else [],
        control_attributes=spec["control_attributes"],
        today=today,
    )
    status = spec["status"]
    if status == "declined":
        action_services.action_decline(action=action, by=owner, reason=spec["declined_reason"])
        return action
    if status == "proposed":
        return action
    action_services.action_accept(action=action, by=owner)
    if status == "accepted":
        return action
    action_services.action_update_post(
        action=action,
        by=owner,
        text="Work has started; first changes are being tested.",
        progress=30,
    )
    if status == "in_progress":
        return action
    implemented_on = data.implemented_dates[spec["title"]]
    action_services.action_implement(
        action=action, by=owner, implemented_at=implemented_on, today=today
    )
    action_services.action_update_post(
        action=action, by=owner, text=f"Live since {implemented_on:%d %B %Y}.", progress=None
    )
    if status == "measured":
        action_services.action_mark_measured(action=action, by=cx)
    return action


def _driver_figures(data: DemoData, driver: str) -> dict[str, Any]:
    shown = data.responses["ratings"].map(lambda ratings: ratings.get(driver))
    performance = shown.dropna()
    weights = generator.DRIVER_WEIGHTS
    return {
        "share": round(weights.get(driver, 0.0) / sum(weights.values()), 3),
        "performance": round(float(performance.mean()), 2) if len(performance) else None,
    }


# --- analysis -----------------------------------------------------------------------------


def _analyse(summary: SeedSummary, say: Log) -> None:
    """Run the post-ingest processors once over all demo responses, then each analysis."""
    ids = list(
        Response.objects.filter(processed_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if ids:
        started = time.perf_counter()
        try:
            for chunk in _chunks(ids, PROCESS_CHUNK):
                responses_process(response_ids=chunk)
        except Exception as exc:  # an analytics module still being written must not lose the seed
            logger.exception("Processing the demo responses failed")
            summary.skipped.append(f"processing ({type(exc).__name__}: {exc})")
            say(f"Processing (tagging, alerts) stopped: {type(exc).__name__}: {exc}")
        else:
            summary.ran.append("processing")
            say(
                f"Processed {len(ids):,} responses (tagging, alerts) in "
                f"{time.perf_counter() - started:.1f} s."
            )
    available = set(run_kinds_available())
    for kind in ANALYSIS_KINDS:
        if kind not in available:
            summary.skipped.append(f"{kind} (not available yet)")
            continue
        if kind == "impact":
            for action_id, title in _measurable_actions():
                _run(summary, say, kind, {"action_id": action_id}, f"impact of “{title}”")
            continue
        _run(summary, say, kind, {}, kind)


def _measurable_actions() -> list[tuple[int, str]]:
    return list(
        Action.objects.filter(status__in=["implemented", "measured"])
        .order_by("id")
        .values_list("id", "title")
    )


def _run(summary: SeedSummary, say: Log, kind: str, parameters: dict[str, Any], label: str) -> None:
    started = time.perf_counter()
    try:
        run = run_execute_now(kind=kind, parameters=parameters)
    except Exception as exc:  # an analysis refusing its parameters: report it, go on
        message = error_text(exc) if isinstance(exc, ApplicationError) else str(exc)
        summary.skipped.append(f"{label} ({message})")
        say(f"Analysis {label}: not run ({message}).")
        return
    if run.status == "succeeded":
        summary.ran.append(label)
        say(f"Analysis {label}: done in {time.perf_counter() - started:.1f} s.")
    else:
        summary.skipped.append(f"{label} ({run.error})")
        say(f"Analysis {label}: failed: {run.error}")


def _chunks(ids: Sequence[int], size: int) -> list[Sequence[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


# --- reset --------------------------------------------------------------------------------


def _purge(model: type[Model], rows: QuerySet[Any]) -> None:
    """Delete ``rows`` and what depends on them set-wise, without loading them.

    ``QuerySet.delete`` loads every row of a model with cascading relations into memory
    (50,000 responses take half a minute); this follows the same ``on_delete`` rules with
    one statement per relation instead. PROTECT still refuses.
    """
    for relation in model._meta.related_objects:
        related_model = relation.related_model
        if not isinstance(related_model, type):
            continue
        if relation.many_to_many:
            through = relation.through  # type: ignore[attr-defined]
            for through_field in through._meta.get_fields():
                if (
                    getattr(through_field, "related_model", None) is model
                    and through_field.many_to_one
                ):
                    through._base_manager.filter(**{f"{through_field.name}__in": rows}).delete()
            continue
        if not (relation.one_to_many or relation.one_to_one):
            continue
        field_name = relation.field.name
        dependents = related_model._base_manager.filter(**{f"{field_name}__in": rows})
        on_delete = relation.on_delete  # type: ignore[attr-defined]
        if on_delete is CASCADE:
            if related_model._meta.related_objects or _has_delete_signals(related_model):
                dependents.delete()
            else:
                dependents._raw_delete(dependents.db)  # type: ignore[attr-defined]
        elif on_delete is SET_NULL:
            dependents.update(**{field_name: None})
        elif on_delete is PROTECT and dependents.exists():
            raise ProtectedError(
                f"{related_model.__name__} rows refer to {model.__name__}", set(dependents[:5])
            )
    for many_to_many in model._meta.local_many_to_many:
        through = cast(type[Model], many_to_many.remote_field.through)  # type: ignore[attr-defined]
        through._base_manager.filter(**{f"{many_to_many.m2m_field_name()}__in": rows}).delete()
    rows._raw_delete(rows.db)  # type: ignore[attr-defined]


def _has_delete_signals(model: type[Model]) -> bool:
    return signals.pre_delete.has_listeners(model) or signals.post_delete.has_listeners(model)


@transaction.atomic
def demo_reset(*, log: Log | None = None) -> None:
    """Delete feedback, customers, actions, KPI observations and analysis runs.

    The organisation's structure and users stay (they are upserted again when seeding).
    """
    say = _quiet(log)
    try:
        Action.objects.all().delete()
        KpiObservation.objects.all().delete()
        AnalysisRun.objects.all().delete()
        response_days_changed(days=response_days_of(Response._base_manager.all()))
        _purge(Response, Response._base_manager.all())
        _purge(Customer, Customer._base_manager.all())
    except ProtectedError as exc:
        names = sorted({type(obj).__name__ for obj in exc.protected_objects})
        raise Conflict(
            f"Cannot reset: other data still refers to the demo data ({', '.join(names)})."
        ) from exc
    say("Reset: deleted the existing feedback, customers, actions and KPI observations.")
