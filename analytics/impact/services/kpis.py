"""Writes for KPIs and their observations: one item, a bulk post, or a CSV import.

Observations are idempotent on KPI + period + scope: the same value again is a harmless
duplicate, another value is a conflict (it is never silently overwritten). Every item is
checked against its KPI's unit (a percentage stays within 0–100, a count is a
non-negative whole number), its period must start where its granularity starts (a Monday
for weeks, the 1st for months), and its scope must name known departments and
touchpoints. A bulk answer keeps the valid items, lists the rejected ones with reasons and
warns about gaps in the series it touched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

from django.db import IntegrityError, transaction

from analytics.impact.models import Kpi, KpiObservation
from cxhub.errors import Conflict, InvalidInput
from feedback.models import Department, Source, Touchpoint

VALUE_QUANTUM = Decimal("0.000001")
MAX_ABS_VALUE = Decimal("1e13")
SCOPE_FIELDS = ("department", "touchpoint", "segment", "region")
OBSERVATION_FIELDS = {"kpi", "period_start", "granularity", "value", *SCOPE_FIELDS}
MAX_GAP_PERIODS_LISTED = 10


def scope_key_build(
    *, department: str = "", touchpoint: str = "", segment: str = "", region: str = ""
) -> str:
    """The normalised text form of a scope; '' is the whole organisation."""
    parts = {
        "department": department,
        "touchpoint": touchpoint,
        "segment": segment,
        "region": region,
    }
    return "|".join(f"{name}={value}" for name, value in parts.items() if value)


def period_aligned(*, granularity: str, period_start: dt.date) -> bool:
    if granularity == KpiObservation.Granularity.WEEK:
        return period_start.weekday() == 0
    return period_start.day == 1


def period_next(*, granularity: str, period_start: dt.date) -> dt.date:
    if granularity == KpiObservation.Granularity.WEEK:
        return period_start + dt.timedelta(days=7)
    year, month = divmod(period_start.month, 12)
    return dt.date(period_start.year + year, month + 1, 1)


# --- KPIs -------------------------------------------------------------------------------


def kpi_create(
    *,
    slug: str,
    name: str,
    unit: str,
    higher_is_better: bool = True,
    aggregation: str = Kpi.Aggregation.MEAN,
    currency: str = "",
    description: str = "",
) -> Kpi:
    """Declare a custom KPI; currency KPIs need a three-letter currency code."""
    errors: dict[str, list[str]] = {}
    if unit not in Kpi.Unit.values:
        errors["unit"] = [f"'{unit}' is not a unit. Use one of: {', '.join(Kpi.Unit.values)}."]
    if aggregation not in Kpi.Aggregation.values:
        errors["aggregation"] = [
            f"'{aggregation}' is not an aggregation. Use one of: {', '.join(Kpi.Aggregation.values)}."
        ]
    currency = (currency or "").strip().upper()
    if unit == Kpi.Unit.CURRENCY and not (len(currency) == 3 and currency.isalpha()):
        errors["currency"] = ["A currency KPI needs a three-letter ISO 4217 code, e.g. EUR."]
    if unit != Kpi.Unit.CURRENCY and currency:
        errors["currency"] = ["Only currency KPIs take a currency code."]
    if Kpi.objects.filter(slug=slug).exists():
        errors["slug"] = [f"A KPI with slug '{slug}' already exists."]
    if errors:
        raise InvalidInput(field_errors=errors)
    try:
        with transaction.atomic():
            return Kpi.objects.create(
                slug=slug,
                name=name,
                unit=unit,
                higher_is_better=higher_is_better,
                aggregation=aggregation,
                currency=currency,
                description=description,
            )
    except IntegrityError as exc:
        raise Conflict(
            field_errors={"slug": [f"A KPI with slug '{slug}' already exists."]}
        ) from exc


def kpi_for_slug(*, slug: str) -> Kpi:
    """The KPI with this slug, or a 400 that lists the valid slugs."""
    kpi = Kpi.objects.filter(slug=slug, is_active=True).first()
    if kpi is None:
        valid = ", ".join(Kpi.objects.filter(is_active=True).values_list("slug", flat=True))
        raise InvalidInput(
            field_errors={"kpi": [f"Unknown KPI '{slug}'. Valid KPIs: {valid or 'none'}."]}
        )
    return kpi


# --- Observations: validation ---------------------------------------------------------


@dataclass(frozen=True)
class CleanObservation:
    """A checked observation, ready to store."""

    kpi: Kpi
    granularity: str
    period_start: dt.date
    department: Department | None
    touchpoint: Touchpoint | None
    segment: str
    region: str
    value: Decimal

    @property
    def scope_key(self) -> str:
        return scope_key_build(
            department=self.department.slug if self.department else "",
            touchpoint=self.touchpoint.slug if self.touchpoint else "",
            segment=self.segment,
            region=self.region,
        )

    @property
    def identity(self) -> tuple[int, str, dt.date, str]:
        return (self.kpi.pk, self.granularity, self.period_start, self.scope_key)


@dataclass
class _Lookups:
    """Departments, touchpoints and KPIs loaded once per request, not once per item."""

    kpis: dict[str, Kpi]
    departments: dict[str, Department]
    touchpoints: dict[str, Touchpoint]

    @classmethod
    def load(cls) -> _Lookups:
        return cls(
            kpis={kpi.slug: kpi for kpi in Kpi.objects.filter(is_active=True)},
            departments={d.slug: d for d in Department.objects.all()},
            touchpoints={t.slug: t for t in Touchpoint.objects.all()},
        )


def _text(value: Any, name: str, errors: dict[str, list[str]], *, max_length: int = 64) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = ["Must be a string."]
        return ""
    value = value.strip()
    if len(value) > max_length:
        errors[name] = [f"At most {max_length} characters."]
    elif "|" in value or "=" in value:
        errors[name] = ["May not contain '|' or '='."]
    elif any(ord(char) < 32 or ord(char) == 127 for char in value):
        errors[name] = ["May not contain control characters."]
    return value


def _parse_value(raw: Any, kpi: Kpi, errors: dict[str, list[str]]) -> Decimal | None:
    if raw is None or raw == "" or isinstance(raw, bool):
        errors["value"] = ["A numeric value is required."]
        return None
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        errors["value"] = [f"'{raw}' is not a number."]
        return None
    if not value.is_finite() or abs(value) >= MAX_ABS_VALUE:
        errors["value"] = ["Must be a finite number below 10^13 in size."]
        return None
    if kpi.unit == Kpi.Unit.PERCENT and not (0 <= value <= 100):
        errors["value"] = [f"{kpi.name} is a percentage: the value must be between 0 and 100."]
    elif kpi.unit == Kpi.Unit.COUNT and (value < 0 or value != value.to_integral_value()):
        errors["value"] = [f"{kpi.name} is a count: the value must be a whole number ≥ 0."]
    elif kpi.unit == Kpi.Unit.DURATION and value < 0:
        errors["value"] = [f"{kpi.name} is a duration: the value may not be negative."]
    return value.quantize(VALUE_QUANTUM)


def _parse_period(raw: Any, granularity: str, errors: dict[str, list[str]]) -> dt.date | None:
    if not raw or not isinstance(raw, str | dt.date):
        errors["period_start"] = ["A period start date (YYYY-MM-DD) is required."]
        return None
    if isinstance(raw, dt.date):
        period = raw
    else:
        try:
            period = dt.date.fromisoformat(raw.strip())
        except ValueError:
            errors["period_start"] = [f"'{raw}' is not a date in the form YYYY-MM-DD."]
            return None
    if granularity in KpiObservation.Granularity.values and not period_aligned(
        granularity=granularity, period_start=period
    ):
        if granularity == KpiObservation.Granularity.WEEK:
            monday = period - dt.timedelta(days=period.weekday())
            message = (
                f"A weekly period starts on a Monday; {period} is a {period:%A} (use {monday})."
            )
        else:
            message = f"A monthly period starts on the 1st; use {period.replace(day=1)}."
        errors["period_start"] = [message]
    return period


def observation_clean(
    *, item: Any, kpi: Kpi | None = None, lookups: _Lookups | None = None
) -> CleanObservation:
    """Check one observation (a JSON object or CSV row); raises ``InvalidInput``."""
    if not isinstance(item, Mapping):
        raise InvalidInput(
            field_errors={"non_field_errors": ["Each observation must be a JSON object."]}
        )
    lookups = lookups or _Lookups.load()
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(item) - OBSERVATION_FIELDS)
    if unknown:
        errors["non_field_errors"] = [
            f"Unknown field(s): {', '.join(unknown)}. Allowed: {', '.join(sorted(OBSERVATION_FIELDS))}."
        ]
    if kpi is None:
        slug = item.get("kpi")
        kpi = lookups.kpis.get(slug) if isinstance(slug, str) else None
        if kpi is None:
            valid = ", ".join(sorted(lookups.kpis)) or "none"
            errors["kpi"] = [
                f"Unknown KPI '{slug}'. Valid KPIs: {valid}."
                if slug
                else f"Required. Valid KPIs: {valid}."
            ]
    elif item.get("kpi") not in (None, "", kpi.slug):
        errors["kpi"] = [f"This endpoint takes observations of '{kpi.slug}' only."]
    granularity = item.get("granularity") or KpiObservation.Granularity.WEEK
    if granularity not in KpiObservation.Granularity.values:
        errors["granularity"] = [
            f"'{granularity}' is not a granularity. Use one of: {', '.join(KpiObservation.Granularity.values)}."
        ]
    period = _parse_period(item.get("period_start"), str(granularity), errors)
    value = _parse_value(item.get("value"), kpi, errors) if kpi is not None else None
    department = touchpoint = None
    department_slug = _text(item.get("department"), "department", errors, max_length=120)
    if department_slug:
        department = lookups.departments.get(department_slug)
        if department is None:
            valid = ", ".join(sorted(lookups.departments)) or "none"
            errors["department"] = [f"Unknown department '{department_slug}'. Valid: {valid}."]
    touchpoint_slug = _text(item.get("touchpoint"), "touchpoint", errors, max_length=120)
    if touchpoint_slug:
        touchpoint = lookups.touchpoints.get(touchpoint_slug)
        if touchpoint is None:
            valid = ", ".join(sorted(lookups.touchpoints)) or "none"
            errors["touchpoint"] = [f"Unknown touchpoint '{touchpoint_slug}'. Valid: {valid}."]
    segment = _text(item.get("segment"), "segment", errors)
    region = _text(item.get("region"), "region", errors)
    if errors or kpi is None or period is None or value is None:
        raise InvalidInput(field_errors=errors or {"non_field_errors": ["Invalid observation."]})
    return CleanObservation(
        kpi=kpi,
        granularity=str(granularity),
        period_start=period,
        department=department,
        touchpoint=touchpoint,
        segment=segment,
        region=region,
        value=value,
    )


# --- Observations: storing ------------------------------------------------------------


def _conflict_message(clean: CleanObservation, stored: Decimal) -> str:
    return (
        f"{clean.kpi.slug} already has {stored.normalize()} for the {clean.granularity} of "
        f"{clean.period_start} in scope '{clean.scope_key or 'all'}'; refusing to overwrite it "
        f"with {clean.value.normalize()}."
    )


def _existing_for(
    cleans: Sequence[CleanObservation],
) -> dict[tuple[int, str, dt.date, str], KpiObservation]:
    """Stored rows with the same identity as any of ``cleans``.

    One query per KPI and granularity selects the periods × scopes rectangle (a superset,
    cheap to build even for thousands of items); the exact identities are matched here.
    """
    wanted = {clean.identity for clean in cleans}
    groups: dict[tuple[int, str], tuple[set[dt.date], set[str]]] = {}
    for kpi_id, granularity, period, scope_key in wanted:
        periods, scopes = groups.setdefault((kpi_id, granularity), (set(), set()))
        periods.add(period)
        scopes.add(scope_key)
    found: dict[tuple[int, str, dt.date, str], KpiObservation] = {}
    for (kpi_id, granularity), (periods, scopes) in groups.items():
        rows = KpiObservation.objects.filter(
            kpi_id=kpi_id,
            granularity=granularity,
            period_start__in=sorted(periods),
            scope_key__in=sorted(scopes),
        )
        for row in rows:
            identity = (row.kpi_id, row.granularity, row.period_start, row.scope_key)
            if identity in wanted:
                found[identity] = row
    return found


def _new_row(clean: CleanObservation, source: Source | None) -> KpiObservation:
    return KpiObservation(
        kpi=clean.kpi,
        granularity=clean.granularity,
        period_start=clean.period_start,
        department=clean.department,
        touchpoint=clean.touchpoint,
        segment=clean.segment,
        region=clean.region,
        scope_key=clean.scope_key,
        value=clean.value,
        source=source,
    )


def observation_record(
    *, kpi: Kpi, item: Any, source: Source | None = None
) -> tuple[KpiObservation, bool]:
    """Store one observation; ``(row, True)`` when new, ``(row, False)`` for a duplicate.

    Raises ``InvalidInput`` for bad input and ``Conflict`` when the period and scope
    already hold another value. Safe under concurrent identical posts: the unique
    constraint decides, and the loser re-reads the winner's row.
    """
    clean = observation_clean(item=item, kpi=kpi)
    for _attempt in range(2):
        existing = _existing_for([clean]).get(clean.identity)
        if existing is not None:
            if existing.value != clean.value:
                raise Conflict(field_errors={"value": [_conflict_message(clean, existing.value)]})
            return existing, False
        try:
            with transaction.atomic():
                row = _new_row(clean, source)
                row.save()
                return row, True
        except IntegrityError:
            continue
    raise Conflict("The observation was changed concurrently; please retry.")


@dataclass
class BulkOutcome:
    """The answer to a bulk post: what was stored, what was already there, what was refused."""

    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    conflicts: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    series: set[tuple[int, str, str, str]] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "conflicts": self.conflicts,
            "errors": self.errors,
            "warnings": self.warnings,
        }


def _item_label(item: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        return {}
    return {key: item.get(key) for key in ("kpi", "period_start") if item.get(key) is not None}


def observations_bulk_record(
    *,
    items: Iterable[Any],
    kpi: Kpi | None = None,
    source: Source | None = None,
    first_index: int = 0,
    warn_gaps: bool = True,
) -> BulkOutcome:
    """Store every valid observation; report each invalid or conflicting one by index.

    ``kpi`` fixes the KPI (the ``kpis/{slug}/observations/bulk/`` endpoint); without it each
    item names its own ``kpi`` (CSV import). Two items of one request for the same KPI,
    period and scope must agree, like a re-post would.
    """
    outcome = BulkOutcome()
    lookups = _Lookups.load()
    cleans: list[tuple[int, CleanObservation]] = []
    seen: dict[tuple[int, str, dt.date, str], tuple[int, Decimal]] = {}
    for offset, item in enumerate(items):
        index = first_index + offset
        try:
            clean = observation_clean(item=item, kpi=kpi, lookups=lookups)
        except InvalidInput as exc:
            outcome.rejected += 1
            outcome.errors.append({"index": index, **_item_label(item), "errors": exc.field_errors})
            continue
        earlier = seen.get(clean.identity)
        if earlier is not None:
            if earlier[1] == clean.value:
                outcome.duplicates += 1
            else:
                outcome.rejected += 1
                outcome.conflicts += 1
                outcome.errors.append(
                    {
                        "index": index,
                        **_item_label(item),
                        "errors": {
                            "value": [
                                f"Item {earlier[0]} of this request gives another value for the same KPI, period and scope."
                            ]
                        },
                    }
                )
            continue
        seen[clean.identity] = (index, clean.value)
        cleans.append((index, clean))
    for start in range(0, len(cleans), 500):
        _store_chunk(cleans[start : start + 500], source, outcome)
    outcome.series = {(c.kpi.pk, c.kpi.slug, c.granularity, c.scope_key) for _, c in cleans}
    if warn_gaps:
        outcome.warnings = series_gap_warnings(series=outcome.series)
    return outcome


def _store_chunk(
    chunk: Sequence[tuple[int, CleanObservation]], source: Source | None, outcome: BulkOutcome
) -> None:
    existing = _existing_for([clean for _, clean in chunk])
    new: list[tuple[int, CleanObservation]] = []
    for index, clean in chunk:
        row = existing.get(clean.identity)
        if row is None:
            new.append((index, clean))
        elif row.value == clean.value:
            outcome.duplicates += 1
        else:
            outcome.rejected += 1
            outcome.conflicts += 1
            outcome.errors.append(
                {
                    "index": index,
                    "kpi": clean.kpi.slug,
                    "period_start": clean.period_start.isoformat(),
                    "errors": {"value": [_conflict_message(clean, row.value)]},
                }
            )
    if not new:
        return
    try:
        with transaction.atomic():
            KpiObservation.objects.bulk_create([_new_row(clean, source) for _, clean in new])
        outcome.created += len(new)
    except IntegrityError:
        # Another request stored some of these meanwhile: settle them one by one.
        for index, clean in new:
            try:
                _, created = observation_record(kpi=clean.kpi, item=_as_item(clean), source=source)
            except Conflict as exc:
                outcome.rejected += 1
                outcome.conflicts += 1
                outcome.errors.append({"index": index, "errors": exc.field_errors})
                continue
            if created:
                outcome.created += 1
            else:
                outcome.duplicates += 1


def _as_item(clean: CleanObservation) -> dict[str, Any]:
    return {
        "period_start": clean.period_start.isoformat(),
        "granularity": clean.granularity,
        "value": str(clean.value),
        "department": clean.department.slug if clean.department else "",
        "touchpoint": clean.touchpoint.slug if clean.touchpoint else "",
        "segment": clean.segment,
        "region": clean.region,
    }


def series_gap_warnings(*, series: Iterable[tuple[int, str, str, str]]) -> list[str]:
    """Missing periods inside each series (KPI id, slug, granularity, scope key) given."""
    warnings = []
    for kpi_id, slug, granularity, scope_key in sorted(series, key=lambda s: (s[1], s[2], s[3])):
        periods = sorted(
            KpiObservation.objects.filter(
                kpi_id=kpi_id, granularity=granularity, scope_key=scope_key
            ).values_list("period_start", flat=True)
        )
        if len(periods) < 2:
            continue
        present = set(periods)
        missing = []
        cursor = periods[0]
        while cursor < periods[-1]:
            if cursor not in present:
                missing.append(cursor)
            cursor = period_next(granularity=granularity, period_start=cursor)
        if missing:
            listed = ", ".join(day.isoformat() for day in missing[:MAX_GAP_PERIODS_LISTED])
            more = (
                f" and {len(missing) - MAX_GAP_PERIODS_LISTED} more"
                if len(missing) > MAX_GAP_PERIODS_LISTED
                else ""
            )
            warnings.append(
                f"{slug} ({granularity}, scope '{scope_key or 'all'}') has {len(missing)} missing "
                f"period(s) between {periods[0]} and {periods[-1]}: {listed}{more}."
            )
    return warnings


# --- CSV import ---------------------------------------------------------------------------

CSV_COLUMNS = ("kpi", "period_start", "granularity", "value", *SCOPE_FIELDS)


class CSVFormatError(ValueError):
    """The file is not a CSV this importer can read (readable message)."""


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    warnings: list[str] = field(default_factory=list)
    rejected_path: str = ""

    def line(self) -> str:
        text = (
            f"{self.rows} rows: {self.created} created, {self.duplicates} duplicates, "
            f"{self.rejected} rejected"
        )
        if self.rejected:
            text += f" (reasons in {self.rejected_path})"
        return text + "."


def _row_item(row: Mapping[str, str], default_kpi: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        key: value.strip() for key, value in row.items() if key and value not in (None, "")
    }
    if default_kpi and not item.get("kpi"):
        item["kpi"] = default_kpi
    return item


def observations_import_csv(
    *,
    lines: Iterable[str],
    rejected_file: TextIO,
    default_kpi: str | None = None,
    source: Source | None = None,
    chunk_size: int = 1000,
    on_progress: Callable[[int], object] | None = None,
) -> ImportSummary:
    """Import KPI observations from CSV text lines (with a header row).

    Columns: ``kpi`` (or ``default_kpi``), ``period_start``, ``granularity``, ``value`` and
    optionally ``department``, ``touchpoint``, ``segment``, ``region``. Rows go through the
    same rules as the API; each rejected row is written to ``rejected_file`` (an open text
    file) with its line number and reasons. ``on_progress(n)`` is called per chunk.
    """
    import csv

    reader = csv.DictReader(lines)
    header = [name.strip() for name in reader.fieldnames or []]
    if not header:
        raise CSVFormatError("The file is empty; expected a header row.")
    reader.fieldnames = header
    unknown = [name for name in header if name not in CSV_COLUMNS]
    missing = [name for name in ("period_start", "value") if name not in header]
    if "kpi" not in header and not default_kpi:
        missing.append("kpi (or --kpi)")
    if unknown or missing:
        problems = []
        if missing:
            problems.append(f"missing column(s): {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s): {', '.join(unknown)}")
        raise CSVFormatError(
            f"Bad header ({'; '.join(problems)}). Columns: {', '.join(CSV_COLUMNS)}."
        )
    if default_kpi:
        kpi_for_slug(slug=default_kpi)
    writer = csv.writer(rejected_file)
    writer.writerow(["line", *header, "errors"])
    summary = ImportSummary()
    chunk: list[tuple[int, dict[str, str]]] = []
    touched: set[tuple[int, str, str, str]] = set()

    def flush() -> None:
        outcome = observations_bulk_record(
            items=[_row_item(row, default_kpi) for _, row in chunk],
            source=source,
            warn_gaps=False,
        )
        summary.created += outcome.created
        summary.duplicates += outcome.duplicates
        summary.rejected += outcome.rejected
        touched.update(outcome.series)
        for error in outcome.errors:
            line, row = chunk[error["index"]]
            reasons = "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in error["errors"].items()
            )
            writer.writerow([line, *(row.get(name, "") for name in header), reasons])
        if on_progress is not None:
            on_progress(len(chunk))
        chunk.clear()

    for row in reader:
        summary.rows += 1
        chunk.append((reader.line_num, {k: v for k, v in row.items() if isinstance(k, str)}))
        if len(chunk) >= chunk_size:
            flush()
    if chunk:
        flush()
    summary.warnings = series_gap_warnings(series=touched)
    return summary
