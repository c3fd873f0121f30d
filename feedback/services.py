"""Writes of the feedback app: ingesting responses and customers, API keys, processing.

Ingestion is set-based so that a bulk post costs a handful of queries whatever its size:
validate in plain Python, then on PostgreSQL ``COPY`` the valid rows into a temporary table
and move them with one ``INSERT ... SELECT ... ON CONFLICT (source_id, external_id) DO
NOTHING RETURNING``. Rows that were not inserted already existed: their stored content hash
decides between a harmless duplicate and a conflict. Because the database, not a prior
``SELECT``, decides who wins, concurrent posts of the same item store exactly one row.

Processing (tagging etc.) is queued after commit. A dead broker never fails ingestion: the
rows stay with ``processing_queued_at`` empty and ``responses_sweep_unprocessed`` re-queues
them later.

Every write here that changes what a response counts as (ingest, erasure, deletion) marks
the response's local day changed in the same transaction (``response_days_changed``), so
the roll-ups above ``feedback`` recount exactly those days.
"""

from __future__ import annotations

import csv
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from psycopg.errors import UniqueViolation

from cxhub.errors import Conflict, Forbidden, InvalidInput, NotFound
from feedback.models import (
    Customer,
    CustomerErasure,
    Response,
    ResponseDayChange,
    Source,
    SourceAPIKey,
)
from feedback.privacy import ErasedCustomer, attributes_without_personal_data, customer_erasers
from feedback.processing import days_changed_listeners, response_processors
from feedback.validation import (
    CSV_IGNORED_COLUMNS,
    CSVFormatError,
    CSVRow,
    ErrorDict,
    NormalisedResponse,
    ValidationContext,
    iter_csv_items,
    validate_customer,
    validate_response,
)

logger = logging.getLogger(__name__)

DEFAULT_API_SOURCE = "api"
PROCESSING_CHUNK = 1_000
SWEEP_STALE_AFTER = timedelta(minutes=10)
SWEEP_LIMIT = 20_000
_SQLITE_INSERT_BATCH = 1_000
# Below this many rows a plain INSERT ... ON CONFLICT is cheaper than reserving ids and COPY.
_COPY_MIN_ROWS = 20

_INGEST_TABLE = "cxhub_ingest_rows"
_INGEST_COLUMNS = (
    "ord",
    "external_id",
    "submitted_at",
    "customer_id",
    "channel",
    "touchpoint_id",
    "nps",
    "csat",
    "ces",
    "ratings",
    "comment",
    "attributes",
    "content_hash",
)


# --- Sources and keys -----------------------------------------------------------------------


def source_get_or_create(*, name: str, kind: str | None = None) -> tuple[Source, bool]:
    """The source called ``name``, created with ``kind`` (default "other") if it is new."""
    name = name.strip()
    if not name:
        raise InvalidInput(field_errors={"source": ["A source name is required."]})
    if len(name) > 120:
        raise InvalidInput(field_errors={"source": ["A source name has at most 120 characters."]})
    if kind is not None and kind not in Source.Kind.values:
        raise InvalidInput(
            field_errors={
                "kind": [
                    f"Unknown source kind {kind!r}; valid kinds: {', '.join(Source.Kind.values)}."
                ]
            }
        )
    source, created = Source.objects.get_or_create(
        name=name, defaults={"kind": kind or Source.Kind.OTHER}
    )
    return source, created


def source_api_key_create(*, source: Source, name: str = "") -> tuple[SourceAPIKey, str]:
    """A new API key for ``source``; the plain key is returned once and never stored."""
    api_key, key = SourceAPIKey.objects.create_key(
        name=(name or f"{source.name} key")[:50], source=source
    )
    assert isinstance(api_key, SourceAPIKey)
    return api_key, key


# A key's last-used time is written at most this often, so that reads do not write each time.
API_KEY_LAST_USED_RESOLUTION = timedelta(minutes=1)


def source_api_key_mark_used(*, api_key: SourceAPIKey) -> None:
    """Record that ``api_key`` authenticated a call now, unless it already did this minute.

    The conditional UPDATE lets concurrent calls of one key write once between them.
    """
    now = timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < (
        API_KEY_LAST_USED_RESOLUTION
    ):
        return
    SourceAPIKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - API_KEY_LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    api_key.last_used_at = now


def source_api_keys_revoke(*, prefix: str | None = None, source_name: str | None = None) -> int:
    """Revoke the key with ``prefix``, or every key of the source named ``source_name``.

    Returns how many keys this call revoked (keys already revoked are not counted). An
    unknown prefix or source is an error, so a typo does not pass for success.
    """
    if (prefix is None) == (source_name is None):
        raise InvalidInput("Give either a key prefix or a source name.")
    if prefix is not None:
        keys = SourceAPIKey.objects.filter(prefix=prefix)
        if not keys.exists():
            raise NotFound(field_errors={"prefix": [f"No API key has the prefix {prefix!r}."]})
    else:
        source = Source.objects.filter(name=source_name).first()
        if source is None:
            known = ", ".join(Source.objects.values_list("name", flat=True)) or "none"
            raise NotFound(
                field_errors={"source": [f"No source is named {source_name!r}. Sources: {known}."]}
            )
        keys = SourceAPIKey.objects.filter(source=source)
    return keys.filter(revoked=False).update(revoked=True)


