"""Text analytics writes: tagging responses, editing the taxonomy, corrections, themes,
topic impact.

Tagging reads the comments of a batch in one query, tags them in memory with a tagger
compiled once per taxonomy version, and writes analyses and mentions with a few bulk
statements. Mentions a person attached are never touched by the rules, and a person's
"remove" keeps a rule from adding the topic back: corrections win over rules.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from psycopg import sql as pgsql
from psycopg.errors import UniqueViolation

from actions import services as action_services
from analytics.responses.cache import figures_invalidate
from analytics.responses.rollups import rollup_register
from analytics.responses.sample import min_responses
from analytics.runs.kinds import RunOutcome
from analytics.runs.models import AnalysisRun
from analytics.runs.services import parameter_int, parameter_scope
from analytics.stats.scores import nps_estimate
from analytics.stats.topic_impact import topic_nps_impact
from analytics.text.engine.default_taxonomy import DEFAULT_TOPICS
from analytics.text.engine.discovery import discover_themes
from analytics.text.engine.sentiment import SentimentScorer, label_for
from analytics.text.engine.tagger import Tagger
from analytics.text.engine.taxonomy import TopicRule, taxonomy_version, validate_keyword
from analytics.text.models import (
    ResponseAnalysis,
    TagCorrection,
    ThemeProposal,
    Topic,
    TopicMention,
)
from analytics.text.rollup import topic_days_held, topic_days_refresh
from analytics.text.selectors import (
    customer_text_export,
    response_sentiment_q,
    response_topic_q,
    sentiment_labels,
    topic_nps_counts,
    topic_slugs,
)
from cxhub.errors import InvalidInput
from feedback.filters import register_response_filter
from feedback.models import Response
from feedback.privacy import ErasedCustomer, register_customer_eraser, register_customer_exporter
from feedback.processing import register_response_processor
from feedback.services import response_day, response_days_changed, response_days_of

logger = logging.getLogger(__name__)

RETAG_BATCH_SIZE = 2000
MAX_KEYWORDS = 200
DISCOVERY_DEFAULT_LIMIT = 20_000


@dataclass
class TaggingStats:
    """What one tagging call did, and how fast."""

    responses: int = 0
    analysed: int = 0
    unsupported: int = 0
    empty: int = 0
    mentions: int = 0
    seconds: float = 0.0
    taxonomy_version: str = ""
    by_detector: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.responses / self.seconds if self.seconds > 0 else 0.0

    def add(self, other: TaggingStats) -> None:
        self.responses += other.responses
        self.analysed += other.analysed
        self.unsupported += other.unsupported
        self.empty += other.empty
        self.mentions += other.mentions
        self.seconds += other.seconds
        self.taxonomy_version = other.taxonomy_version or self.taxonomy_version

    def as_dict(self) -> dict[str, Any]:
        return {
            "responses": self.responses,
            "analysed": self.analysed,
            "unsupported": self.unsupported,
            "empty": self.empty,
            "mentions": self.mentions,
            "seconds": round(self.seconds, 4),
            "per_second": round(self.per_second, 1),
            "taxonomy_version": self.taxonomy_version,
        }


# --- the tagger -------------------------------------------------------------------------

_scorer: SentimentScorer | None = None
_taggers: dict[str, Tagger] = {}


def _active_rules() -> list[TopicRule]:
    rows = Topic.objects.filter(is_active=True).values_list(
        "id", "slug", "keywords", "parent__slug"
    )
    return [
        TopicRule(topic_id=pk, slug=slug, keywords=tuple(keywords or ()), parent_slug=parent)
        for pk, slug, keywords, parent in rows.order_by("id")
    ]


def tagger_current() -> Tagger:
    """The tagger for the active taxonomy, compiled once per taxonomy version and process."""
    global _scorer
    rules = _active_rules()
    version = taxonomy_version(rules)
    tagger = _taggers.get(version)
    if tagger is None:
        if _scorer is None:
            _scorer = SentimentScorer()
        tagger = Tagger(rules, scorer=_scorer)
        _taggers.clear()
        _taggers[version] = tagger
    return tagger


# --- tagging ----------------------------------------------------------------------------


def _latest_corrections(
    response_ids: Sequence[int],
) -> dict[tuple[int, int], tuple[str, float | None]]:
    latest: dict[tuple[int, int], tuple[str, float | None]] = {}
    rows = (
        TagCorrection.objects.filter(response_id__any=response_ids)
        .order_by("created_at", "id")
        .values_list("response_id", "topic_id", "action", "sentiment")
    )
    for response_id, topic_id, action, sentiment in rows:
        latest[(response_id, topic_id)] = (action, sentiment)
    return latest


def responses_tag(*, response_ids: Sequence[int]) -> TaggingStats:
    """Tag these responses' comments: language, sentiment, topics with aspect sentiment.

    Idempotent: tagging the same responses again gives the same rows. Rule mentions are
    replaced; person mentions are kept, and a person's latest "remove" for a topic keeps
    the rule from adding it back. Erased responses are left as erasure left them: their
    topics and sentiment still count in aggregates, though their text is gone.
    """
    started = time.perf_counter()
    ids = list(dict.fromkeys(int(pk) for pk in response_ids))
    stats = TaggingStats()
    if not ids:
        return stats
    tagger = tagger_current()
    stats.taxonomy_version = tagger.version
    rows = list(
        Response.objects.filter(pk__any=ids, erased_at__isnull=True)
        .order_by("id")
        .values_list("id", "comment")
    )
    ids = [response_id for response_id, _ in rows]
    if not ids:
        return stats
    corrections = _latest_corrections(ids)
    removed = {
        key for key, (action, _) in corrections.items() if action == TagCorrection.Action.REMOVE
    }
    person = set(
        TopicMention.objects.filter(
            response_id__any=ids, origin=TopicMention.Origin.PERSON
        ).values_list("response_id", "topic_id")
    )
    now = timezone.now()
    kept_by_people = person | removed
    sentiments: dict[int, float | None] = {}
    with transaction.atomic():
        with _tagging_writer(ids, now) as write:
            for start in range(0, len(rows), TAG_CHUNK):
                chunk = _tag_rows(tagger, rows[start : start + TAG_CHUNK], kept_by_people)
                write(chunk)
                sentiments.update(chunk.sentiments)
                stats.analysed += len(chunk.analyses)
                stats.unsupported += chunk.unsupported
                stats.empty += len(chunk.empty_ids)
                stats.mentions += len(chunk.mentions)
        # The topic roll-up recounts these responses' days (analytics.text.rollup). Marked
        # last, once the writer is done with the connection, so the day markers' row locks
        # are held only until the commit, not while the batch is tagged.
        response_days_changed(days=response_days_of(Response.objects.filter(pk__in=ids)))
    stats.responses = len(rows)
    stats.seconds = time.perf_counter() - started
    if sentiments:
        transaction.on_commit(lambda: _raise_alerts(sentiments))
    return stats


# Comments tagged between two writes: on PostgreSQL each chunk is written while the next
# one is tagged (``_PostgresTaggingWriter``).
TAG_CHUNK = 500


@dataclass
class _TaggedChunk:
    """The rows to write for a run of consecutive responses."""

    analyses: list[AnalysisRow] = field(default_factory=list)
    mentions: list[MentionRow] = field(default_factory=list)
    empty_ids: list[int] = field(default_factory=list)
    sentiments: dict[int, float | None] = field(default_factory=dict)
    unsupported: int = 0


def _tag_rows(
    tagger: Tagger, rows: Sequence[tuple[int, str]], kept_by_people: set[tuple[int, int]]
) -> _TaggedChunk:
    """Tag ``(response_id, comment)`` rows; (response, topic) pairs a person decided are left out."""
    chunk = _TaggedChunk()
    version = tagger.version
    tag = tagger.tag
    rule = TopicMention.Origin.RULE.value
    analyses, mentions = chunk.analyses, chunk.mentions
    for response_id, comment in rows:
        if not comment or not comment.strip():
            chunk.empty_ids.append(response_id)
            continue
        result = tag(comment)
        chunk.sentiments[response_id] = result.sentiment
        if not result.language_supported:
            chunk.unsupported += 1
        analyses.append(
            (
                response_id,
                result.language,
                result.language_supported,
                result.sentiment,
                label_for(result.sentiment),
                version,
            )
        )
        for topic_id, sentence, start, end, sentiment in result.mentions:
            if kept_by_people and (response_id, topic_id) in kept_by_people:
                continue
            mentions.append(
                (
                    response_id,
                    topic_id,
                    sentence,
                    start,
                    end,
                    sentiment,
                    label_for(sentiment) or "neutral",
                    rule,
                )
            )
    return chunk


# (response_id, language, language_supported, sentiment, sentiment_label, taxonomy_version)
AnalysisRow = tuple[int, str, bool, float | None, str | None, str]
# (response_id, topic_id, sentence, start, end, sentiment, sentiment_label, origin)
MentionRow = tuple[int, int, str, int, int, float, str, str]

_ANALYSIS_UPDATE_FIELDS = [
    "language",
    "language_supported",
    "sentiment",
    "sentiment_label",
    "analysed_at",
    "taxonomy_version",
]


def _write_generic(
    ids: list[int],
    empty_ids: list[int],
    analyses: list[AnalysisRow],
    mentions: list[MentionRow],
    now: datetime,
) -> None:
    """Replace the rule mentions and upsert the analyses with the ORM (SQLite and others)."""
    TopicMention.objects.filter(response_id__in=ids).exclude(
        origin=TopicMention.Origin.PERSON
    ).delete()
    if empty_ids:
        ResponseAnalysis.objects.filter(response_id__in=empty_ids).delete()
    ResponseAnalysis.objects.bulk_create(
        [
            ResponseAnalysis(
                response_id=rid,
                language=language,
                language_supported=supported,
                sentiment=sentiment,
                sentiment_label=label,
                analysed_at=now,
                taxonomy_version=version,
            )
            for rid, language, supported, sentiment, label, version in analyses
        ],
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["response"],
        update_fields=_ANALYSIS_UPDATE_FIELDS,
    )
    TopicMention.objects.bulk_create(
        [
            TopicMention(
                response_id=rid,
                topic_id=tid,
                sentence=sentence,
                start=start,
                end=end,
                sentiment=sentiment,
                sentiment_label=label,
                origin=origin,
            )
            for rid, tid, sentence, start, end, sentiment, label, origin in mentions
        ],
        batch_size=5000,
        ignore_conflicts=True,
    )


@contextmanager
def _tagging_writer(ids: list[int], now: datetime) -> Iterator[Callable[[_TaggedChunk], None]]:
    """A function that writes tagged chunks of the responses ``ids``; done on exit.

    The rule mentions of all ``ids`` are replaced and the analyses upserted; responses
    whose comment became empty lose their analysis. Use inside the batch's transaction.
    """
    if connection.vendor != "postgresql":
        collected = _TaggedChunk()

        def collect(chunk: _TaggedChunk) -> None:
            collected.analyses.extend(chunk.analyses)
            collected.mentions.extend(chunk.mentions)
            collected.empty_ids.extend(chunk.empty_ids)

        yield collect
        _write_generic(ids, collected.empty_ids, collected.analyses, collected.mentions, now)
        return
    writer = _PostgresTaggingWriter(ids, now)
    try:
        yield writer.write
    except BaseException:
        writer.abandon()
        raise
    writer.close()


_MENTION_COLUMNS = (
    'response_id, topic_id, sentence, start, "end", sentiment, sentiment_label, origin'
)
# Binary COPY (the columns' own types): nothing to format here or to parse in PostgreSQL,
# a third of the CPU of text COPY on both sides; floats go as their exact bits.
_MENTION_TYPES = ["int8", "int8", "text", "int4", "int4", "float8", "varchar", "varchar"]


class _PostgresTaggingWriter:
    """Writes each tagged chunk from a second thread while the caller tags the next one.

    Tagging is Python work in this process; inserting mentions, maintaining their indexes
    and checking their foreign keys is PostgreSQL's work in its own process. Done one
    after the other, each core waits for the other. Here a writer thread sends each chunk
    on the transaction's own connection (so atomicity is unchanged) and waits for the
    server with the GIL released, so the next chunk is tagged meanwhile. The caller must
    not use the connection until ``close`` or ``abandon`` returns.

    The writes, per chunk: analyses upserted from arrays (``unnest``, one statement);
    mentions with one direct binary ``COPY`` into their table (PostgreSQL's multi-row insert) in a
    savepoint. The batch's rule mentions were deleted first, so that COPY meets a conflict
    only when a concurrent tagger or a person's correction stored one of the same
    (response, topic) pairs meanwhile; the savepoint is then rolled back and the chunk
    goes in with ``ON CONFLICT DO NOTHING``, so two workers tagging the same responses
    cannot collide. The two tables' deferred foreign keys are checked at the end of each
    statement (``SET CONSTRAINTS … IMMEDIATE``, restored at the end) rather than all at
    commit, so those checks overlap with tagging too.
    """

    def __init__(self, ids: list[int], now: datetime):
        self.now = now
        self.deferred: list[str] = []
        self._jobs: queue.Queue[Callable[[Any], None] | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        raw = connection.connection
        self._thread = threading.Thread(
            target=self._run, args=(raw,), name="cxhub-tagging-writer", daemon=True
        )
        self._thread.start()
        self._submit(lambda cursor: self._start(cursor, ids))

    def write(self, chunk: _TaggedChunk) -> None:
        self._submit(lambda cursor: self._write(cursor, chunk))

    def close(self) -> None:
        """Finish the writes; raises what a write raised (as Django's database errors)."""
        if self._error is None:
            self._jobs.put(self._finish)
        self._stop()
        if self._error is not None:
            with connection.wrap_database_errors:
                raise self._error

    def abandon(self) -> None:
        """Stop after the write in progress (the transaction is being rolled back)."""
        self._stop()

    def _submit(self, job: Callable[[Any], None]) -> None:
        if self._error is not None:  # a write failed: stop tagging, close() raises it
            self.close()
        self._jobs.put(job)

    def _stop(self) -> None:
        self._jobs.put(None)
        self._thread.join()

    def _run(self, raw: Any) -> None:
        cursor = None
        try:
            cursor = raw.cursor()
        except BaseException as exc:  # handed to the calling thread, as below
            self._error = exc
        # Jobs are taken until the end even after an error, so the caller never blocks.
        while (job := self._jobs.get()) is not None:
            if self._error is None:
                try:
                    job(cursor)
                except BaseException as exc:
                    self._error = exc
        if cursor is not None:
            cursor.close()

    def _start(self, cursor: Any, ids: list[int]) -> None:
        cursor.execute(
            f"DELETE FROM {TopicMention._meta.db_table} "
            "WHERE response_id = ANY(%s) AND origin <> %s",
            [ids, TopicMention.Origin.PERSON.value],
        )
        cursor.execute(
            "SELECT conname, condeferred FROM pg_constraint WHERE contype = 'f' "
            "AND condeferrable AND conrelid IN (%s::regclass, %s::regclass)",
            [TopicMention._meta.db_table, ResponseAnalysis._meta.db_table],
        )
        constraints = cursor.fetchall()
        self.deferred = [name for name, initially_deferred in constraints if initially_deferred]
        if constraints:
            cursor.execute(_set_constraints([name for name, _ in constraints], "IMMEDIATE"))

    def _write(self, cursor: Any, chunk: _TaggedChunk) -> None:
        analysis_table = ResponseAnalysis._meta.db_table
        mention_table = TopicMention._meta.db_table
        if chunk.empty_ids:
            cursor.execute(
                f"DELETE FROM {analysis_table} WHERE response_id = ANY(%s)", [chunk.empty_ids]
            )
        if chunk.analyses:
            cursor.execute(
                f"INSERT INTO {analysis_table} (response_id, language, language_supported, "
                "sentiment, sentiment_label, taxonomy_version, analysed_at) "
                "SELECT *, %s FROM unnest(%s::bigint[], %s::varchar[], %s::boolean[], "
                "%s::float8[], %s::varchar[], %s::varchar[]) "
                "ON CONFLICT (response_id) DO UPDATE SET language = EXCLUDED.language, "
                "language_supported = EXCLUDED.language_supported, "
                "sentiment = EXCLUDED.sentiment, sentiment_label = EXCLUDED.sentiment_label, "
                "analysed_at = EXCLUDED.analysed_at, taxonomy_version = EXCLUDED.taxonomy_version",
                [self.now, *map(list, zip(*chunk.analyses, strict=True))],
            )
        if not chunk.mentions:
            return
        cursor.execute("SAVEPOINT cxhub_tagging_mentions")
        try:
            with cursor.copy(
                f"COPY {mention_table} ({_MENTION_COLUMNS}) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(_MENTION_TYPES)
                for mention_row in chunk.mentions:
                    copy.write_row(mention_row)
        except UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT cxhub_tagging_mentions")
            cursor.execute(
                f"INSERT INTO {mention_table} ({_MENTION_COLUMNS}) "
                "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::integer[], "
                "%s::integer[], %s::float8[], %s::varchar[], %s::varchar[]) "
                "ON CONFLICT (response_id, topic_id) DO NOTHING",
                [list(column) for column in zip(*chunk.mentions, strict=True)],
            )
        cursor.execute("RELEASE SAVEPOINT cxhub_tagging_mentions")

    def _finish(self, cursor: Any) -> None:
        if self.deferred:
            cursor.execute(_set_constraints(self.deferred, "DEFERRED"))


def _set_constraints(names: list[str], mode: str) -> Any:
    return pgsql.SQL("SET CONSTRAINTS {} " + mode).format(
        pgsql.SQL(", ").join(pgsql.Identifier(name) for name in names)
    )


def _raise_alerts(response_sentiments: Mapping[int, float | None]) -> None:
    """Hand the new sentiments to the alerting of actions."""
    try:
        action_services.alerts_raise_for_responses(response_sentiments=dict(response_sentiments))
    except Exception:  # alerting must never undo or block tagging
        logger.exception("Raising alerts for %d tagged responses failed", len(response_sentiments))


def responses_process_text(response_ids: Sequence[int]) -> None:
    """The post-ingest processor registered with feedback (see analytics.apps)."""
    responses_tag(response_ids=response_ids)


def responses_retag_all(
    *, batch_size: int = RETAG_BATCH_SIZE, limit: int | None = None
) -> TaggingStats:
    """Tag, batch by batch, every commented response not tagged with the current taxonomy.

    Safe to run twice at once or to resume after a crash: each batch picks responses whose
    analysis is missing or carries another taxonomy version, in id order.
    """
    total = TaggingStats()
    version = tagger_current().version
    last_id = 0
    while limit is None or total.responses < limit:
        size = batch_size if limit is None else min(batch_size, limit - total.responses)
        batch = list(
            Response.objects.filter(pk__gt=last_id)
            .exclude(comment="")
            .exclude(analysis__taxonomy_version=version)
            .order_by("pk")
            .values_list("pk", flat=True)[:size]
        )
        if not batch:
            break
        total.add(responses_tag(response_ids=batch))
        last_id = batch[-1]
        version = total.taxonomy_version or version
    return total


def responses_tag_benchmark(*, count: int, batch_size: int = RETAG_BATCH_SIZE) -> TaggingStats:
    """Tag the first ``count`` commented responses from the database, as a worker would.

    For ``make bench``: reads and writes the database and reports comments per second.
    """
    started = time.perf_counter()
    ids = list(
        Response.objects.exclude(comment="").order_by("pk").values_list("pk", flat=True)[:count]
    )
    total = TaggingStats()
    for offset in range(0, len(ids), batch_size):
        total.add(responses_tag(response_ids=ids[offset : offset + batch_size]))
    total.seconds = time.perf_counter() - started
    return total


def responses_retag_all_on_commit() -> None:
    """Queue a full re-tag once the current transaction commits (after a taxonomy change)."""
    _retag_on_commit()


def keywords_clean(keywords: Any) -> list[str]:
    """Validated, de-duplicated keywords (raises ``InvalidInput`` with readable messages)."""
    return _clean_keywords(keywords)


def _retag_on_commit() -> None:
    from analytics.text.tasks import responses_retag_all_task

    transaction.on_commit(lambda: responses_retag_all_task.delay())


# --- taxonomy -----------------------------------------------------------------------------


def _clean_keywords(keywords: Any) -> list[str]:
    if not isinstance(keywords, list | tuple) or not all(isinstance(k, str) for k in keywords):
        raise InvalidInput(field_errors={"keywords": ["Must be a list of phrases (strings)."]})
    if len(keywords) > MAX_KEYWORDS:
        raise InvalidInput(field_errors={"keywords": [f"At most {MAX_KEYWORDS} keywords."]})
    cleaned: list[str] = []
    errors: list[str] = []
    for keyword in keywords:
        keyword = keyword.strip()
        if len(keyword) > 200:
            errors.append(f"Keyword {keyword[:30]!r}… is longer than 200 characters.")
            continue
        problem = validate_keyword(keyword)
        if problem:
            errors.append(problem)
        elif keyword.lower() not in {k.lower() for k in cleaned}:
            cleaned.append(keyword if keyword.startswith("re:") else keyword.lower())
    if errors:
        raise InvalidInput(field_errors={"keywords": errors})
    return cleaned


def _clean_parent(parent: Topic | None, topic: Topic | None) -> Topic | None:
    if parent is None:
        return None
    if topic is not None and parent.pk == topic.pk:
        raise InvalidInput(field_errors={"parent": ["A topic cannot be its own parent."]})
    if parent.parent_id is not None:
        raise InvalidInput(
            field_errors={
                "parent": [f"'{parent.slug}' is itself a child topic; the taxonomy has two levels."]
            }
        )
    if topic is not None and topic.pk and topic.children.exists():
        raise InvalidInput(
            field_errors={
                "parent": [f"'{topic.slug}' has child topics, so it cannot have a parent."]
            }
        )
    return parent


def _no_nul(value: str, field: str) -> str:
    if "\x00" in value:
        raise InvalidInput(field_errors={field: ["Must not contain NUL characters."]})
    return value


def _clean_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(field_errors={"name": ["A name is required."]})
    _no_nul(name, "name")
    if len(name.strip()) > 120:
        raise InvalidInput(field_errors={"name": ["At most 120 characters."]})
    return name.strip()


def _clean_slug(slug: Any, name: str) -> str:
    value = slug if slug not in (None, "") else slugify(name)[:80]
    if (
        not isinstance(value, str)
        or not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", value)
        or len(value) > 80
    ):
        raise InvalidInput(
            field_errors={"slug": ["Use lower-case letters, digits and hyphens (at most 80)."]}
        )
    return value


@transaction.atomic
def topic_create(
    *,
    name: str,
    keywords: Sequence[str],
    slug: str | None = None,
    parent: Topic | None = None,
    description: str = "",
    origin: str = Topic.Origin.MANUAL,
    created_by: AbstractBaseUser | None = None,
) -> Topic:
    """Add a topic to the taxonomy; every comment is re-tagged after commit."""
    clean_name = _clean_name(name)
    clean_slug = _clean_slug(slug, clean_name)
    if Topic.objects.filter(slug=clean_slug).exists():
        raise InvalidInput(field_errors={"slug": [f"A topic '{clean_slug}' already exists."]})
    topic = Topic.objects.create(
        slug=clean_slug,
        name=clean_name,
        parent=_clean_parent(parent, None),
        keywords=_clean_keywords(list(keywords)),
        description=_no_nul(description or "", "description"),
        origin=origin,
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,  # type: ignore[misc]
    )
    _retag_on_commit()
    return topic


_UNSET: Any = object()


@transaction.atomic
def topic_update(
    *,
    topic: Topic,
    name: str = _UNSET,
    keywords: Sequence[str] = _UNSET,
    parent: Topic | None = _UNSET,
    description: str = _UNSET,
    is_active: bool = _UNSET,
) -> Topic:
    """Change a topic; when its rules or activity change, comments are re-tagged after commit."""
    topic = Topic.objects.select_for_update().get(pk=topic.pk)
    retag = False
    if name is not _UNSET:
        topic.name = _clean_name(name)
    if description is not _UNSET:
        topic.description = _no_nul(description or "", "description")
    regrouped = False
    if parent is not _UNSET:
        new_parent = _clean_parent(parent, topic)
        regrouped = (new_parent.pk if new_parent else None) != topic.parent_id
        topic.parent = new_parent
    if keywords is not _UNSET:
        cleaned = _clean_keywords(list(keywords))
        retag = retag or cleaned != topic.keywords
        topic.keywords = cleaned
    if is_active is not _UNSET:
        if not is_active and topic.children.filter(is_active=True).exists():
            raise InvalidInput(field_errors={"is_active": ["Deactivate its child topics first."]})
        retag = retag or bool(is_active) != topic.is_active
        topic.is_active = bool(is_active)
    topic.save()
    if regrouped:
        # A parent's figures count its sub-topics' mentions: the roll-up recounts every day
        # this topic was mentioned on, and cached figures are dropped.
        response_days_changed(
            days=response_days_of(Response.objects.filter(topic_mentions__topic=topic))
        )
        transaction.on_commit(figures_invalidate)
    if retag:
        _retag_on_commit()
    return topic


def topic_deactivate(*, topic: Topic) -> Topic:
    """Stop using a topic for tagging; its past corrections stay on record."""
    return topic_update(topic=topic, is_active=False)


@transaction.atomic
def topics_load_defaults() -> int:
    """Create the default CX taxonomy topics that are missing; returns how many were created.

    The data migration loads them once; this restores them on a database that was emptied
    (for example by a test flush) and is safe to run at any time: existing slugs are kept.
    """
    existing = dict(Topic.objects.values_list("slug", "id"))
    created = 0
    for spec in DEFAULT_TOPICS:
        if spec["slug"] in existing:
            continue
        topic = Topic.objects.create(
            slug=spec["slug"],
            name=spec["name"],
            description=spec["description"],
            keywords=list(spec["keywords"]),
            parent_id=existing.get(spec["parent"]) if spec["parent"] else None,
            origin=Topic.Origin.DEFAULT,
        )
        existing[topic.slug] = topic.pk
        created += 1
    if created:
        _retag_on_commit()
    return created


# --- corrections ----------------------------------------------------------------------------


def _clean_sentiment(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field_errors={"sentiment": ["Must be a number from -1 to 1."]})
    if not -1 <= float(value) <= 1:
        raise InvalidInput(field_errors={"sentiment": ["Must be between -1 and 1."]})
    return float(value)


@transaction.atomic
def tag_correct(
    *,
    response: Response,
    topic: Topic,
    action: str,
    corrected_by: AbstractBaseUser,
    sentiment: float | None = None,
    note: str = "",
) -> TagCorrection:
    """Record a person's correction and apply it at once.

    ``add`` attaches the topic (or confirms a rule's tag) as the person's, with the
    person's sentiment when given; ``remove`` takes the topic off. Either way the rules
    will not undo it when the response is tagged again.
    """
    if action not in TagCorrection.Action.values:
        raise InvalidInput(field_errors={"action": ["Must be 'add' or 'remove'."]})
    clean_sentiment = _clean_sentiment(sentiment)
    if action == TagCorrection.Action.REMOVE and clean_sentiment is not None:
        raise InvalidInput(field_errors={"sentiment": ["A removed topic has no sentiment."]})
    _no_nul(note or "", "note")
    if len(note or "") > 2000:
        raise InvalidInput(field_errors={"note": ["At most 2,000 characters."]})
    existing = (
        TopicMention.objects.select_for_update().filter(response=response, topic=topic).first()
    )
    if action == TagCorrection.Action.REMOVE:
        if existing is None:
            raise InvalidInput(
                field_errors={
                    "topic": [f"Response {response.pk} is not tagged with '{topic.slug}'."]
                }
            )
        existing.delete()
    else:
        if clean_sentiment is None:
            if existing is not None:
                clean_sentiment = existing.sentiment
            else:
                analysis = ResponseAnalysis.objects.filter(response=response).first()
                clean_sentiment = analysis.sentiment if analysis else None
        TopicMention.objects.update_or_create(
            response=response,
            topic=topic,
            defaults={
                "origin": TopicMention.Origin.PERSON,
                "sentiment": clean_sentiment,
                "sentiment_label": label_for(clean_sentiment),
                "sentence": existing.sentence if existing else "",
                "start": existing.start if existing else None,
                "end": existing.end if existing else None,
            },
        )
    # The roll-up recounts the response's day; cached figures and quotes counted the tags
    # as they were, and the person sees the change at once.
    response_days_changed(days=[response_day(response.submitted_at)])
    transaction.on_commit(figures_invalidate)
    return TagCorrection.objects.create(
        response=response,
        topic=topic,
        action=action,
        sentiment=clean_sentiment
        if action == TagCorrection.Action.ADD and sentiment is not None
        else None,
        corrected_by=corrected_by,  # type: ignore[misc]
        note=note or "",
    )


# --- theme discovery ----------------------------------------------------------------------


def theme_discovery_parameters_clean(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the parameters of a theme discovery run (raises ``InvalidInput``)."""
    errors: dict[str, list[str]] = {}
    unknown = set(parameters) - {"limit", "n_themes"}
    if unknown:
        errors["non_field_errors"] = [f"Unknown parameters: {', '.join(sorted(unknown))}."]
    limit = parameters.get("limit", DISCOVERY_DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 10 <= limit <= 200_000:
        errors["limit"] = ["Must be a whole number from 10 to 200000."]
    n_themes = parameters.get("n_themes")
    if n_themes is not None and (
        isinstance(n_themes, bool) or not isinstance(n_themes, int) or not 2 <= n_themes <= 30
    ):
        errors["n_themes"] = ["Must be a whole number from 2 to 30."]
    if errors:
        raise InvalidInput(field_errors=errors)
    return {"limit": limit, "n_themes": n_themes}


def untagged_comments(*, limit: int) -> list[tuple[int, str]]:
    """The latest English comments that no topic matched (for theme discovery)."""
    return list(
        Response.objects.filter(analysis__language_supported=True, topic_mentions__isnull=True)
        .exclude(comment="")
        .order_by("-submitted_at", "-id")
        .values_list("id", "comment")[:limit]
    )


@transaction.atomic
def themes_store(
    *, run: AnalysisRun | None, documents: Sequence[tuple[int, str]], n_themes: int | None
) -> list[ThemeProposal]:
    """Discover themes in ``documents`` and store them, replacing undecided proposals."""
    themes = discover_themes(documents, n_themes=n_themes)
    ThemeProposal.objects.filter(status=ThemeProposal.Status.PROPOSED).delete()
    return ThemeProposal.objects.bulk_create(
        [
            ThemeProposal(
                run=run,
                label=theme.label[:200],
                top_terms=theme.top_terms,
                example_response_ids=theme.example_ids,
                size=theme.size,
                share=theme.share,
            )
            for theme in themes
        ]
    )


def theme_discovery_execute(run: AnalysisRun) -> RunOutcome:
    """Run handler for ``theme_discovery`` (declared in ``analytics.text.kinds``)."""
    parameters = theme_discovery_parameters_clean(run.parameters or {})
    documents = untagged_comments(limit=parameters["limit"])
    proposals = themes_store(run=run, documents=documents, n_themes=parameters["n_themes"])
    return RunOutcome(
        result={
            "themes": [
                {
                    "id": p.pk,
                    "label": p.label,
                    "top_terms": p.top_terms,
                    "size": p.size,
                    "share": p.share,
                }
                for p in proposals
            ]
        },
        counts={"comments": len(documents), "themes": len(proposals)},
    )


def _decidable(proposal: ThemeProposal) -> ThemeProposal:
    locked = ThemeProposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != ThemeProposal.Status.PROPOSED:
        raise InvalidInput(
            field_errors={
                "status": [f"This theme was already {locked.get_status_display().lower()}."]
            }
        )
    return locked


@transaction.atomic
def theme_accept(
    *,
    proposal: ThemeProposal,
    accepted_by: AbstractBaseUser,
    name: str | None = None,
    slug: str | None = None,
    keywords: Iterable[str] | None = None,
    parent: Topic | None = None,
) -> Topic:
    """Turn a proposed theme into a topic (its top terms become keywords); re-tag follows."""
    locked = _decidable(proposal)
    topic = topic_create(
        name=name or locked.label.replace(" / ", ", ").capitalize(),
        slug=slug,
        keywords=list(keywords) if keywords is not None else list(locked.top_terms),
        parent=parent,
        description=f"Discovered from {locked.size} untagged comments.",
        origin=Topic.Origin.DISCOVERED,
        created_by=accepted_by,
    )
    locked.status = ThemeProposal.Status.ACCEPTED
    locked.accepted_topic = topic
    locked.decided_by = accepted_by  # type: ignore[assignment]
    locked.decided_at = timezone.now()
    locked.save()
    return topic


@transaction.atomic
def theme_dismiss(*, proposal: ThemeProposal, dismissed_by: AbstractBaseUser) -> ThemeProposal:
    locked = _decidable(proposal)
    locked.status = ThemeProposal.Status.DISMISSED
    locked.decided_by = dismissed_by  # type: ignore[assignment]
    locked.decided_at = timezone.now()
    locked.save()
    return locked


# --- topic impact ---------------------------------------------------------------------------


def topic_impact_parameters_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    filters = parameter_scope(errors, data)
    if errors:
        raise InvalidInput(field_errors=errors)
    return {"outcome": "nps", "filters": filters}


def topic_impact_compute(*, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """NPS points each topic costs or earns, with delta-method intervals, largest first."""
    totals, per_topic = topic_nps_counts(parameters["filters"])
    if totals["n"] == 0:
        raise InvalidInput("No NPS answers in this selection.")
    min_n = min_responses()
    topics = []
    for row in per_topic:
        impact = topic_nps_impact(
            total_n=totals["n"],
            total_promoters=totals["promoters"],
            total_detractors=totals["detractors"],
            topic_n=int(row["n"]),
            topic_promoters=int(row["promoters"]),
            topic_detractors=int(row["detractors"]),
            min_n=min_n,
        )
        topics.append({"slug": row["topic__slug"], "name": row["topic__name"], **impact})
    topics.sort(key=lambda t: (t["status"] != "ok", -abs(t.get("impact", 0.0))))
    return {
        "outcome": "nps",
        "filters": dict(parameters["filters"]),
        "nps": nps_estimate(
            totals["n"], totals["promoters"], totals["detractors"], min_n=min_n
        ).as_dict(),
        "topics": topics,
        "method": "NPS of all answers minus NPS of the answers not mentioning the topic; "
        "95% interval by the delta method",
    }


def topic_impact_run_execute(run: AnalysisRun) -> RunOutcome:
    result = topic_impact_compute(parameters=run.parameters)
    return RunOutcome(
        result=result, counts={"responses": result["nps"]["n"], "topics": len(result["topics"])}
    )


# --- tagging runs ---------------------------------------------------------------------------


def tagging_parameters_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """``limit``: at most this many comments (default: all not tagged with the current taxonomy)."""
    errors: dict[str, list[str]] = {}
    limit: int | None = None
    if data.get("limit") not in (None, ""):
        limit = parameter_int(errors, data, "limit", 0, 1, 10_000_000)
    if errors:
        raise InvalidInput(field_errors=errors)
    return {"limit": limit}


def tagging_run_execute(run: AnalysisRun) -> RunOutcome:
    """Run handler for ``tagging``: re-tag the comments not tagged with the current taxonomy."""
    parameters = tagging_parameters_clean(run.parameters or {})
    stats = responses_retag_all(limit=parameters["limit"])
    return RunOutcome(result=stats.as_dict(), counts={"responses": stats.responses})


# --- wiring ----------------------------------------------------------------------------------


def text_analytics_register() -> None:
    """Plug text analytics into feedback: the post-ingest processor, the response filters
    and the topic roll-up (refreshed with the others for the days marked changed).

    Called from ``AnalyticsConfig.ready``; the run kinds are declared in ``analytics.text.kinds``.
    """
    register_response_processor("analytics.text", responses_process_text)
    register_customer_eraser("analytics.text", customer_text_erase)
    register_customer_exporter("analytics.text", customer_text_export)
    register_response_filter("topic", condition=response_topic_q, values=topic_slugs)
    register_response_filter("sentiment", condition=response_sentiment_q, values=sentiment_labels)
    rollup_register("topics", topic_days_refresh, days_held=topic_days_held)


def customer_text_erase(erased: ErasedCustomer) -> None:
    """Customer erasure: the mention snippets and people's tag notes on the customer's
    responses go; the topics and sentiments stay, so topic figures do not change."""
    ids = list(erased.response_ids)
    for start in range(0, len(ids), 5_000):
        chunk = ids[start : start + 5_000]
        TopicMention.objects.filter(response_id__in=chunk).exclude(sentence="").update(sentence="")
        TagCorrection.objects.filter(response_id__in=chunk).exclude(note="").update(note="")
    # A theme's label is made of frequent terms, but a small theme may still carry a
    # customer's words or id.
    for proposal in ThemeProposal.objects.all():
        label, terms = erased.scrub(proposal.label), erased.scrub(proposal.top_terms)
        if (label, terms) != (proposal.label, proposal.top_terms):
            ThemeProposal.objects.filter(pk=proposal.pk).update(label=label, top_terms=terms)
