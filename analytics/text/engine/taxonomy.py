"""Compile an editable taxonomy into one fast matcher.

Plain keyword phrases are matched on tokens: the text is split into words once, every
word is lightly stemmed (plurals, ``-ed``, ``-ing``, a final ``e``) and a dictionary keyed
by the first stemmed word of each phrase finds candidate phrases, longest first. This
costs a dictionary look-up per word whatever the number of topics, is word-boundary aware
by construction and lets "agents", "waited" or "charging" match the phrases "agent",
"wait" and "charge". Phrases starting with ``re:`` are regular expressions; all of them
are joined into a single alternation with one named group per topic, so the text is
scanned once for patterns too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

WORD_RE = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?|[$£€]")
REGEX_PREFIX = "re:"


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A deliberately light stemmer: enough to merge inflections, never clever.

    It is applied to keywords and text alike, so only consistency matters, not whether the
    result is a real word.
    """
    if word.endswith(("'s", "’s")):
        word = word[:-2]
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "shes", "ches", "xes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsaeiou":
        word = word[:-1]  # "stopped" -> "stopp" -> "stop", "shipped" -> "ship"
    return word


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Lower-cased stemmed words with their character offsets in ``text``."""
    return [(stem(m.group()), m.start(), m.end()) for m in WORD_RE.finditer(text.lower())]


_STEMS: dict[str, str] = {}
_STEMS_MAX = 200_000


def _stems(words: list[str]) -> list[str]:
    """``stem`` of each word, from a plain dictionary keyed by word (cheaper than lru_cache)."""
    known = _STEMS
    stems = [known.get(word) for word in words]
    if None in stems:
        if len(known) >= _STEMS_MAX:
            known.clear()
        for i, found in enumerate(stems):
            if found is None:
                stems[i] = known[words[i]] = stem(words[i])
    return stems  # type: ignore[return-value]


@dataclass(frozen=True)
class TopicRule:
    """A topic as the engine sees it: an id, a slug and its phrases."""

    topic_id: int
    slug: str
    keywords: tuple[str, ...]
    parent_slug: str | None = None


class Hit(NamedTuple):
    """One place where a topic's phrase occurs in a text."""

    topic_id: int
    start: int
    end: int


def taxonomy_version(rules: Iterable[TopicRule]) -> str:
    """A short fingerprint of the active taxonomy; it changes whenever a rule changes."""
    payload = sorted((r.topic_id, r.slug, list(r.keywords)) for r in rules)
    return hashlib.sha1(json.dumps(payload).encode()).hexdigest()[:16]


# A quantified group that itself contains a quantifier: the classic catastrophic-backtracking
# shape. Rejecting it keeps one person's pattern from stalling every tagging worker.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]")


def validate_keyword(keyword: str) -> str | None:
    """A readable reason why ``keyword`` cannot be used, or None when it is fine."""
    if not keyword.strip():
        return "Keywords must not be blank."
    if "\x00" in keyword:
        return "Keywords must not contain NUL characters."
    if keyword.startswith(REGEX_PREFIX):
        if _NESTED_QUANTIFIER.search(keyword):
            return (
                f"Regular expression {keyword!r} repeats a repeated group (like '(a+)+'), "
                "which can take exponential time; simplify it."
            )
        try:
            re.compile(keyword[len(REGEX_PREFIX) :])
        except re.error as exc:
            return f"Invalid regular expression {keyword!r}: {exc}."
        if re.compile(keyword[len(REGEX_PREFIX) :]).match(""):
            return f"Regular expression {keyword!r} matches empty text."
        return None
    if not tokenize(keyword):
        return f"Keyword {keyword!r} contains no letters or digits."
    return None


# The phrases starting with one stemmed word, longest first; each with the topics that
# list it (in taxonomy order), so a phrase shared by several topics is compared once.
PhraseBucket = list[tuple[tuple[str, ...], tuple[int, ...]]]
# Where one phrase (or pattern) matched: the topics it belongs to, start and end.
Span = tuple[tuple[int, ...], int, int]


@dataclass
class CompiledTaxonomy:
    """The matcher built from a list of rules; immutable once built."""

    rules: Sequence[TopicRule]
    version: str = ""
    _phrases: dict[str, PhraseBucket] = field(default_factory=dict)
    _regex: re.Pattern[str] | None = None
    _group_topic: dict[str, tuple[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, rules: Sequence[TopicRule]) -> CompiledTaxonomy:
        topics_of: dict[tuple[str, ...], list[int]] = {}
        patterns: list[str] = []
        group_topic: dict[str, tuple[int]] = {}
        for rule in rules:
            topic_patterns: list[str] = []
            for keyword in rule.keywords:
                if keyword.startswith(REGEX_PREFIX):
                    topic_patterns.append(keyword[len(REGEX_PREFIX) :])
                    continue
                tokens = tuple(token for token, _, _ in tokenize(keyword))
                if tokens:
                    topics = topics_of.setdefault(tokens, [])
                    if rule.topic_id not in topics:
                        topics.append(rule.topic_id)
            if topic_patterns:
                name = f"t{len(group_topic)}"
                group_topic[name] = (rule.topic_id,)
                patterns.append(f"(?P<{name}>{'|'.join(f'(?:{p})' for p in topic_patterns)})")
        phrases: dict[str, PhraseBucket] = {}
        for phrase, topics in topics_of.items():
            phrases.setdefault(phrase[0], []).append((phrase, tuple(topics)))
        for bucket in phrases.values():
            bucket.sort(key=lambda item: -len(item[0]))
        regex = re.compile("|".join(patterns)) if patterns else None
        return cls(
            rules=rules,
            version=taxonomy_version(rules),
            _phrases=phrases,
            _regex=regex,
            _group_topic=group_topic,
        )

    def find(self, text: str, tokens: list[tuple[str, int, int]] | None = None) -> list[Hit]:
        """All topic hits in ``text``; at each word the longest phrase wins."""
        return [
            Hit(topic_id, start, end)
            for topics, start, end in self.spans(text, tokens)
            for topic_id in topics
        ]

    def spans(self, text: str, tokens: list[tuple[str, int, int]] | None = None) -> list[Span]:
        """``find``'s hits grouped by place: each matched phrase once, with its topics.

        In text order, then the pattern matches; the topics of a place in taxonomy order.
        """
        lowered = text.lower()
        if tokens is None:
            matches = list(WORD_RE.finditer(lowered))
            stems = _stems([m.group() for m in matches])
            offsets: Sequence[tuple[int, int]] = [m.span() for m in matches]
        else:
            stems = [token[0] for token in tokens]
            offsets = [(token[1], token[2]) for token in tokens]
        found: list[Span] = []
        phrases = self._phrases
        n = len(stems)
        free_from = 0  # words before this index were consumed by a longer phrase
        for i, word in enumerate(stems):
            candidates = phrases.get(word)
            if candidates is None or i < free_from:
                continue
            for phrase, topics in candidates:
                size = len(phrase)
                if size == 1:
                    found.append((topics, offsets[i][0], offsets[i][1]))
                elif i + size > n or tuple(stems[i : i + size]) != phrase:
                    continue
                else:
                    found.append((topics, offsets[i][0], offsets[i + size - 1][1]))
                # Two phrases of one length cannot both match here, and shorter ones lose.
                free_from = i + size
                break
        if self._regex is not None:
            group_topic = self._group_topic
            for match in self._regex.finditer(lowered):
                name = match.lastgroup
                if name is not None:
                    found.append((group_topic[name], match.start(), match.end()))
        return found