def source_for_user_post(*, name: str | None) -> Source:
    """The source a user's post is recorded under: the named one, or "api" created on demand."""
    if name is None or (isinstance(name, str) and not name.strip()):
        source, _ = source_get_or_create(name=DEFAULT_API_SOURCE, kind=Source.Kind.OTHER)
        return source
    if not isinstance(name, str):
        raise InvalidInput(field_errors={"source": ["Must be the name of a source."]})
    source_obj = Source.objects.filter(name=name.strip()).first()
    if source_obj is None:
        valid = ", ".join(Source.objects.order_by("name").values_list("name", flat=True)[:50])
        raise InvalidInput(
            field_errors={
                "source": [f"Unknown source {name[:60]!r}; known sources: {valid or 'none yet'}."]
            }
        )
    if not source_obj.is_active:
        raise InvalidInput(
            field_errors={"source": [f"The source {source_obj.name!r} is inactive."]}
        )
    return source_obj


# --- Changed days -------------------------------------------------------------------------

_DAYS_PER_STATEMENT = 500


def response_day(moment: datetime) -> date:
    """The calendar day of ``moment`` in the project's time zone (``settings.TIME_ZONE``):
    the day a response counts on in every roll-up and every date filter."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def response_days_changed(*, days: Iterable[date]) -> None:
    """Mark ``days`` as changed: what their responses count as is not what the roll-ups
    hold any more. Call it inside the transaction of the write.

    One ``INSERT ... ON CONFLICT (day) DO UPDATE`` per few hundred days, in day order (two
    writers marking the same days lock them in the same order, so they cannot deadlock).
    Updating an existing row takes its row lock: a roll-up refresh holding that row
    (``SELECT ... FOR UPDATE``) makes this wait until the refresh commits and deleted it,
    and then inserts the row again, so a day written during a refresh stays marked.
    Registered listeners (``feedback.processing``) are told after the commit.
    """
    unique = sorted(set(days))
    if not unique:
        return
    table = connection.ops.quote_name(ResponseDayChange._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cursor:
        for start in range(0, len(unique), _DAYS_PER_STATEMENT):
            batch = unique[start : start + _DAYS_PER_STATEMENT]
            cursor.execute(
                f"INSERT INTO {table} (day, changed_at) VALUES "
                f"{', '.join(['(%s, %s)'] * len(batch))} "
                "ON CONFLICT (day) DO UPDATE SET changed_at = EXCLUDED.changed_at",
                [
                    value
                    for day in batch
                    for value in (
                        connection.ops.adapt_datefield_value(day),
                        connection.ops.adapt_datetimefield_value(now),
                    )
                ],
            )
    for _, listener in days_changed_listeners():
        transaction.on_commit(listener)


def response_days_of(responses: QuerySet[Response]) -> list[date]:
    """The calendar days (project time zone) on which ``responses`` were submitted."""
    return sorted(
        responses.order_by()
        .annotate(day=TruncDate("submitted_at", tzinfo=timezone.get_default_timezone()))
        .values_list("day", flat=True)
        .distinct()
    )


def responses_delete(*, responses: QuerySet[Response]) -> int:
    """Delete ``responses`` (and what cascades from them), marking their days changed in
    the same transaction; returns how many responses were deleted."""
    with transaction.atomic():
        response_days_changed(days=response_days_of(responses))
        _, by_model = responses.delete()
    return int(by_model.get(Response._meta.label, 0))


# --- Responses ----------------------------------------------------------------------------


@dataclass
class BulkIngestResult:
    """What a bulk ingest did: every item is counted once as created, duplicate or rejected."""

    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    conflicts: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    created_ids: list[int] = field(default_factory=list)
    # index -> stored id for created and duplicate items (used by the single-item path)
    stored_ids: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "conflicts": self.conflicts,
            "errors": self.errors,
        }

    def reject(
        self, index: int, external_id: Any, errors: ErrorDict, *, conflict: bool = False
    ) -> None:
        self.rejected += 1
        if conflict:
            self.conflicts += 1
        self.errors.append(
            {
                "index": index,
                # Always text (or null), as the schema says: an integer id is echoed as text.
                "external_id": str(external_id)
                if isinstance(external_id, str | int) and not isinstance(external_id, bool)
                else None,
                "errors": errors,
            }
        )


def _conflict_message(external_id: str, stored_id: int) -> str:
    return (
        f"A response with external_id {external_id!r} from this source is already stored "
        f"(id {stored_id}) with different content; use a new external_id for a new response."
    )


def responses_ingest_bulk(
    *,
    source: Source,
    items: Sequence[Any],
    queue_processing: bool = True,
    customers_owner: Source | None = None,
) -> BulkIngestResult:
    """Validate and store many feedback items for ``source`` in one transaction.

    Valid items are stored, invalid ones reported with their index; an external id already
    stored with the same content counts as a duplicate, with other content as a conflict
    (reported as an error item). Nothing is dropped silently. Unknown customers the items
    name are created bare, recorded as created by ``customers_owner`` (the source of the
    posting API key; None when people post).
    """
    owner_id = customers_owner.pk if customers_owner is not None else None
    result = BulkIngestResult()
    context = ValidationContext.load()
    accepted: dict[str, tuple[int, NormalisedResponse]] = {}
    for index, item in enumerate(items):
        normalised, errors = validate_response(item, context, source_name=source.name)
        if normalised is None:
            external_id = item.get("external_id") if isinstance(item, dict) else None
            result.reject(index, external_id, errors)
            continue
        earlier = accepted.get(normalised.external_id)
        if earlier is None:
            accepted[normalised.external_id] = (index, normalised)
        elif earlier[1].content_hash == normalised.content_hash:
            result.duplicates += 1
        else:
            result.reject(
                index,
                normalised.external_id,
                {
                    "external_id": [
                        f"Repeats the external_id of item {earlier[0]} with different content."
                    ]
                },
                conflict=True,
            )
    if not accepted:
        result.errors.sort(key=lambda error: error["index"])
        return result

    rows = list(accepted.values())
    # Rows are stored as queued; if publishing then fails, the mark is taken off again.
    queued_at = timezone.now() if queue_processing else None
    with transaction.atomic():
        if connection.vendor == "postgresql" and len(rows) > _COPY_MIN_ROWS:
            inserted = _insert_rows_postgresql(source.pk, rows, queued_at, owner_id)
        else:
            inserted = _insert_rows_generic(source.pk, rows, queued_at, owner_id)
        missing = [
            normalised.external_id
            for _, normalised in rows
            if normalised.external_id not in inserted
        ]
        existing: dict[str, tuple[int, str]] = {}
        for start in range(0, len(missing), 5_000):
            existing.update(
                (external_id, (pk, stored_hash))
                for pk, external_id, stored_hash in Response.objects.filter(
                    source_id=source.pk, external_id__in=missing[start : start + 5_000]
                ).values_list("id", "external_id", "content_hash")
            )
        for index, normalised in rows:
            new_id = inserted.get(normalised.external_id)
            if new_id is not None:
                result.created += 1
                result.created_ids.append(new_id)
                result.stored_ids[index] = new_id
                continue
            stored = existing.get(normalised.external_id)
            if stored is None:
                # Not inserted yet not found: the conflicting row vanished in between
                # (deleted concurrently). Nothing is stored; the caller may simply retry.
                result.reject(
                    index,
                    normalised.external_id,
                    {"external_id": ["Changed concurrently by another request; please retry."]},
                )
                continue
            stored_id, stored_hash = stored
            if stored_hash == normalised.content_hash:
                result.duplicates += 1
                result.stored_ids[index] = stored_id
            else:
                result.reject(
                    index,
                    normalised.external_id,
                    {"external_id": [_conflict_message(normalised.external_id, stored_id)]},
                    conflict=True,
                )
        response_days_changed(
            days={
                response_day(normalised.submitted_at)
                for _, normalised in rows
                if normalised.external_id in inserted
            }
        )
        if queue_processing and result.created_ids:
            transaction.on_commit(
                partial(
                    responses_queue_processing,
                    response_ids=list(result.created_ids),
                    already_marked=True,
                )
            )
    result.errors.sort(key=lambda error: error["index"])
    return result


def _insert_rows_postgresql(
    source_id: int,
    rows: list[tuple[int, NormalisedResponse]],
    queued_at: datetime | None,
    owner_id: int | None,
) -> dict[str, int]:
    """Store new rows with one ``COPY`` straight into the table.

    Ids for the rows are taken from the table's sequence first, so ``COPY`` (which cannot
    return ids) still tells the caller what it created. When any row already exists (a
    retry, or the same item posted concurrently) the ``COPY`` hits the unique constraint;
    the savepoint is rolled back and the batch goes through ``INSERT ... ON CONFLICT DO
    NOTHING``, which the database arbitrates. Fresh batches, the common case, pay for one
    ``COPY`` only.
    """
    response_table = Response._meta.db_table
    with connection.cursor() as cursor:
        new_rows = rows
        customers = _customer_ids_postgresql(
            cursor,
            {r.customer_external_id for _, r in new_rows if r.customer_external_id},
            owner_id,
        )
        # The sequence is looked up once (an InitPlan), not once a row: 4 ms for 10,000 ids
        # instead of 70.
        cursor.execute(
            "SELECT nextval((SELECT pg_get_serial_sequence(%s, 'id')::regclass)) "
            "FROM generate_series(1, %s)",
            [response_table, len(new_rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        now = timezone.now().isoformat()
        queued = queued_at.isoformat() if queued_at is not None else None
        columns = (
            "id, source_id, external_id, submitted_at, customer_id, channel, touchpoint_id, "
            "nps, csat, ces, ratings, comment, attributes, content_hash, created_at, updated_at, "
            "processing_queued_at"
        )
        try:
            with (
                transaction.atomic(),
                cursor.cursor.copy(f"COPY {response_table} ({columns}) FROM STDIN") as copy,
            ):
                for pk, (_, r) in zip(ids, new_rows, strict=True):
                    copy.write_row(
                        (
                            pk,
                            source_id,
                            *_content_values(r, customers, times_as_text=True),
                            now,
                            now,
                            queued,
                        )
                    )
        except (IntegrityError, UniqueViolation):
            # The raw psycopg cursor that COPY needs raises psycopg's own error class.
            return _insert_rows_on_conflict_postgresql(source_id, new_rows, customers, queued_at)
        return {r.external_id: pk for pk, (_, r) in zip(ids, new_rows, strict=True)}


def _content_values(
    r: NormalisedResponse, customers: Mapping[str, int], *, times_as_text: bool = False
) -> tuple[Any, ...]:
    """A response's stored content in column order (external_id … content_hash), the same for
    every write path: COPY into the table, COPY into the staging table and INSERT.

    ``times_as_text`` gives the time as ISO 8601 text, for ``COPY``, whose text format
    PostgreSQL parses as it would psycopg's rendering of the datetime; the row writer then
    passes it on as it is instead of formatting a datetime (5 of the 9 µs a row took)."""
    return (
        r.external_id,
        r.submitted_at.isoformat() if times_as_text else r.submitted_at,
        customers.get(r.customer_external_id) if r.customer_external_id else None,
        r.channel,
        r.touchpoint_id,
        r.nps,
        r.csat,
        r.ces,
        r.ratings_json,
        r.comment,
        r.attributes_json,
        r.content_hash,
    )


def _customer_ids_postgresql(
    cursor: Any, external_ids: set[str], owner_id: int | None
) -> dict[str, int]:
    """Ids of these customers, creating the missing ones bare (concurrency-safe)."""
    if not external_ids:
        return {}
    table = Customer._meta.db_table
    wanted = list(external_ids)
    cursor.execute(f"SELECT external_id, id FROM {table} WHERE external_id = ANY(%s)", [wanted])
    found: dict[str, int] = dict(cursor.fetchall())
    missing = [external_id for external_id in wanted if external_id not in found]
    if missing:
        now = timezone.now()
        cursor.execute(
            f"INSERT INTO {table} (external_id, source_id, segment, region, plan, attributes, "
            "created_at, updated_at) "
            "SELECT unnest(%s::text[]), %s, '', '', '', '{}'::jsonb, %s, %s "
            "ON CONFLICT (external_id) DO NOTHING RETURNING external_id, id",
            [missing, owner_id, now, now],
        )
        found.update(cursor.fetchall())
        still = [external_id for external_id in missing if external_id not in found]
        if still:  # created by a concurrent request since the first look
            cursor.execute(
                f"SELECT external_id, id FROM {table} WHERE external_id = ANY(%s)", [still]
            )
            found.update(cursor.fetchall())
    return found


def _insert_rows_on_conflict_postgresql(
    source_id: int,
    rows: list[tuple[int, NormalisedResponse]],
    customers: dict[str, int],
    queued_at: datetime | None,
) -> dict[str, int]:
    """COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT DO NOTHING."""
    response_table = Response._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_INGEST_TABLE} ("
            "ord integer, external_id text, submitted_at timestamptz, customer_id bigint, "
            "channel text, touchpoint_id bigint, nps smallint, csat smallint, ces smallint, "
            "ratings jsonb, comment text, attributes jsonb, content_hash text"
            ") ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {_INGEST_TABLE}")
        with cursor.cursor.copy(
            f"COPY {_INGEST_TABLE} ({', '.join(_INGEST_COLUMNS)}) FROM STDIN"
        ) as copy:
            for index, r in rows:
                copy.write_row((index, *_content_values(r, customers, times_as_text=True)))
        cursor.execute(
            f"INSERT INTO {response_table} (source_id, external_id, submitted_at, customer_id, channel, "
            "touchpoint_id, nps, csat, ces, ratings, comment, attributes, content_hash, created_at, updated_at, "
            "processing_queued_at) "
            "SELECT %s, external_id, submitted_at, customer_id, channel, touchpoint_id, nps, csat, "
            f"ces, ratings, comment, attributes, content_hash, %s, %s, %s FROM {_INGEST_TABLE} "
            "ORDER BY ord "
            "ON CONFLICT (source_id, external_id) DO NOTHING RETURNING id, external_id",
            [source_id, now, now, queued_at],
        )
        return {external_id: pk for pk, external_id in cursor.fetchall()}


def _customer_ids(external_ids: set[str], owner_id: int | None) -> dict[str, int]:
    """Ids of the customers with these external ids, creating the missing ones bare."""
    if not external_ids:
        return {}
    wanted = list(external_ids)
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 5_000):
        found.update(
            Customer.objects.filter(external_id__in=wanted[start : start + 5_000]).values_list(
                "external_id", "id"
            )
        )
    missing = [external_id for external_id in wanted if external_id not in found]
    if missing:
        Customer.objects.bulk_create(
            [Customer(external_id=external_id, source_id=owner_id) for external_id in missing],
            ignore_conflicts=True,
            batch_size=1_000,
        )
        for start in range(0, len(missing), 5_000):
            found.update(
                Customer.objects.filter(external_id__in=missing[start : start + 5_000]).values_list(
                    "external_id", "id"
                )
            )
    return found


def _insert_rows_generic(
    source_id: int,
    rows: list[tuple[int, NormalisedResponse]],
    queued_at: datetime | None,
    owner_id: int | None,
) -> dict[str, int]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING in batches (SQLite, and small batches)."""
    customers = _customer_ids(
        {r.customer_external_id for _, r in rows if r.customer_external_id}, owner_id
    )
    table = Response._meta.db_table
    now = timezone.now()
    columns = (
        "source_id, external_id, submitted_at, customer_id, channel, touchpoint_id, nps, csat, ces, "
        "ratings, comment, attributes, content_hash, created_at, updated_at, processing_queued_at"
    )
    placeholders = "(" + ", ".join(["%s"] * 16) + ")"
    inserted: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _SQLITE_INSERT_BATCH):
            batch = rows[start : start + _SQLITE_INSERT_BATCH]
            params: list[Any] = []
            for _, r in batch:
                params.extend(
                    (
                        source_id,
                        *_content_values(r, customers),
                        now,
                        now,
                        queued_at,
                    )
                )
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholders] * len(batch))} "
                "ON CONFLICT (source_id, external_id) DO NOTHING RETURNING id, external_id",
                params,
            )
            inserted.update({external_id: pk for pk, external_id in cursor.fetchall()})
    return inserted


