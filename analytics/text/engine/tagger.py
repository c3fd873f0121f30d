"""Tag one comment: language, comment sentiment, topics and each topic's own sentiment.

The tagger is built once per taxonomy version and reused for every comment of a batch;
it holds no state between comments, so one instance can tag any number of texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from analytics.text.engine.language import LanguageIdentifier
from analytics.text.engine.sentences import split_sentences
from analytics.text.engine.sentiment import SentimentScorer, label_for
from analytics.text.engine.taxonomy import CompiledTaxonomy, TopicRule, tokenize

SENTENCE_MAX_CHARS = 1000


@dataclass(frozen=True)
class Mention:
    """A topic found in a comment: where (first sentence and offsets) and how it was felt."""

    topic_id: int
    sentence: str
    start: int
    end: int
    sentiment: float

    @property
    def sentiment_label(self) -> str:
        return label_for(self.sentiment) or "neutral"


@dataclass(frozen=True)
class TagResult:
    language: str
    language_supported: bool
    sentiment: float | None
    mentions: list[Mention] = field(default_factory=list)

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
        scored_sentences = []
        found: dict[int, list[tuple[float, str, int, int]]] = {}
        for sentence, offset in split_sentences(text):
            scored = self.scorer.score_sentence(sentence)
            scored_sentences.append(scored)
            hits = self.taxonomy.find(sentence, tokenize(sentence))
            for hit in hits:
                found.setdefault(hit.topic_id, []).append(
                    (scored.aspect_score(hit.start), sentence, offset + hit.start, offset + hit.end)
                )
        sentiment = round(self.scorer.combine(scored_sentences, text), 4)
        mentions = []
        for topic_id, occurrences in found.items():
            score = sum(o[0] for o in occurrences) / len(occurrences)
            _, sentence, start, end = occurrences[0]
            mentions.append(
                Mention(topic_id, sentence[:SENTENCE_MAX_CHARS], start, end, round(score, 4))
            )
        return TagResult(guess.language, True, sentiment, mentions)
