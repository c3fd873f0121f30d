"""Tag one comment: language, comment sentiment, topics and each topic's own sentiment.

The tagger is built once per taxonomy version and reused for every comment of a batch;
it holds no state between comments, so one instance can tag any number of texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from analytics.text.engine.language import LanguageIdentifier
from analytics.text.engine.sentences import split_sentences
from analytics.text.engine.sentiment import SentimentScorer, label_for
from analytics.text.engine.taxonomy import CompiledTaxonomy, TopicRule

SENTENCE_MAX_CHARS = 1000


class Mention(NamedTuple):
    """A topic found in a comment: where (first sentence and offsets) and how it was felt."""

    topic_id: int
    sentence: str
    start: int
    end: int
    sentiment: float

    @property
    def sentiment_label(self) -> str:
        return label_for(self.sentiment) or "neutral"


class TagResult(NamedTuple):
    language: str
    language_supported: bool
    sentiment: float | None
    mentions: list[Mention]

    @property
    def sentiment_label(self) -> str | None:
        return label_for(self.sentiment)


class Tagger:
    """Taxonomy matcher + sentence sentiment + language check, reused across comments."""

    def __init__(
        self,
        rules: Sequence[TopicRule],
        *,
        scorer: SentimentScorer | None = None,
        identifier: LanguageIdentifier | None = None,
    ):
        self.taxonomy = CompiledTaxonomy.build(rules)
        self.scorer = scorer or SentimentScorer()
        vocabulary = set(self.scorer.analyzer.lexicon)
        for rule in rules:
            for keyword in rule.keywords:
                if not keyword.startswith("re:"):
                    vocabulary.update(keyword.lower().split())
        self.identifier = identifier or LanguageIdentifier(vocabulary)

    @property
    def version(self) -> str:
        return self.taxonomy.version

    def tag(self, text: str) -> TagResult:
        guess = self.identifier.identify(text)
        if not guess.supported:
            return TagResult(guess.language, False, None, [])
        score_sentence = self.scorer.score_sentence
        find = self.taxonomy.find
        scored_sentences = []
        # topic -> [aspect scores of its hits, first sentence, first start, first end]
        found: dict[int, list[Any]] = {}
        for sentence, offset in split_sentences(text):
            scored = score_sentence(sentence)
            scored_sentences.append(scored)
            hits = find(sentence)
            if not hits:
                continue
            aspect: dict[int, float] = {}  # several topics often share a start
            for topic_id, start, end in hits:
                score = aspect.get(start)
                if score is None:
                    score = aspect[start] = scored.aspect_score(start)
                occurrences = found.get(topic_id)
                if occurrences is None:
                    found[topic_id] = [[score], sentence, offset + start, offset + end]
                else:
                    occurrences[0].append(score)
        sentiment = round(self.scorer.combine(scored_sentences, text), 4)
        mentions = [
            Mention(
                topic_id,
                sentence[:SENTENCE_MAX_CHARS],
                start,
                end,
                round(sum(scores) / len(scores), 4),
            )
            for topic_id, (scores, sentence, start, end) in found.items()
        ]
        return TagResult(guess.language, True, sentiment, mentions)