def response_ingest(
    *, source: Source, data: Any, customers_owner: Source | None = None
) -> tuple[Response, bool]:
    """Store one feedback item; returns the stored response and whether it was new.

    Raises ``InvalidInput`` (400) for invalid content and ``Conflict`` (409) when the
    external id is already stored with different content.
    """
    result = responses_ingest_bulk(source=source, items=[data], customers_owner=customers_owner)
    if result.errors:
        errors = result.errors[0]["errors"]
        if result.conflicts:
            raise Conflict(errors["external_id"][0], field_errors=errors)
        raise InvalidInput(field_errors=errors)
    stored_id = result.stored_ids[0]
    response = Response.objects.select_related("source", "touchpoint", "customer").get(pk=stored_id)
    return response, bool(result.created)


def responses_queue_processing(
    *,
    response_ids: Sequence[int],
    already_marked: bool = False,
    chunk_size: int = PROCESSING_CHUNK,
) -> int:
    """Publish processing tasks in chunks; returns how many ids were queued.

    A broker that cannot be reached stops the publishing at once and leaves the unqueued rows
    with ``processing_queued_at`` empty for the sweep; ingestion is never failed by it.
    ``already_marked`` says the rows were stored with ``processing_queued_at`` set (ingest
    does so to save an UPDATE per batch), so only a failure has to write.
    """
    from feedback.tasks import responses_process_task

    queued = 0
    ids = list(response_ids)
    try:
        with responses_process_task.app.producer_or_acquire() as producer:
            for start in range(0, len(ids), chunk_size):
                chunk = ids[start : start + chunk_size]
                responses_process_task.apply_async(args=[chunk], retry=False, producer=producer)
                if not already_marked:
                    Response.objects.filter(id__in=chunk).update(
                        processing_queued_at=timezone.now()
                    )
                queued += len(chunk)
    except (
        Exception
    ):  # any publish failure (broker down, eager task error) leaves rows to the sweep
        logger.warning(
            "Could not queue processing for %d responses; the sweep will retry them.",
            len(ids) - queued,
            exc_info=True,
        )
        if already_marked:
            unqueued = ids[queued:]
            for offset in range(0, len(unqueued), 5_000):
                Response.objects.filter(
                    id__in=unqueued[offset : offset + 5_000], processed_at__isnull=True
                ).update(processing_queued_at=None)
    return queued


