"""Privacy: masking contact details in comments, and the hooks of erasure and export.

Masking runs at ingest, inside ``feedback.validation.validate_response``, which every
ingest path goes through (single and bulk API, CSV, ``import_feedback``; the demo seed
calls ``pii_mask`` itself), so the stored, hashed and tagged text is the masked one. Phone
numbers are found with ``phonenumbers`` (Google's libphonenumber): numbers in
international form (``+44 20 7946 0958``, ``0049 30 …``) and national numbers of the region
``CXHUB_MASK_PII_REGION``, with its strict grouping rules, which keep order numbers, dates,
times and prices out.

Erasure and export concern data that apps above ``feedback`` keep about a customer's
responses (topic mentions, alerts, notifications, action evidence, cached figures);
``feedback`` imports none of them, so each registers an eraser and an exporter here in its
``AppConfig.ready``, as processors are registered in ``feedback.processing``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
ERASED_TEXT = "[erased]"

# Local part with dots, plus tags and the like; a domain of labels ending in a 2+ letter TLD.
_EMAIL = re.compile(
    r"(?<![\w.%+'-])[\w%+'-]+(?:\.[\w%+'-]+)*@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w-])"
)
_DIGITS = re.compile(r"\d")
# Fewer digits than this cannot be a phone number worth a look (the shortest valid
# subscriber numbers with a country code have seven).
_PHONE_MIN_DIGITS = 7


def pii_mask(text: str, *, region: str | None = "GB") -> str:
    """``text`` with e-mail addresses replaced by ``[email]`` and phone numbers by ``[phone]``.

    ``region`` (ISO 3166 alpha-2) says whose national formats count as phone numbers;
    numbers in international form are found whatever it is.
    """
    if "@" in text:
        text = _EMAIL.sub(EMAIL_MASK, text)
    if len(_DIGITS.findall(text)) < _PHONE_MIN_DIGITS:
        return text
    matches = list(
        phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.STRICT_GROUPING
        )
    )
    for match in reversed(matches):
        text = text[: match.start] + PHONE_MASK + text[match.end :]
    return text


def pii_found(text: str, *, region: str | None = "GB") -> bool:
    """True when ``text`` holds an e-mail address or a phone number."""
    return pii_mask(text, region=region) != text


# --- Scrubbing copies of erased text --------------------------------------------------------

# Copies of a comment are cut to a few hundred characters and end with an ellipsis; a cut
# copy is recognised by at least this many leading characters of the comment.
_CUT_COPY_MIN = 20


def text_scrub(
    text: str, *, comments: Sequence[str] = (), identifiers: Mapping[str, str] | None = None
) -> str:
    """``text`` with each comment (whole, or cut and ending in "…") replaced by ``[erased]``
    and each identifier (a whole word) replaced by its pseudonym."""
    for comment in sorted({c for c in comments if c.strip()}, key=len, reverse=True):
        text = text.replace(comment, ERASED_TEXT)
        if len(comment) > _CUT_COPY_MIN and "…" in text:
            text = _cut_copies_remove(text, comment)
    for identifier, pseudonym in (identifiers or {}).items():
        if identifier:
            pattern = re.compile(rf"(?<![\w-]){re.escape(identifier)}(?![\w-])")
            text = pattern.sub(pseudonym.replace("\\", "\\\\"), text)
    return text


def _cut_copies_remove(text: str, comment: str) -> str:
    head = comment[:_CUT_COPY_MIN]
    start = text.find(head)
    while start != -1:
        end = start + _CUT_COPY_MIN
        while end - start < len(comment) and end < len(text) and text[end] == comment[end - start]:
            end += 1
        if end < len(text) and text[end] == "…":
            text = text[:start] + ERASED_TEXT + text[end + 1 :]
            start = text.find(head, start + len(ERASED_TEXT))
        else:
            start = text.find(head, start + 1)
    return text


def json_scrub(
    value: Any, *, comments: Sequence[str] = (), identifiers: Mapping[str, str] | None = None
) -> Any:
    """A JSON value with ``text_scrub`` applied to every string in it (keys included)."""
    if isinstance(value, str):
        return text_scrub(value, comments=comments, identifiers=identifiers)
    if isinstance(value, list):
        return [json_scrub(item, comments=comments, identifiers=identifiers) for item in value]
    if isinstance(value, dict):
        return {
            json_scrub(key, comments=comments, identifiers=identifiers): json_scrub(
                item, comments=comments, identifiers=identifiers
            )
            for key, item in value.items()
        }
    return value


# Attribute names that hold contact details or names; erased with the customer.
PERSONAL_ATTRIBUTE = re.compile(
    r"(^|_)(e_?mail|phone|mobile|tel|telephone|fax|name|first_?name|last_?name|full_?name|"
    r"surname|address|street|postcode|post_code|zip|zip_?code|birth|birthday|date_of_birth|dob|"
    r"ip|ip_address|contact)($|_)",
    re.IGNORECASE,
)


def attributes_without_personal_data(
    attributes: Mapping[str, Any], *, secrets: Sequence[str] = (), region: str | None = "GB"
) -> dict[str, Any]:
    """The attributes minus contact fields (by name), values holding an e-mail address or a
    phone number, and values containing one of ``secrets`` (the customer's identifiers)."""
    kept: dict[str, Any] = {}
    for key, value in attributes.items():
        if PERSONAL_ATTRIBUTE.search(str(key)):
            continue
        text = str(value)
        if isinstance(value, str) and (
            pii_found(text, region=region) or any(s and s in text for s in secrets)
        ):
            continue
        kept[key] = value
    return kept


# --- Hooks of erasure and export ------------------------------------------------------------


@dataclass(frozen=True)
class ErasedCustomer:
    """What an eraser needs: whose data, the texts to remove wherever they were copied, and
    the pseudonym that replaces the customer's external id."""

    customer_id: int
    response_ids: Sequence[int]
    external_id: str
    pseudonym: str
    comments: Sequence[str]
    # Values of the personal attributes erased (a name, an e-mail address, a phone number).
    personal_values: Sequence[str] = ()

    @property
    def identifiers(self) -> dict[str, str]:
        """The external id becomes the pseudonym; personal values become ``[erased]``."""
        replaced = {value: ERASED_TEXT for value in self.personal_values if len(value) >= 3}
        return {**replaced, self.external_id: self.pseudonym}

    def scrub(self, value: Any) -> Any:
        """``value`` (text or JSON) without the customer's comments and external id."""
        return json_scrub(value, comments=self.comments, identifiers=self.identifiers)


CustomerEraser = Callable[[ErasedCustomer], None]
# (customer id, response ids) -> a JSON-ready section of the export
CustomerExporter = Callable[[int, Sequence[int]], dict[str, Any]]

_erasers: dict[str, CustomerEraser] = {}
_exporters: dict[str, CustomerExporter] = {}


def register_customer_eraser(name: str, eraser: CustomerEraser) -> None:
    """Register (or replace) an eraser: called inside the erasure's transaction, it removes
    the app's copies of the customer's text and forgets what it cached."""
    _erasers[name] = eraser


def customer_erasers() -> list[tuple[str, CustomerEraser]]:
    return list(_erasers.items())


def register_customer_exporter(name: str, exporter: CustomerExporter) -> None:
    """Register (or replace) an exporter: its dict's keys are added to the customer export."""
    _exporters[name] = exporter


def customer_exporters() -> list[tuple[str, CustomerExporter]]:
    return list(_exporters.items())
