"""The one rule set for incoming feedback, shared by the API (single and bulk), CSV and the CLI.

Written as plain Python rather than a DRF serializer per item: bulk posts of 10,000 items
must validate in milliseconds, so the lookups it needs (touchpoints, declared attributes) are
loaded once per batch into a ``ValidationContext`` and each item is checked with dictionary
lookups only.

An item that passes becomes a ``NormalisedResponse``: canonical values (UTC time, ints,
sorted ratings) plus ``content_hash``, the SHA-256 of its canonical JSON. The hash leaves out
``external_id``, so the same id posted again with the same content is recognised as a retry
and with other content as a conflict.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.conf import settings

from cxhub.input_guard import text_problem
from feedback.models import Attribute, Channel, Touchpoint
from feedback.privacy import pii_mask

ErrorDict = dict[str, list[str]]

EXTERNAL_ID_MAX_LENGTH = 200
CUSTOMER_ID_MAX_LENGTH = 200
ATTRIBUTE_KEY_MAX_LENGTH = 100
ATTRIBUTE_VALUE_MAX_LENGTH = 1_000
ATTRIBUTES_MAX_COUNT = 100

SCORE_RANGES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}

RESPONSE_FIELDS = frozenset(
    {
        "external_id",
        "submitted_at",
        "customer_id",
        "channel",
        "touchpoint",
        "nps",
        "csat",
        "ces",
        "ratings",
        "comment",
        "attributes",
    }
)
CHANNELS = frozenset(Channel.values)
EXTRA_CELLS = "_extra_cells"  # set by the CSV reader on rows longer than the header
UNREADABLE_ROW = "_unreadable_row"  # set by the CSV reader on a row it cannot read, with why
_INTEGER_TEXT = re.compile(r"^[+-]?\d{1,18}$")


def comment_max_length() -> int:
    return int(settings.CXHUB.get("COMMENT_MAX_LENGTH", 10_000))


def pii_mask_region() -> str | None:
    """The region whose phone formats are masked in comments, or None when masking is off
    (``CXHUB_MASK_PII``)."""
    if not settings.CXHUB.get("MASK_PII", False):
        return None
    return str(settings.CXHUB.get("MASK_PII_REGION") or "GB")


def comment_for_storage(comment: str, *, region: str | None) -> str:
    """The comment as it is stored: with contact details masked when masking is on."""
    return comment if region is None or not comment else pii_mask(comment, region=region)


@dataclass(frozen=True, slots=True)
class ValidationContext:
    """What validation needs from the database, loaded once per batch."""

    touchpoint_ids: Mapping[str, int]
    attribute_scales: Mapping[str, tuple[int, int]]
    comment_max_length: int = 10_000
    mask_pii_region: str | None = None

    @classmethod
    def load(cls) -> ValidationContext:
        return cls(
            comment_max_length=comment_max_length(),
            mask_pii_region=pii_mask_region(),
            touchpoint_ids=dict(Touchpoint.objects.values_list("slug", "id")),
            attribute_scales={
                slug: (low, high)
                for slug, low, high in Attribute.objects.values_list(
                    "slug", "scale_min", "scale_max"
                )
            },
        )


@dataclass(slots=True)
class NormalisedResponse:
    """A valid feedback item in canonical form, ready to store."""

    external_id: str
    submitted_at: datetime
    customer_external_id: str | None
    channel: str
    touchpoint_slug: str | None
    touchpoint_id: int | None
    nps: int | None
    csat: int | None
    ces: int | None
    ratings: dict[str, int]
    comment: str
    attributes: dict[str, str | int | float | bool]
    ratings_json: str
    attributes_json: str
    content_hash: str


class _Invalid(Exception):
    """One field's message; raised by the small checkers below and collected per item."""


def _check_text(value: Any, *, max_length: int, what: str = "This field") -> str:
    if not isinstance(value, str):
        raise _Invalid(f"{what} must be a string.")
    if len(value) > max_length:
        raise _Invalid(
            f"{what} must have at most {max_length:,} characters (it has {len(value):,})."
        )
    problem = text_problem(value)
    if problem:
        raise _Invalid(f"{what} {problem}")
    return value


def _check_identifier(value: Any, *, max_length: int) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _Invalid("Must be a string.")
    value = value.strip()
    if not value:
        raise _Invalid("This field may not be blank.")
    return _check_text(value, max_length=max_length, what="The identifier")