def processing_lease() -> timedelta:
    return timedelta(seconds=int(settings.CXHUB.get("PROCESSING_LEASE_SECONDS", 90)))


def processing_max_attempts() -> int:
    return int(settings.CXHUB.get("PROCESSING_MAX_ATTEMPTS", 3))


def _lease_renew(ids: Sequence[int]) -> None:
    Response.objects.filter(id__in=ids, processed_at__isnull=True).update(
        processing_lease_until=timezone.now() + processing_lease()
    )


def responses_process(*, response_ids: Sequence[int]) -> int:
    """Run every registered processor on the responses, then mark them processed.

    Only responses still unprocessed and not parked are taken. They are held with a lease
    (``processing_lease_until``) renewed after each processor: if this worker dies, the sweep
    sees the lease run out and hands them on. Processors are idempotent, so a batch handed
    over twice (a lease run out under a slow worker, a broker redelivery) is harmless.
    Returns how many responses were newly marked processed.
    """
    ids = [int(pk) for pk in response_ids]
    taken = list(
        Response.objects.filter(
            id__in=ids, processed_at__isnull=True, processing_parked_at__isnull=True
        ).values_list("id", flat=True)
    )
    if not taken:
        return 0
    _lease_renew(taken)
    for name, processor in response_processors():
        logger.debug("Running response processor %s on %d responses", name, len(taken))
        processor(taken)
        _lease_renew(taken)
    return Response.objects.filter(id__in=taken, processed_at__isnull=True).update(
        processed_at=timezone.now(), processing_lease_until=None
    )


