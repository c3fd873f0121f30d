"""Tag one comment: language, comment sentiment, topics and each topic's own sentiment.

The tagger is built once per taxonomy version and reused for every comment of a batch;
it holds no state between comments, so one instance can tag any number of texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

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
        spans_of = self.taxonomy.spans
        scored_sentences = []
        # topic -> (aspect score, sentence, start, end) of its first hit; later hits' scores
        first: dict[int, tuple[float, str, int, int]] = {}
        more: dict[int, list[float]] = {}
        for sentence, offset in split_sentences(text):
            scored = score_sentence(sentence)
            scored_sentences.append(scored)
            for topics, start, end in spans_of(sentence):
                score = scored.aspect_score(start)
                for topic_id in topics:
                    if topic_id not in first:
                        first[topic_id] = (score, sentence, offset + start, offset + end)
                    elif topic_id in more:
                        more[topic_id].append(score)
                    else:
                        more[topic_id] = [score]
        sentiment = round(self.scorer.combine(scored_sentences, text), 4)
        make = Mention._make
        mentions = [
            make(
                (
                    topic_id,
                    sentence[:SENTENCE_MAX_CHARS],
                    start,
                    end,
                    round(score, 4)
                    if topic_id not in more
                    else round(sum([score, *more[topic_id]]) / (1 + len(more[topic_id])), 4),
                )
            )
            for topic_id, (score, sentence, start, end) in first.items()
        ]
        return TagResult(guess.language, True, sentiment, mentions)
