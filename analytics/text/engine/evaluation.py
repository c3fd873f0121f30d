"""Measure tagging against labelled comments: topic precision/recall, sentiment agreement.

The labelled set (tests/fixtures/labelled_comments.jsonl) carries gold topics with their
aspect sentiment, a gold comment sentiment, the language and a fixed ``split``: "dev"
comments were used to refine keywords, rules and the lexicon; "test" comments were not
looked at while doing so and are what the documented figures and the tests report. The
Yelp sentences (UCI Sentiment Labelled Sentences) are split the same way by line number:
even lines for development, odd lines held out.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analytics.text.engine.default_taxonomy import DEFAULT_TOPICS
from analytics.text.engine.sentiment import label_for
from analytics.text.engine.tagger import Tagger
from analytics.text.engine.taxonomy import TopicRule


@dataclass
class TopicScores:
    """Micro-averaged and per-topic precision, recall and F1."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    per_topic: dict[str, dict[str, float]] = field(default_factory=dict)

    @staticmethod
    def _ratio(a: int, b: int) -> float:
        return a / b if b else 0.0

    @property
    def precision(self) -> float:
        return self._ratio(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall(self) -> float:
        return self._ratio(self.true_positives, self.true_positives + self.false_negatives)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def topic_scores(gold: Sequence[set[str]], predicted: Sequence[set[str]]) -> TopicScores:
    """Precision and recall of predicted topic sets against gold sets, item by item."""
    scores = TopicScores()
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for gold_set, predicted_set in zip(gold, predicted, strict=True):
        for topic in predicted_set & gold_set:
            tp[topic] += 1
        for topic in predicted_set - gold_set:
            fp[topic] += 1
        for topic in gold_set - predicted_set:
            fn[topic] += 1
    scores.true_positives = sum(tp.values())
    scores.false_positives = sum(fp.values())
    scores.false_negatives = sum(fn.values())
    for topic in sorted(set(tp) | set(fp) | set(fn)):
        p = tp[topic] / (tp[topic] + fp[topic]) if tp[topic] + fp[topic] else 0.0
        r = tp[topic] / (tp[topic] + fn[topic]) if tp[topic] + fn[topic] else 0.0
        scores.per_topic[topic] = {
            "precision": round(p, 3),
            "recall": round(r, 3),
            "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
            "support": tp[topic] + fn[topic],
        }
    return scores


def agreement(gold: Sequence[Any], predicted: Sequence[Any]) -> float:
    """The share of items where prediction equals gold."""
    if not gold:
        return 0.0
    return sum(1 for g, p in zip(gold, predicted, strict=True) if g == p) / len(gold)


def load_labelled(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def default_rules() -> list[TopicRule]:
    return [
        TopicRule(
            topic_id=i,
            slug=spec["slug"],
            keywords=tuple(spec["keywords"]),
            parent_slug=spec["parent"],
        )
        for i, spec in enumerate(DEFAULT_TOPICS)
    ]


def evaluate_labelled(
    records: Iterable[dict[str, Any]], tagger: Tagger, rules: Sequence[TopicRule]
) -> dict[str, Any]:
    """Topic P/R/F1, comment and aspect sentiment agreement, language accuracy."""
    slug_of = {rule.topic_id: rule.slug for rule in rules}
    gold_topics: list[set[str]] = []
    predicted_topics: list[set[str]] = []
    gold_sentiment: list[str] = []
    predicted_sentiment: list[str | None] = []
    aspect_gold: list[str] = []
    aspect_predicted: list[str] = []
    language_right = 0
    items = list(records)
    errors: list[dict[str, Any]] = []
    for record in items:
        result = tagger.tag(record["text"])
        expected_english = record["language"] == "en"
        language_right += int(result.language_supported == expected_english)
        if not expected_english:
            continue
        found = {slug_of[m.topic_id]: m.sentiment_label for m in result.mentions}
        gold = dict(record["topics"])
        gold_topics.append(set(gold))
        predicted_topics.append(set(found))
        gold_sentiment.append(record["sentiment"])
        predicted_sentiment.append(result.sentiment_label)
        for topic in set(gold) & set(found):
            aspect_gold.append(gold[topic])
            aspect_predicted.append(found[topic])
        if set(gold) != set(found) or record["sentiment"] != result.sentiment_label:
            errors.append(
                {
                    "id": record["id"],
                    "text": record["text"],
                    "gold": gold,
                    "found": found,
                    "sentiment": [record["sentiment"], result.sentiment, result.sentiment_label],
                }
            )
    scores = topic_scores(gold_topics, predicted_topics)
    return {
        "comments": len(items),
        "english": len(gold_topics),
        "topic_precision": round(scores.precision, 4),
        "topic_recall": round(scores.recall, 4),
        "topic_f1": round(scores.f1, 4),
        "per_topic": scores.per_topic,
        "sentiment_agreement": round(agreement(gold_sentiment, predicted_sentiment), 4),
        "aspect_sentiment_agreement": round(agreement(aspect_gold, aspect_predicted), 4),
        "aspect_pairs": len(aspect_gold),
        "language_accuracy": round(language_right / len(items), 4) if items else 0.0,
        "errors": errors,
    }


def load_yelp(path: str | Path) -> list[tuple[str, int]]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            text, _, label = line.rstrip("\n").rpartition("\t")
            if text:
                rows.append((text, int(label)))
    return rows


def yelp_split(rows: Sequence[tuple[str, int]], part: str) -> list[tuple[str, int]]:
    """``dev`` = even line numbers (0-based), ``test`` = odd ones."""
    remainder = 0 if part == "dev" else 1
    return [row for i, row in enumerate(rows) if i % 2 == remainder]


def binary_agreement(
    rows: Sequence[tuple[str, int]], compound: Callable[[str], float | None]
) -> float:
    """Share of sentences where (compound ≥ 0.05) equals the positive label (Yelp's rule)."""
    if not rows:
        return 0.0
    right = 0
    for text, label in rows:
        score = compound(text)
        right += int((score is not None and label_for(score) == "positive") == bool(label))
    return right / len(rows)


def main() -> None:  # pragma: no cover - a reporting entry point
    """Print the held-out figures: ``python -m analytics.text.engine.evaluation``."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    root = Path(__file__).resolve().parents[3] / "tests" / "fixtures"
    rules = default_rules()
    tagger = Tagger(rules)
    plain = SentimentIntensityAnalyzer()
    records = load_labelled(root / "labelled_comments.jsonl")
    for part in ("test", "dev"):
        chosen = [r for r in records if r["split"] == part]
        report = evaluate_labelled(chosen, tagger, rules)
        english = [r for r in chosen if r["language"] == "en"]
        baseline = agreement(
            [r["sentiment"] for r in english],
            [label_for(plain.polarity_scores(r["text"])["compound"]) for r in english],
        )
        print(
            f"labelled {part}: topics P={report['topic_precision']:.3f} R={report['topic_recall']:.3f} "
            f"F1={report['topic_f1']:.3f}; sentiment {report['sentiment_agreement']:.3f} "
            f"(plain VADER {baseline:.3f}); aspect sentiment {report['aspect_sentiment_agreement']:.3f}; "
            f"language {report['language_accuracy']:.3f}"
        )
    yelp = load_yelp(root / "yelp_labelled.txt")
    for part in ("test", "dev"):
        rows = yelp_split(yelp, part)
        ours = binary_agreement(rows, lambda text: tagger.tag(text).sentiment)
        theirs = binary_agreement(rows, lambda text: plain.polarity_scores(text)["compound"])
        print(f"yelp {part} half: CXHub {ours:.3f}, plain VADER {theirs:.3f}")


if __name__ == "__main__":  # pragma: no cover
    main()