@dataclass(frozen=True)
class SweepOutcome:
    """What one sweep did: re-queued (never queued, stalled, or held by a dead worker) and
    parked (their holders died ``PROCESSING_MAX_ATTEMPTS`` times)."""

    requeued: int = 0
    handed_on: int = 0
    parked: int = 0


def _unprocessed_ids(condition: Q, limit: int) -> list[int]:
    return list(
        Response.objects.filter(processed_at__isnull=True, processing_parked_at__isnull=True)
        .filter(condition)
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def responses_sweep_unprocessed(
    *,
    stale_after: timedelta = SWEEP_STALE_AFTER,
    limit: int = SWEEP_LIMIT,
    now: datetime | None = None,
) -> SweepOutcome:
    """Hand on the responses that would otherwise wait for ever (beat, every minute).

    * never queued (the broker was down at ingest), or queued longer than ``stale_after``
      ago and never taken by a worker (a lost message): queued again;
    * held by a worker whose lease ran out (it died, or its task failed): the attempt is
      counted and they are handed on. On a second death they go one per task, so one
      response that kills its worker cannot take the others with it; at
      ``PROCESSING_MAX_ATTEMPTS`` deaths it is parked and an error is logged.
    """
    now = now or timezone.now()
    cutoff = now - stale_after
    waiting = _unprocessed_ids(
        Q(processing_lease_until__isnull=True)
        & (Q(processing_queued_at__isnull=True) | Q(processing_queued_at__lt=cutoff)),
        limit,
    )
    dead = _unprocessed_ids(Q(processing_lease_until__lt=now), limit)
    parked = 0
    handed_on: list[int] = []
    singly: list[int] = []
    if dead:
        with transaction.atomic():
            Response.objects.filter(id__in=dead, processing_lease_until__lt=now).update(
                processing_attempts=F("processing_attempts") + 1,
                processing_lease_until=None,
                processing_queued_at=now,
            )
            limit_attempts = processing_max_attempts()
            parked = Response.objects.filter(
                id__in=dead, processing_attempts__gte=limit_attempts
            ).update(processing_parked_at=now)
            for pk, attempts in Response.objects.filter(
                id__in=dead, processing_parked_at__isnull=True
            ).values_list("id", "processing_attempts"):
                (singly if attempts >= 2 else handed_on).append(pk)
        if parked:
            logger.error(
                "Parked %d responses: their processing died %d times; retry them from the "
                "admin (Responses, action 'Process again') once the cause is fixed.",
                parked,
                processing_max_attempts(),
            )
    requeued = responses_queue_processing(response_ids=waiting) if waiting else 0
    passed_on = responses_queue_processing(response_ids=sorted(handed_on)) if handed_on else 0
    if singly:
        passed_on += responses_queue_processing(response_ids=sorted(singly), chunk_size=1)
    return SweepOutcome(requeued=requeued, handed_on=passed_on, parked=parked)


def responses_unpark(*, response_ids: Sequence[int]) -> int:
    """Give parked responses a fresh start and queue them; returns how many were queued."""
    ids = list(
        Response.objects.filter(
            id__in=list(response_ids),
            processed_at__isnull=True,
            processing_parked_at__isnull=False,
        ).values_list("id", flat=True)
    )
    if not ids:
        return 0
    Response.objects.filter(id__in=ids).update(
        processing_parked_at=None, processing_attempts=0, processing_lease_until=None
    )
    return responses_queue_processing(response_ids=ids, chunk_size=1)


# --- Customers ----------------------------------------------------------------------------


@dataclass
class BulkCustomerResult:
    """What a bulk customer post did; refused and invalid items are listed in ``errors``."""

    created: int = 0
    updated: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    # rejected because the posting key may not update the customer (not in the answer)
    forbidden: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "rejected": self.rejected,
            "errors": self.errors,
        }

    def reject(
        self, index: int, external_id: Any, errors: ErrorDict, *, forbidden: bool = False
    ) -> None:
        self.rejected += 1
        if forbidden:
            self.forbidden += 1
        self.errors.append(
            {
                "index": index,
                "external_id": external_id if isinstance(external_id, str) else None,
                "errors": errors,
            }
        )


