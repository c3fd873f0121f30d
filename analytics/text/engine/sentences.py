"""Sentence splitting for short customer comments.

Comments are informal: missing capitals, "!!!", emoticons, line breaks, abbreviations
such as "e.g." or "Mr." and prices such as "£3.50". A sentence ends at ``.``, ``!`` or
``?`` (repeated or not) followed by white space, or at a line break; a full stop inside
a number or after a known abbreviation does not end one.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\s*[\r\n]+\s*")
# fmt: off
_ABBREVIATIONS = frozenset(
    ["mr", "mrs", "ms", "dr", "st", "vs", "etc", "eg", "e.g", "ie", "i.e", "approx", "no", "tel",
     "min", "mins", "hr", "hrs", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
     "oct", "nov", "dec", "inc", "ltd", "co"]
)
# fmt: on


def split_sentences(text: str) -> list[tuple[str, int]]:
    """The sentences of ``text`` with the character offset where each starts."""
    sentences: list[tuple[str, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        candidate = text[start : match.start()]
        if "\n" not in match.group() and "\r" not in match.group():
            last_word = (
                candidate.rsplit(None, 1)[-1].lower().rstrip(".") if candidate.strip() else ""
            )
            if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
                continue
        _append(sentences, text, start, match.start())
        start = match.end()
    _append(sentences, text, start, len(text))
    return sentences


def _append(sentences: list[tuple[str, int]], text: str, start: int, end: int) -> None:
    segment = text[start:end]
    stripped = segment.strip()
    if stripped:
        sentences.append((stripped, start + segment.index(stripped[0])))