def _check_whole_number(value: Any, low: int, high: int) -> int:
    """A whole number in [low, high]; accepts ints, integral floats and digit strings ("7")."""
    if isinstance(value, bool):
        raise _Invalid(f"Must be a whole number from {low} to {high}, not a boolean.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise _Invalid(f"Must be a whole number from {low} to {high}.")
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _INTEGER_TEXT.match(text):
            raise _Invalid(f"Must be a whole number from {low} to {high}; got {value[:40]!r}.")
        number = int(text)
    else:
        raise _Invalid(f"Must be a whole number from {low} to {high}.")
    if number < low or number > high:
        raise _Invalid(f"Must be a whole number from {low} to {high}; got {number}.")
    return number


def parse_aware_datetime(value: Any) -> datetime:
    """An ISO 8601 time with a zone, returned in UTC; naive times are refused, not guessed."""
    if not isinstance(value, str):
        raise _Invalid("Must be an ISO 8601 date-time string with a time zone.")
    text = value.strip()
    if len(text) > 64:
        raise _Invalid("Must be an ISO 8601 date-time string with a time zone.")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _Invalid(
            f"Not an ISO 8601 date-time: {value[:40]!r} (example: 2026-03-01T10:15:00Z)."
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _Invalid("The time has no time zone; add 'Z' or an offset such as '+01:00'.")
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise _Invalid("The date-time is out of range.") from None


def _check_ratings(
    value: Any, scales: Mapping[str, tuple[int, int]]
) -> tuple[dict[str, int], ErrorDict]:
    if not isinstance(value, dict):
        return {}, {
            "ratings": ["Must be an object mapping declared attribute slugs to whole numbers."]
        }
    ratings: dict[str, int] = {}
    messages: list[str] = []
    for slug, raw in value.items():
        scale = scales.get(slug)
        if scale is None:
            known = ", ".join(sorted(scales)) or "none declared"
            messages.append(
                f"Unknown rating attribute {str(slug)[:64]!r}; declared attributes: {known}."
            )
            continue
        if type(raw) is int and scale[0] <= raw <= scale[1]:
            ratings[slug] = raw
            continue
        if raw is None or raw == "":
            continue
        try:
            ratings[slug] = _check_whole_number(raw, scale[0], scale[1])
        except _Invalid as exc:
            messages.append(f"{slug}: {exc}")
    if messages:
        return {}, {"ratings": messages}
    return ratings, {}


def _check_attributes(value: Any) -> dict[str, str | int | float | bool]:
    if not isinstance(value, dict):
        raise _Invalid("Must be a flat object of strings, numbers or booleans.")
    if len(value) > ATTRIBUTES_MAX_COUNT:
        raise _Invalid(f"At most {ATTRIBUTES_MAX_COUNT} attributes are allowed.")
    attributes: dict[str, str | int | float | bool] = {}
    for key, item in value.items():
        if (
            not isinstance(key, str)
            or not key
            or len(key) > ATTRIBUTE_KEY_MAX_LENGTH
            or text_problem(key) is not None
        ):
            raise _Invalid(
                f"Attribute names must be non-empty strings of at most {ATTRIBUTE_KEY_MAX_LENGTH} characters."
            )
        if isinstance(item, bool):
            attributes[key] = item
        elif isinstance(item, int):
            if abs(item) >= 2**63:
                raise _Invalid(f"Attribute {key!r} is a number too large to store.")
            attributes[key] = item
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise _Invalid(f"Attribute {key!r} must be a finite number.")
            attributes[key] = item
        elif isinstance(item, str):
            attributes[key] = _check_text(
                item, max_length=ATTRIBUTE_VALUE_MAX_LENGTH, what=f"Attribute {key!r}"
            )
        else:
            raise _Invalid(
                f"Attribute {key!r} must be a string, number or boolean (no nested objects, lists or null)."
            )
    return attributes


def _absent(value: Any) -> bool:
    return value is None or value == ""


_SORTED_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
# The C string encoder json.dumps(ensure_ascii=False) uses; building the canonical text by
# hand with it gives byte-identical output at a fraction of the cost of a full dumps call.
_json_string: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _canonical_json(value: Mapping[str, Any]) -> str:
    if not value:
        return "{}"
    return _SORTED_ENCODER.encode(value)


def _canonical_ratings_json(ratings: Mapping[str, int]) -> str:
    """Same text as ``_canonical_json`` for a mapping of strings to ints, built directly."""
    if not ratings:
        return "{}"
    return "{" + ",".join([f"{_json_string(key)}:{ratings[key]}" for key in sorted(ratings)]) + "}"


def _json_scalar(value: str | int | None) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return _json_string(value)
    return str(value)


def content_hash(
    *,
    submitted_at: datetime,
    customer_external_id: str | None,
    channel: str,
    touchpoint_slug: str | None,
    nps: int | None,
    csat: int | None,
    ces: int | None,
    ratings: Mapping[str, int],
    comment: str,
    attributes: Mapping[str, Any],
    ratings_json: str | None = None,
    attributes_json: str | None = None,
) -> str:
    """SHA-256 of the canonical JSON of a response's content (everything but its external id).

    The canonical form is the compact JSON array ``[submitted_at (UTC ISO 8601), customer_id,
    channel, touchpoint, nps, csat, ces, comment, ratings, attributes]`` with sorted keys.
    """
    canonical = (
        f"[{_json_string(submitted_at.astimezone(UTC).isoformat())},{_json_scalar(customer_external_id)},"
        f"{_json_string(channel)},{_json_scalar(touchpoint_slug)},{_json_scalar(nps)},{_json_scalar(csat)},"
        f"{_json_scalar(ces)},{_json_string(comment)},"
        f"{ratings_json if ratings_json is not None else _canonical_ratings_json(ratings)},"
        f"{attributes_json if attributes_json is not None else _canonical_json(attributes)}]"
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _normalised(
    external_id: str,
    submitted_at: datetime,
    customer_external_id: str | None,
    channel: str,
    touchpoint_slug: str | None,
    touchpoint_id: int | None,
    nps: int | None,
    csat: int | None,
    ces: int | None,
    ratings: dict[str, int],
    comment: str,
    attributes: dict[str, str | int | float | bool],
) -> NormalisedResponse:
    """A valid item's canonical form, with its canonical JSON and content hash."""
    ratings_json = _canonical_ratings_json(ratings)
    attributes_json = _canonical_json(attributes)
    return NormalisedResponse(
        external_id=external_id,
        submitted_at=submitted_at,
        customer_external_id=customer_external_id,
        channel=channel,
        touchpoint_slug=touchpoint_slug,
        touchpoint_id=touchpoint_id,
        nps=nps,
        csat=csat,
        ces=ces,
        ratings=ratings,
        comment=comment,
        attributes=attributes,
        ratings_json=ratings_json,
        attributes_json=attributes_json,
        content_hash=content_hash(
            submitted_at=submitted_at,
            customer_external_id=customer_external_id,
            channel=channel,
            touchpoint_slug=touchpoint_slug,
            nps=nps,
            csat=csat,
            ces=ces,
            ratings=ratings,
            comment=comment,
            attributes=attributes,
            ratings_json=ratings_json,
            attributes_json=attributes_json,
        ),
    )


def _normalised_fast(item: Any, context: ValidationContext) -> NormalisedResponse | None:
    """The normalised form of an item that is plainly valid, or None to check it in full.

    Bulk posts are mostly items every rule accepts at first sight: each field of the type
    JSON gives it, within range, known. This path takes those with a few type and range
    tests and one search for unstorable text over all the item's strings, and hands back the
    same ``NormalisedResponse`` as :func:`validate_response`'s checks would (a test compares
    the two on generated items). Anything else (a missing or unusual value, a number as
    text, an unknown key, a ``source`` field, text that cannot be stored) returns None, and
    the full checks, the only ones that write messages, decide.
    """
    if type(item) is not dict or not item.keys() <= RESPONSE_FIELDS:
        return None
    get = item.get
    external_id = get("external_id")
    customer_external_id = get("customer_id")
    raw_time = get("submitted_at")
    if type(external_id) is not str or type(raw_time) is not str:
        return None
    external_id = external_id.strip()
    if not external_id or len(external_id) > EXTERNAL_ID_MAX_LENGTH:
        return None
    texts = [external_id]
    if customer_external_id is not None:
        if type(customer_external_id) is not str:
            return None
        customer_external_id = customer_external_id.strip()
        if not customer_external_id or len(customer_external_id) > CUSTOMER_ID_MAX_LENGTH:
            return None
        texts.append(customer_external_id)
    text = raw_time.strip()
    if len(text) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            return None
        submitted_at = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    nps, csat, ces = get("nps"), get("csat"), get("ces")
    if nps is not None and (type(nps) is not int or not 0 <= nps <= 10):
        return None
    if csat is not None and (type(csat) is not int or not 1 <= csat <= 5):
        return None
    if ces is not None and (type(ces) is not int or not 1 <= ces <= 7):
        return None
    comment = get("comment")
    if comment is None:
        comment = ""
    elif type(comment) is not str or len(comment) > context.comment_max_length:
        return None
    else:
        texts.append(comment)
        comment = comment_for_storage(comment, region=context.mask_pii_region)
    if nps is None and csat is None and ces is None and not comment.strip():
        return None
    channel = get("channel")
    if channel is None:
        channel = ""
    elif type(channel) is not str:
        return None
    else:
        channel = channel.strip().lower()
        if channel not in CHANNELS:
            return None
    touchpoint_slug = get("touchpoint")
    touchpoint_id = None
    if touchpoint_slug is not None:
        touchpoint_id = (
            context.touchpoint_ids.get(touchpoint_slug) if type(touchpoint_slug) is str else None
        )
        if touchpoint_id is None:
            return None
    ratings: dict[str, int] = {}
    raw_ratings = get("ratings")
    if raw_ratings is not None:
        if type(raw_ratings) is not dict:
            return None
        scales = context.attribute_scales
        for slug, rating in raw_ratings.items():
            scale = scales.get(slug)
            if scale is None:
                return None
            if type(rating) is int and scale[0] <= rating <= scale[1]:
                ratings[slug] = rating
            elif rating is not None:
                return None
    attributes = get("attributes")
    if attributes is None:
        attributes = {}
    else:
        if type(attributes) is not dict or len(attributes) > ATTRIBUTES_MAX_COUNT:
            return None
        for key, value in attributes.items():
            if type(key) is not str or not key or len(key) > ATTRIBUTE_KEY_MAX_LENGTH:
                return None
            texts.append(key)
            kind = type(value)
            if kind is str:
                if len(value) > ATTRIBUTE_VALUE_MAX_LENGTH:
                    return None
                texts.append(value)
            elif kind is int:
                if abs(value) >= 2**63:
                    return None
            elif kind is float:
                if not math.isfinite(value):
                    return None
            elif kind is not bool:
                return None
        attributes = dict(attributes)
    # Concatenation adds no character, so one search finds what any part holds.
    if text_problem("".join(texts)) is not None:
        return None
    return _normalised(
        external_id,
        submitted_at,
        customer_external_id,
        channel,
        touchpoint_slug,
        touchpoint_id,
        nps,
        csat,
        ces,
        ratings,
        comment,
        attributes,
    )


def validate_response(
    item: Any, context: ValidationContext, *, source_name: str | None = None
) -> tuple[NormalisedResponse | None, ErrorDict]:
    """Check one feedback item; returns the normalised item or the errors per field.

    An item may repeat the name of the source it is posted for (``source``); naming another
    source is an error, since one request stores for one source.
    """
    fast = _normalised_fast(item, context)
    if fast is not None:
        return fast, {}
    return _validate_response_checked(item, context, source_name=source_name)


def _validate_response_checked(
    item: Any, context: ValidationContext, *, source_name: str | None = None
) -> tuple[NormalisedResponse | None, ErrorDict]:
    """Every rule, one at a time, with a message for each field that breaks one."""
    if not isinstance(item, dict):
        return None, {"non_field_errors": ["Each feedback item must be a JSON object."]}
    if UNREADABLE_ROW in item:
        return None, {"non_field_errors": [str(item[UNREADABLE_ROW])]}
    errors: ErrorDict = {}
    if "source" in item and not _absent(item["source"]) and item["source"] != source_name:
        errors["source"] = [
            f"This item names the source {str(item['source'])[:60]!r} but is posted for the source "
            f"{source_name!r}; post each source's items separately."
        ]
    unknown = (
        []
        if item.keys() <= RESPONSE_FIELDS
        else [
            str(key)
            for key in item
            if key not in RESPONSE_FIELDS and key not in (EXTRA_CELLS, "source")
        ]
    )
    if EXTRA_CELLS in item:
        errors["non_field_errors"] = ["The row has more cells than the header has columns."]
    if unknown:
        errors.setdefault("non_field_errors", []).append(
            f"Unknown field(s): {', '.join(sorted(unknown)[:10])}. Allowed fields: {', '.join(sorted(RESPONSE_FIELDS))}."
        )

    external_id = ""
    raw = item.get("external_id")
    if _absent(raw):
        errors["external_id"] = ["This field is required."]
    else:
        try:
            external_id = _check_identifier(raw, max_length=EXTERNAL_ID_MAX_LENGTH)
        except _Invalid as exc:
            errors["external_id"] = [str(exc)]

    submitted_at: datetime | None = None
    raw = item.get("submitted_at")
    if _absent(raw):
        errors["submitted_at"] = ["This field is required."]
    else:
        try:
            submitted_at = parse_aware_datetime(raw)
        except _Invalid as exc:
            errors["submitted_at"] = [str(exc)]

    scores: dict[str, int | None] = {"nps": None, "csat": None, "ces": None}
    for name, (low, high) in SCORE_RANGES.items():
        raw = item.get(name)
        if type(raw) is int and low <= raw <= high:
            scores[name] = raw
            continue
        if _absent(raw):
            continue
        try:
            scores[name] = _check_whole_number(raw, low, high)
        except _Invalid as exc:
            errors[name] = [str(exc)]

    comment = ""
    raw = item.get("comment")
    if raw is not None:
        try:
            comment = comment_for_storage(
                _check_text(raw, max_length=context.comment_max_length, what="The comment"),
                region=context.mask_pii_region,
            )
        except _Invalid as exc:
            errors["comment"] = [str(exc)]

    if (
        scores["nps"] is None
        and scores["csat"] is None
        and scores["ces"] is None
        and not comment.strip()
        and not ("nps" in errors or "csat" in errors or "ces" in errors or "comment" in errors)
    ):
        errors.setdefault("non_field_errors", []).append(
            "At least one of nps, csat, ces or comment is required."
        )

    channel = ""
    raw = item.get("channel")
    if not _absent(raw):
        if not isinstance(raw, str) or raw.strip().lower() not in CHANNELS:
            errors["channel"] = [
                f"{str(raw)[:40]!r} is not a valid channel; valid channels: {', '.join(Channel.values)}."
            ]
        else:
            channel = raw.strip().lower()

    touchpoint_slug: str | None = None
    touchpoint_id: int | None = None
    raw = item.get("touchpoint")
    if not _absent(raw):
        touchpoint_id = context.touchpoint_ids.get(raw) if isinstance(raw, str) else None
        if touchpoint_id is None:
            valid = ", ".join(sorted(context.touchpoint_ids)) or "none defined yet"
            errors["touchpoint"] = [
                f"Unknown touchpoint {str(raw)[:64]!r}; valid touchpoints: {valid}."
            ]
        else:
            touchpoint_slug = raw

    customer_external_id: str | None = None
    raw = item.get("customer_id")
    if not _absent(raw):
        try:
            customer_external_id = _check_identifier(raw, max_length=CUSTOMER_ID_MAX_LENGTH)
        except _Invalid as exc:
            errors["customer_id"] = [str(exc)]

    ratings: dict[str, int] = {}
    raw = item.get("ratings")
    if not _absent(raw):
        ratings, rating_errors = _check_ratings(raw, context.attribute_scales)
        errors.update(rating_errors)

    attributes: dict[str, str | int | float | bool] = {}
    raw = item.get("attributes")
    if not _absent(raw):
        try:
            attributes = _check_attributes(raw)
        except _Invalid as exc:
            errors["attributes"] = [str(exc)]

    if errors or submitted_at is None:
        return None, errors
    normalised = _normalised(
        external_id,
        submitted_at,
        customer_external_id,
        channel,
        touchpoint_slug,
        touchpoint_id,
        scores["nps"],
        scores["csat"],
        scores["ces"],
        ratings,
        comment,
        attributes,
    )
    return normalised, {}


# --- CSV ------------------------------------------------------------------------------------

RATING_PREFIX = "rating_"
ATTRIBUTE_PREFIX = "attr_"
CSV_PLAIN_COLUMNS = (RESPONSE_FIELDS - {"ratings", "attributes"}) | {"source"}
# Written by import_feedback into its rejected-rows file and ignored on the way back in, so
# a corrected rejected file can be imported as it is.
CSV_IGNORED_COLUMNS = frozenset({"line", "reasons"})


class CSVRow(NamedTuple):
    """One data row: the line it starts on, its raw cells and the feedback item it holds."""

    line: int
    cells: list[str]
    item: dict[str, Any]


class CSVFormatError(ValueError):
    """The CSV as a whole cannot be read (no header, unknown columns)."""


def decode_csv_bytes(data: bytes) -> str:
    """Decode as UTF-8 (BOM allowed); undecodable bytes become lone surrogates.

    Rows holding such bytes then fail validation one by one ("not valid UTF-8") instead of
    the whole file being refused.
    """
    text = data.decode("utf-8", errors="surrogateescape")
    return text[1:] if text.startswith("\ufeff") else text


def check_csv_header(header: Iterable[str]) -> list[str]:
    """The cleaned header; raises ``CSVFormatError`` naming unknown or repeated columns."""
    columns = [column.strip() for column in header]
    if not any(columns):
        raise CSVFormatError("The CSV has no header row.")
    unknown = [
        column
        for column in columns
        if column not in CSV_PLAIN_COLUMNS
        and column not in CSV_IGNORED_COLUMNS
        and not (column.startswith(RATING_PREFIX) and len(column) > len(RATING_PREFIX))
        and not (column.startswith(ATTRIBUTE_PREFIX) and len(column) > len(ATTRIBUTE_PREFIX))
    ]
    if unknown:
        raise CSVFormatError(
            f"Unknown CSV column(s): {', '.join(repr(c[:40]) for c in unknown[:10])}. Columns are "
            f"{', '.join(sorted(CSV_PLAIN_COLUMNS))}, rating_<attribute> and attr_<name>."
        )
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        raise CSVFormatError(f"Repeated CSV column(s): {', '.join(repeated)}.")
    if "external_id" not in columns or "submitted_at" not in columns:
        raise CSVFormatError("The CSV header must include external_id and submitted_at.")
    return columns


def csv_row_to_item(columns: list[str], row: list[str]) -> dict[str, Any]:
    """One CSV row as a feedback item; empty cells are absent fields."""
    item: dict[str, Any] = {}
    ratings: dict[str, str] = {}
    attributes: dict[str, str] = {}
    if len(row) > len(columns):
        extra = [cell for cell in row[len(columns) :] if cell != ""]
        if extra:
            item[EXTRA_CELLS] = len(extra)
    for column, cell in zip(columns, row, strict=False):
        if cell == "" or column in CSV_IGNORED_COLUMNS:
            continue
        if column.startswith(RATING_PREFIX) and column not in CSV_PLAIN_COLUMNS:
            ratings[column[len(RATING_PREFIX) :]] = cell
        elif column.startswith(ATTRIBUTE_PREFIX) and column not in CSV_PLAIN_COLUMNS:
            attributes[column[len(ATTRIBUTE_PREFIX) :]] = cell
        else:
            item[column] = cell
    if ratings:
        item["ratings"] = ratings
    if attributes:
        item["attributes"] = attributes
    return item


class _TrackedLines:
    """The lines a CSV reader takes, kept per row, and whether it ran past the last one."""

    def __init__(self, source: Iterable[str]) -> None:
        self._source = iter(source)
        self.taken: list[str] = []
        self.exhausted = False

    def __iter__(self) -> _TrackedLines:
        return self

    def again(self, lines: list[str]) -> _TrackedLines:
        """A fresh tracker reading ``lines`` first, then the lines not yet taken."""
        return _TrackedLines(itertools.chain(lines, self._source))

    def __next__(self) -> str:
        try:
            line = next(self._source)
        except StopIteration:
            self.exhausted = True
            raise
        self.taken.append(line)
        return line


def _broken_quote(lines: _TrackedLines) -> str | None:
    """Why the row just read is a quoting accident, or None when it is a sound row.

    A row that spans lines is read once more, strictly: a quote never closed (the reader ran
    to the end of the input) or closed with text after it means the lines were swallowed by
    an accident, not written as one multi-line cell.
    """
    if not lines.taken or (len(lines.taken) == 1 and not lines.exhausted):
        return None
    try:
        list(csv.reader(lines.taken, strict=True))
    except csv.Error:
        if lines.exhausted:
            return "opens a quoted field that is never closed"
        return "opens a quoted field that is closed in the wrong place (text follows the quote)"
    return None


def iter_csv_items(lines: str | Iterable[str]) -> tuple[list[str], Iterator[CSVRow]]:
    """The header and a lazy stream of the data rows of a CSV text or open file.

    A quote that is never closed would swallow every following line into one cell: that row
    becomes an error naming its line, and reading starts again on the line after it, so the
    rows that follow are read (and reported) one by one.
    """
    tracked = _TrackedLines(io.StringIO(lines, newline="") if isinstance(lines, str) else lines)
    reader = csv.reader(tracked)
    try:
        header = next(reader)
    except StopIteration:
        raise CSVFormatError("The CSV is empty; it needs a header row.") from None
    except csv.Error as exc:
        raise CSVFormatError(f"The CSV cannot be read: {exc}.") from None
    if problem := _broken_quote(tracked):
        raise CSVFormatError(f"The header row {problem}.")
    columns = check_csv_header(header)
    first_line = len(tracked.taken) + 1

    def rows() -> Iterator[CSVRow]:
        nonlocal reader, tracked
        line = first_line
        while True:
            tracked.taken = []
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise CSVFormatError(f"The CSV cannot be read near line {line}: {exc}.") from None
            problem = _broken_quote(tracked)
            if problem:
                rest = tracked.taken[1:]
                cells = next(csv.reader(tracked.taken[:1]), [])
                message = (
                    f"Line {line} {problem}; the lines after it are read as rows of their own. "
                    'Close the quote (a quote inside a field is written twice: "").'
                )
                yield CSVRow(line, cells, {UNREADABLE_ROW: message})
                tracked = tracked.again(rest)
                reader = csv.reader(tracked)
                line += 1
                continue
            if row and not all(cell == "" for cell in row):
                yield CSVRow(line, row, csv_row_to_item(columns, row))
            line += len(tracked.taken)

    return columns, rows()


# --- Customers ------------------------------------------------------------------------------

CUSTOMER_FIELDS = frozenset(
    {
        "external_id",
        "segment",
        "region",
        "plan",
        "attributes",
        "annual_revenue",
        "cost_to_serve",
        "churned_at",
    }
)
_MONEY_LIMIT = Decimal("1e12")


def _check_money(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Invalid('Must be a number (a decimal string such as "1234.50" is fine).')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise _Invalid(f"Not a number: {str(value)[:40]!r}.") from None
    if not amount.is_finite():
        raise _Invalid("Must be a finite number.")
    if amount < 0:
        raise _Invalid("Must not be negative.")
    if amount >= _MONEY_LIMIT:
        raise _Invalid("Must be less than 1,000,000,000,000.")
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def validate_customer(item: Any) -> tuple[dict[str, Any] | None, ErrorDict]:
    """Check one customer item; returns the model field values it sets, or the errors."""
    if not isinstance(item, dict):
        return None, {"non_field_errors": ["Each customer must be a JSON object."]}
    errors: ErrorDict = {}
    unknown = [str(key) for key in item if key not in CUSTOMER_FIELDS]
    if unknown:
        errors["non_field_errors"] = [
            f"Unknown field(s): {', '.join(sorted(unknown)[:10])}. Allowed fields: {', '.join(sorted(CUSTOMER_FIELDS))}."
        ]
    values: dict[str, Any] = {}
    raw = item.get("external_id")
    if _absent(raw):
        errors["external_id"] = ["This field is required."]
    else:
        try:
            values["external_id"] = _check_identifier(raw, max_length=CUSTOMER_ID_MAX_LENGTH)
        except _Invalid as exc:
            errors["external_id"] = [str(exc)]
    for name in ("segment", "region", "plan"):
        if name not in item:
            continue
        raw = item[name]
        try:
            values[name] = "" if raw is None else _check_text(raw, max_length=64).strip()
        except _Invalid as exc:
            errors[name] = [str(exc)]
    if "attributes" in item:
        try:
            values["attributes"] = (
                {} if item["attributes"] is None else _check_attributes(item["attributes"])
            )
        except _Invalid as exc:
            errors["attributes"] = [str(exc)]
    for name in ("annual_revenue", "cost_to_serve"):
        if name not in item:
            continue
        try:
            values[name] = _check_money(item[name])
        except _Invalid as exc:
            errors[name] = [str(exc)]
    if "churned_at" in item:
        raw = item["churned_at"]
        try:
            values["churned_at"] = None if _absent(raw) else parse_aware_datetime(raw)
        except _Invalid as exc:
            errors["churned_at"] = [str(exc)]
    if errors:
        return None, errors
    return values, {}