def customer_write_refusal(*, customer: Customer, source: Source | None) -> str | None:
    """Why ``source``'s API key may not update ``customer``, or None when it may.

    People (``source`` None) write every customer. A key writes the customers its source
    created, and every customer when its source was granted customer writes. Nobody writes
    an erased customer: its record holds only what erasure left.
    """
    if customer.erased_at is not None:
        return f"The customer {customer.external_id!r} was erased; its record cannot be changed."
    if source is None or source.may_write_customers or customer.source_id == source.pk:
        return None
    return (
        f"The customer {customer.external_id!r} was not created by the source {source.name!r}; "
        "its API key may create customers and update only those it created. An administrator "
        "can grant the source customer writes (Source → may update every customer)."
    )


def customers_upsert_bulk(
    *, items: Sequence[Any], source: Source | None = None
) -> tuple[BulkCustomerResult, dict[int, Customer]]:
    """Create or update customers by external id; only the fields given are changed.

    ``source`` is the source of the posting API key (None for people): new customers are
    recorded as created by it, and an item that would update a customer it may not write
    (``customer_write_refusal``) is refused and listed in ``errors`` while the others are
    stored. Returns the counts and, per accepted item index, the stored customer.
    """
    result = BulkCustomerResult()
    accepted: dict[str, tuple[list[int], dict[str, Any]]] = {}
    for index, item in enumerate(items):
        values, errors = validate_customer(item)
        if values is None:
            external_id = item.get("external_id") if isinstance(item, dict) else None
            result.reject(index, external_id, errors)
            continue
        earlier = accepted.get(values["external_id"])
        if earlier is not None:
            # A later item for the same customer wins field by field, as if posted in order.
            accepted[values["external_id"]] = ([*earlier[0], index], {**earlier[1], **values})
        else:
            accepted[values["external_id"]] = ([index], values)
    stored: dict[int, Customer] = {}
    if not accepted:
        return result, stored
    with transaction.atomic():
        external_ids = list(accepted)
        existing: dict[str, Customer] = {}
        for start in range(0, len(external_ids), 5_000):
            existing.update(
                (customer.external_id, customer)
                for customer in Customer.objects.select_for_update().filter(
                    external_id__in=external_ids[start : start + 5_000]
                )
            )
        new_customers = [
            Customer(**values, source=source)
            for external_id, (_, values) in accepted.items()
            if external_id not in existing
        ]
        if new_customers:
            Customer.objects.bulk_create(new_customers, ignore_conflicts=True, batch_size=1_000)
            # Rows created concurrently by another request are updated below like any other,
            # if this caller may write them.
            for customer in Customer.objects.select_for_update().filter(
                external_id__in=[customer.external_id for customer in new_customers]
            ):
                if customer.external_id not in existing:
                    existing[customer.external_id] = customer
        changed: list[Customer] = []
        changed_fields: set[str] = set()
        new_ids = {customer.external_id for customer in new_customers}
        now = timezone.now()
        for external_id, (indexes, values) in accepted.items():
            customer = existing[external_id]
            refusal = customer_write_refusal(customer=customer, source=source)
            if refusal is not None:
                for index in indexes:
                    result.reject(index, external_id, {"external_id": [refusal]}, forbidden=True)
                continue
            for index in indexes:
                stored[index] = customer
            if external_id in new_ids and all(getattr(customer, k) == v for k, v in values.items()):
                result.created += 1
                continue
            for name, value in values.items():
                setattr(customer, name, value)
            customer.updated_at = now
            changed.append(customer)
            changed_fields.update(values)
            if external_id in new_ids:
                result.created += 1
            else:
                result.updated += 1
        if changed:
            changed_fields.discard("external_id")
            Customer.objects.bulk_update(
                changed, [*sorted(changed_fields), "updated_at"], batch_size=1_000
            )
    result.errors.sort(key=lambda error: error["index"])
    return result, stored


