"""A fixed, varied corpus of comments and a compact digest of what the tagger makes of them.

The digests in ``test_tagging_golden.py`` were computed with the tagger as it was before it
was made fast; the test proves the fast tagger gives the same language, sentiment, topics,
offsets and aspect sentiment for every text. The corpus uses only texts shipped in the
repository: the labelled comments and the Yelp sentences of ``tests/fixtures``, the demo's
phrase bank (English and foreign clauses, comments from ``demo.generator``), the bench's
comments (``bench.data``), and seeded random recombinations of all of them with the things
that move VADER's arithmetic (capitals, "!!!", "?", boosters, negations, "but", emojis,
emoticons, line breaks, prices and abbreviations) and a few edge cases.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analytics.text.engine.evaluation import default_rules, load_labelled, load_yelp
from analytics.text.engine.tagger import Tagger, TagResult
from analytics.text.engine.taxonomy import TopicRule
from bench.data import PHRASES_NEGATIVE, PHRASES_POSITIVE, feedback_items
from bench.programme import TOPICS_WANTED, generated_topics
from demo import verbatims

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CHUNK = 1000

_JOINERS = [
    " ", "  ", "\n", "\r\n", "\n\n", "! ", "!!! ", "? ", "?? ", "... ", ", ", ", but ", " but ",
    "; ", ", however, ", ". However ", ", although ", " - ", " — ", ". Also ", " and ", " :) ",
    " :( ", " 😡 ", " 👍 ", " 😊 ", " yet ", ", except ",
]  # fmt: skip
_INSERTS = [
    "very", "extremely", "really", "kind of", "sort of", "not", "never", "hardly", "barely",
    "so", "totally", "absolutely", "slightly", "a bit", "quite", "no", "without", "isn't",
    "didn't", "never ever", "most", "least", "super", "incredibly", "but", "however", "ok",
    "£3.50", "$12", "Mr. Smith", "e.g. the app", "i.e. staff", "40 minutes", "2 hours",
    "on hold for 40 minutes", "still waiting", "never arrived", "can't wait", "not worth",
    "no one called back", "took ages", "waited 3 days", ":-)", ":D", "<3", "lol", "LOL",
    "😀", "😭", "💯", "🙂", "👎", "GREAT", "AWFUL", "the the", "wait wait", "waiting",
    "agents", "refund", "bill", "charged twice", "kind", "kind of ok", "like", "pretty",
]  # fmt: skip
_ENDINGS = ["", "", "", "!", "!!", "!!!!", "?", "???", "?!", ".", "...", " :)", " 😡", " lol"]
_EDGE_CASES = [
    " ", ":)", ":(", "123", "!!!", "???", "...", "😀", "👍👍👍", "ok", "OK!", "no", "NO!!!",
    "£", "$$$", "5/10", "10/10 would recommend", "a", "I", "the", "but", "not bad", "not good",
    "bad", "good", "Good.", "GOOD", "good!!!", "good?", "kind of", "kind of good",
    "wait", "waiting", "still waiting", "on hold", "e.g.", "Mr.", "Dr. Who was lovely",
    "Great!\n\nTerrible!", "Great.Terrible.", "great... terrible", "The wait was 45min",
    "Waited 45 mins!!! NOT happy", "x" * 50, "word " * 400, ("This is great. " * 80).strip(),
    "A" * 1500 + " was rude", "staff " * 300 + "rude", "Très bon service, je recommande.",
    "Sehr gut", "Muy bien", "Molto bene, grazie", "Goed geholpen", "Muito bom", "очень хорошо",
    "很好", "とても良い", "Der Service war sehr schlecht, aber das Essen war gut.",
    "The café was naïve about my résumé", "Staff’s attitude wasn’t great", "I’m not happy",
    "can’t fault them", "didn’t arrive", "It's not bad at all", "It isn't good at all",
    "The app is BAD but the staff are GREAT!!!", "BAD BAD BAD", "Never again.",
    "I will never come back again!", "they never called back", "nobody called back",
    "Staff were lovely but the wait was awful", "The wait was awful but staff were lovely",
]  # fmt: skip


def _demo_comments() -> list[str]:
    from demo.generator import generate

    data = generate(seed=13, responses=3000, end=datetime(2026, 6, 1, tzinfo=UTC))
    return [c for c in data.responses["comment"].tolist() if c]


def _clauses() -> list[str]:
    clauses: list[str] = []
    for theme in verbatims.THEMES.values():
        for polarity in theme.values():
            clauses.extend(polarity)
    for bank in verbatims.FOREIGN.values():
        for polarity in bank.values():
            clauses.extend(polarity)
    return clauses


def _mutate(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    for _ in range(rng.randint(0, 3)):
        kind = rng.random()
        position = rng.randrange(len(words) + 1)
        if kind < 0.45:
            words.insert(position, rng.choice(_INSERTS))
        elif kind < 0.7 and words:
            index = rng.randrange(len(words))
            words[index] = words[index].upper()
        elif kind < 0.8 and words:
            index = rng.randrange(len(words))
            words[index] = words[index].capitalize()
        elif words:
            index = rng.randrange(len(words))
            words[index] = words[index] + rng.choice(["!", "!!", ",", ";", ":", ".", "?"])
    mutated = " ".join(words)
    roll = rng.random()
    if roll < 0.1:
        mutated = mutated.lower()
    elif roll < 0.15:
        mutated = mutated.upper()
    return mutated + rng.choice(_ENDINGS)


def corpus_texts() -> list[str]:
    """About 27,000 texts, always the same ones in the same order."""
    yelp = [text for text, _ in load_yelp(FIXTURES / "yelp_labelled.txt")]
    labelled = [record["text"] for record in load_labelled(FIXTURES / "labelled_comments.jsonl")]
    bench = list(
        dict.fromkeys(
            item["comment"]
            for items in feedback_items(count=20_000, touchpoints=["a", "b"])
            for item in items
            if "comment" in item
        )
    )
    demo = _demo_comments()
    clauses = _clauses()
    pieces = yelp + labelled + clauses + PHRASES_NEGATIVE + PHRASES_POSITIVE + demo[:500]
    rng = random.Random(13)
    mixed: list[str] = []
    for _ in range(20_000):
        count = rng.choice([1, 1, 2, 2, 2, 3, 4])
        parts = [_mutate(rng, rng.choice(pieces)) for _ in range(count)]
        text = parts[0]
        for part in parts[1:]:
            text += rng.choice(_JOINERS) + part
        mixed.append(text)
    return yelp + labelled + bench + demo + clauses + _EDGE_CASES + mixed


def bench_rules() -> list[TopicRule]:
    """The bench's taxonomy (``bench.programme.topics_create``): the defaults, then generated."""
    from analytics.text.services import keywords_clean

    rules = default_rules()
    wanted = TOPICS_WANTED - len(rules)
    for index, slug, _name, keywords in generated_topics():
        if index > wanted:
            break
        rules.append(
            TopicRule(topic_id=len(rules), slug=slug, keywords=tuple(keywords_clean(keywords)))
        )
    return rules


def result_record(result: TagResult) -> list[Any]:
    return [
        result.language,
        result.language_supported,
        result.sentiment,
        [[m.topic_id, m.sentence, m.start, m.end, m.sentiment] for m in result.mentions],
    ]


def digests(results: Iterable[list[Any]], chunk: int = CHUNK) -> list[str]:
    """sha256 of the JSON of each ``chunk`` consecutive results (first 16 hex digits)."""
    out: list[str] = []
    batch: list[list[Any]] = []
    for record in results:
        batch.append(record)
        if len(batch) == chunk:
            out.append(_digest(batch))
            batch = []
    if batch:
        out.append(_digest(batch))
    return out


def _digest(batch: Sequence[list[Any]]) -> str:
    payload = json.dumps(batch, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def tag_digests(tagger: Tagger, texts: Sequence[str]) -> list[str]:
    return digests(result_record(tagger.tag(text)) for text in texts)
