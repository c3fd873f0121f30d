"""Propose new themes from comments that no topic matched: TF-IDF + NMF.

Non-negative matrix factorisation of the TF-IDF matrix (Lee & Seung 1999) finds a few
additive "parts" of the vocabulary; each part is a candidate theme, described by its
heaviest terms and the comments that load most on it. A comment belongs to the theme it
loads most on; themes with too few comments are dropped as noise. The random state is
fixed so the same comments always give the same proposals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

# Words that appear in any feedback and would otherwise dominate every theme.
# fmt: off
FEEDBACK_STOP_WORDS = frozenset(
    ["good", "great", "bad", "really", "just", "like", "got", "get", "did", "didn", "don", "does", "doesn", "service", "company", "time", "thing", "things", "customer", "customers", "experience", "would", "could", "also", "one", "still", "even", "ok", "okay", "thanks", "thank", "very", "much", "lot", "honestly", "overall", "definitely", "absolutely", "totally", "pretty"]
)
# fmt: on


@lru_cache(maxsize=1)
def sentiment_words() -> frozenset[str]:
    """Words that carry sentiment (VADER's lexicon, |valence| ≥ 1): opinions, not themes.

    Left in as single words, "terrible" or "happy" become themes of their own; a theme should
    name what customers talk about, while the sentiment is measured separately.
    """
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    lexicon = SentimentIntensityAnalyzer().lexicon
    return frozenset(w for w, v in lexicon.items() if w.isalpha() and abs(v) >= 1.0)


@dataclass(frozen=True)
class Theme:
    """A candidate theme: its terms, its size and the comments that show it best."""

    top_terms: list[str]
    size: int
    share: float
    example_ids: list[int]

    @property
    def label(self) -> str:
        return " / ".join(self.top_terms[:3])


def discover_themes(
    documents: Sequence[tuple[int, str]],
    *,
    n_themes: int | None = None,
    n_terms: int = 8,
    n_examples: int = 5,
    min_size: int = 3,
    random_state: int = 0,
) -> list[Theme]:
    """Themes in ``documents`` (id, text), largest first; empty when there is too little text."""
    docs = [(doc_id, text) for doc_id, text in documents if text and text.strip()]
    if len(docs) < max(2 * min_size, 6):
        return []
    texts = [text for _, text in docs]
    matrix = None
    # Terms in nearly every comment carry no theme; if that prunes everything (one theme
    # dominates), keep them rather than propose nothing.
    for max_df in (0.9, 1.0):
        vectorizer = TfidfVectorizer(
            stop_words=sorted(ENGLISH_STOP_WORDS | FEEDBACK_STOP_WORDS),
            min_df=2,
            max_df=max_df,
            ngram_range=(1, 2),
            sublinear_tf=True,
            max_features=20_000,
            token_pattern=r"(?u)\b[^\W\d_][^\W\d_]+\b",
        )
        try:
            matrix = vectorizer.fit_transform(texts)
            break
        except ValueError:  # every word was a stop word, too rare or too common
            continue
    if matrix is None:
        return []
    # Sentiment words alone are opinions, not themes; phrases containing them ("loyalty
    # points") stay, as they name a subject.
    terms = vectorizer.get_feature_names_out()
    opinion = sentiment_words()
    keep = np.array([0.0 if term in opinion else 1.0 for term in terms])
    matrix = matrix @ sparse.diags(keep)
    matrix.eliminate_zeros()
    n_docs, n_features = matrix.shape
    if n_features < 2:
        return []
    k = n_themes or int(np.clip(round(np.sqrt(n_docs / 10)), 2, 12))
    k = max(1, min(k, n_features - 1, n_docs - 1))
    model = NMF(n_components=k, init="nndsvd", random_state=random_state, max_iter=400)
    weights = model.fit_transform(matrix)
    best = weights.argmax(axis=1)
    loaded = weights.max(axis=1) > 0
    themes: list[Theme] = []
    for component in range(k):
        members = np.flatnonzero((best == component) & loaded)
        if len(members) < min_size:
            continue
        loadings = model.components_[component]
        order = np.argsort(-loadings)
        # Terms far below the theme's strongest one belong to other themes or to noise.
        strong = [i for i in order[: n_terms * 3] if loadings[i] >= 0.1 * loadings[order[0]]]
        top_terms = _distinct_terms([str(terms[i]) for i in strong], n_terms)
        examples = members[np.argsort(-weights[members, component])][:n_examples]
        themes.append(
            Theme(
                top_terms=top_terms,
                size=len(members),
                share=round(len(members) / n_docs, 4),
                example_ids=[int(docs[i][0]) for i in examples],
            )
        )
    themes.sort(key=lambda theme: -theme.size)
    return themes


def _distinct_terms(candidates: list[str], limit: int) -> list[str]:
    """Top terms without repeats: a phrase replaces the single word it contains."""
    chosen: list[str] = []
    for term in candidates:
        words = set(term.split())
        if any(words <= set(other.split()) for other in chosen):
            continue  # already said by a phrase that was chosen
        covered = [i for i, other in enumerate(chosen) if set(other.split()) < words]
        if covered:
            chosen[covered[0]] = term
            for i in reversed(covered[1:]):
                del chosen[i]
            continue
        chosen.append(term)
        if len(chosen) == limit:
            break
    return chosen