def customer_upsert(*, data: Any, source: Source | None = None) -> tuple[Customer, bool]:
    """Create or update one customer by external id; returns it and whether it was new.

    Raises ``InvalidInput`` (400) for invalid content and ``Forbidden`` (403) when
    ``source``'s key may not update the existing customer.
    """
    result, stored = customers_upsert_bulk(items=[data], source=source)
    if result.errors:
        errors = result.errors[0]["errors"]
        if result.forbidden:
            raise Forbidden(errors["external_id"][0], field_errors=errors)
        raise InvalidInput(field_errors=errors)
    customer = stored[0]
    customer.refresh_from_db()
    return customer, bool(result.created)


def customer_update(*, customer: Customer, data: Any, source: Source | None = None) -> Customer:
    """Change the fields given of one customer (``PATCH``); its external id stays.

    Raises ``InvalidInput`` for invalid content or an attempt to change the external id,
    and ``Forbidden`` when ``source``'s key may not update this customer.
    """
    if not isinstance(data, dict):
        raise InvalidInput("Expected one JSON object with the fields to change.")
    given = data.get("external_id", customer.external_id)
    if given != customer.external_id:
        raise InvalidInput(
            field_errors={"external_id": ["The external id of a customer cannot be changed."]}
        )
    refusal = customer_write_refusal(customer=customer, source=source)
    if refusal is not None:
        raise Forbidden(refusal, field_errors={"external_id": [refusal]})
    updated, _ = customer_upsert(data={**data, "external_id": customer.external_id}, source=source)
    return updated


# --- CSV import ---------------------------------------------------------------------------


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    conflicts: int = 0
    rejected_path: Path | None = None

    def line(self) -> str:
        text = (
            f"{self.rows:,} rows read: {self.created:,} created, {self.duplicates:,} duplicates, "
            f"{self.rejected:,} rejected ({self.conflicts:,} conflicts)."
        )
        if self.rejected and self.rejected_path is not None:
            text += f" Rejected rows with reasons: {self.rejected_path}"
        return text


def _reasons(errors: ErrorDict) -> str:
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())


def _chunks(iterable: Iterable[CSVRow], size: int) -> Iterator[list[CSVRow]]:
    chunk: list[CSVRow] = []
    for entry in iterable:
        chunk.append(entry)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def feedback_import_csv(
    *,
    path: Path,
    source: Source,
    rejected_path: Path,
    chunk_size: int = 5_000,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import a feedback CSV through the bulk rules, chunk by chunk; rejected rows go to a CSV.

    Each chunk commits on its own, so a re-run after an interruption only adds what is
    missing (already stored rows are duplicates). Raises ``InvalidInput`` for a file that
    cannot be read as a whole (missing, bad header).
    """
    if not path.is_file():
        raise NotFound(f"No such file: {path}")
    summary = ImportSummary(rejected_path=rejected_path)
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
        text_head = handle.read(1)
        if text_head != "\ufeff":
            handle.seek(0)
        try:
            columns, rows = iter_csv_items(handle)
        except CSVFormatError as exc:
            raise InvalidInput(str(exc), field_errors={"file": [str(exc)]}) from None
        rejected_file = None
        writer = None
        # Rejected rows keep the input's columns (minus an earlier run's line/reasons) and
        # gain the line they came from and the reasons, so they can be fixed and re-imported.
        kept = [
            position for position, column in enumerate(columns) if column not in CSV_IGNORED_COLUMNS
        ]
        try:
            for chunk in _chunks(rows, chunk_size):
                result = responses_ingest_bulk(source=source, items=[row.item for row in chunk])
                summary.rows += len(chunk)
                summary.created += result.created
                summary.duplicates += result.duplicates
                summary.rejected += result.rejected
                summary.conflicts += result.conflicts
                if result.errors:
                    if writer is None:
                        rejected_file = rejected_path.open(
                            "w", encoding="utf-8", errors="surrogateescape", newline=""
                        )
                        writer = csv.writer(rejected_file)
                        writer.writerow(
                            [*(columns[position] for position in kept), "line", "reasons"]
                        )
                    for error in result.errors:
                        row = chunk[error["index"]]
                        cells = row.cells + [""] * (len(columns) - len(row.cells))
                        extra = row.cells[len(columns) :]
                        writer.writerow(
                            [
                                *(cells[position] for position in kept),
                                *extra,
                                row.line,
                                _reasons(error["errors"]),
                            ]
                        )
                if on_progress is not None:
                    on_progress(len(chunk))
        except CSVFormatError as exc:
            raise InvalidInput(
                f"{exc} {summary.rows:,} rows before it were imported.",
                field_errors={"file": [str(exc)]},
            ) from None
        finally:
            if rejected_file is not None:
                rejected_file.close()
    if not summary.rejected:
        summary.rejected_path = None
    return summary


# --- Erasure ------------------------------------------------------------------------------

ERASED_PREFIX = "erased-"
ERASED_CONTENT_HASH = "erased"


def customer_erase(
    *, customer: Customer, by: User | None, via: str = CustomerErasure.Via.API
) -> CustomerErasure:
    """Erase a customer's personal data and the text of their responses, everywhere.

    The customer keeps its row under a random pseudonym (irreversible: nothing maps it
    back), with segment, region, plan and churn date, so anonymous aggregates stay; its
    revenue, cost to serve and personal attributes (contact fields by name, values holding
    an e-mail address, a phone number or the external id) go. Its responses keep scores,
    ratings, touchpoint, channel and date; their comments are emptied and their content
    hash no longer matches any post, so a re-post of an erased response is a conflict, not
    a new row. History rows of the customer and its responses are deleted. Every app's
    registered eraser then removes its copies (topic mention snippets, notes, alert
    notifications, action evidence and its history) and forgets cached figures. A second
    erasure of the same customer changes nothing and returns the first record.
    """
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.erased_at is not None:
            earlier = CustomerErasure.objects.filter(customer=customer).first()
            if earlier is not None:
                return earlier
        now = timezone.now()
        region = str(settings.CXHUB.get("MASK_PII_REGION") or "GB")
        external_id = customer.external_id
        pseudonym = f"{ERASED_PREFIX}{secrets.token_hex(12)}"
        responses = list(
            Response.objects.select_for_update()
            .filter(customer=customer)
            .only("id", "submitted_at", "comment", "attributes")
        )
        kept_attributes = attributes_without_personal_data(
            customer.attributes, secrets=[external_id], region=region
        )
        kept_by_response = {
            response.pk: attributes_without_personal_data(
                response.attributes, secrets=[external_id], region=region
            )
            for response in responses
        }
        personal_values = {
            value
            for attributes, kept in [
                (customer.attributes, kept_attributes),
                *((r.attributes, kept_by_response[r.pk]) for r in responses),
            ]
            for key, value in attributes.items()
            if key not in kept and isinstance(value, str)
        }
        erased = ErasedCustomer(
            customer_id=customer.pk,
            response_ids=[response.pk for response in responses],
            external_id=external_id,
            pseudonym=pseudonym,
            comments=[response.comment for response in responses if response.comment],
            personal_values=sorted(personal_values, key=len, reverse=True),
        )
        customer.external_id = pseudonym
        customer.attributes = kept_attributes
        customer.annual_revenue = None
        customer.cost_to_serve = None
        customer.erased_at = now
        customer.save(
            update_fields=[
                "external_id",
                "attributes",
                "annual_revenue",
                "cost_to_serve",
                "erased_at",
                "updated_at",
            ]
        )
        for response in responses:
            response.comment = ""
            response.attributes = kept_by_response[response.pk]
            response.content_hash = ERASED_CONTENT_HASH
            response.erased_at = now
            response.updated_at = now
        Response.objects.bulk_update(
            responses,
            ["comment", "attributes", "content_hash", "erased_at", "updated_at"],
            batch_size=1_000,
        )
        # An erased comment no longer counts as a comment: the roll-ups recount those days.
        response_days_changed(days={response_day(response.submitted_at) for response in responses})
        _history_forget(Customer, [customer.pk])
        _history_forget(Response, erased.response_ids)
        for name, eraser in customer_erasers():
            logger.debug("Running customer eraser %s", name)
            eraser(erased)
        return CustomerErasure.objects.create(
            pseudonym=pseudonym,
            customer=customer,
            erased_by=by,
            via=via,
            responses=len(responses),
        )


def _history_forget(model: type[Customer] | type[Response], ids: Sequence[int]) -> None:
    """Delete the django-simple-history rows of these objects, if the model keeps history."""
    history = getattr(model, "history", None)
    if history is None or not ids:
        return
    for start in range(0, len(ids), 5_000):
        history.filter(id__in=ids[start : start + 5_000]).delete()
