"""The fast tagger gives exactly what the tagger gave before it was made fast.

The digests below were computed from ``tagging_corpus.corpus_texts()`` (about 24,000 texts)
with the tagger of commit "Golden digests of the tagger's results" (before any speed work):
one sha256 per 1,000 consecutive texts of the JSON of language, support, sentiment (4
decimals) and every mention (topic, sentence, offsets, aspect sentiment). Any change in any
result of any text changes a digest. A deliberate change of the tagging rules must update
them (and the accuracy figures of docs/text-analytics.md), never a speed-up.
"""

from __future__ import annotations

import pytest

from analytics.text.engine.evaluation import default_rules
from analytics.text.engine.tagger import Tagger
from tests.analytics.text.tagging_corpus import bench_rules, corpus_texts, tag_digests

# fmt: off
DEFAULT_TAXONOMY_DIGESTS = [
    "edcbeca2747f8b9d", "ae564a3745c39198", "32484c33d564347b", "bab4cbb1b9cd108a",
    "f17790623caace1e", "38d488245e81b4f5", "fe42c78cb210b32e", "0670b3b02d1aa70f",
    "3292ccfd0aed53c9", "fcb88464ecc80a33", "6f614429874fd628", "eeba4ac08dcbc2aa",
    "fa367bdc1b4e78f4", "9b0f3e8c80b70cfa", "f595af2f717a4163", "c8fe0f594d9d5270",
    "392f396b65f84f23", "bfb23e2d0a0da4d2", "4ccfe2d08b4f322d", "b28521583f35ab93",
    "dbcfd96a1b7c1356", "77a18bf1b8dac4a2", "8468843410d3443b", "83e4c3f164598cb5",
]
BENCH_TAXONOMY_DIGESTS = [
    "14e8f9dc4ad8b38e", "b8ead2b7eda83769", "81fd1cd61c3099a4", "c3bdbb90ce75bcda",
    "c6f279974ed3353a", "d7493319938a3ac5", "b8c2b20696612991", "1572865377ae1523",
    "e4cd0aaf90c43ddb", "05c49bd768f556e5", "ca880933e83e262f", "13efa37aab312a1b",
    "0d45ac9e4ba6d269", "4edb3647da76be1f", "fffb073e62f6404b", "437316a1be36d074",
    "cb927882c19d90d0", "9fd13762fb6451d0", "8a47a1378bfdfd11", "e8137571eaaaa04d",
    "83e613d67d6f5cab", "d9bed5daa49abd93", "c90e108053d936bb", "9884a052c728814a",
]
# fmt: on


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return corpus_texts()


def _changed(expected: list[str], actual: list[str]) -> list[int]:
    assert len(actual) == len(expected)
    return [i for i, (e, a) in enumerate(zip(expected, actual, strict=True)) if e != a]


def test_default_taxonomy_results_are_unchanged(texts: list[str]) -> None:
    """Every text of the corpus gets the same tags with the default taxonomy (26 topics)."""
    actual = tag_digests(Tagger(default_rules()), texts)
    assert _changed(DEFAULT_TAXONOMY_DIGESTS, actual) == []


def test_bench_taxonomy_results_are_unchanged(texts: list[str]) -> None:
    """Every text of the corpus gets the same tags with the bench's 200-topic taxonomy."""
    actual = tag_digests(Tagger(bench_rules()), texts)
    assert _changed(BENCH_TAXONOMY_DIGESTS, actual) == []


def test_a_changed_result_changes_a_digest(texts: list[str]) -> None:
    """The digest sees a single changed sentiment: the test above can fail."""
    tagger = Tagger(default_rules())
    original = tagger.tag

    def off_by_one(text: str):  # type: ignore[no-untyped-def]
        result = original(text)
        if text == texts[1500] and result.sentiment is not None:
            return type(result)(
                result.language,
                result.language_supported,
                result.sentiment + 0.0001,
                result.mentions,
            )
        return result

    tagger.tag = off_by_one  # type: ignore[method-assign]
    actual = tag_digests(tagger, texts[:3000])
    assert _changed(DEFAULT_TAXONOMY_DIGESTS[:3], actual) == [1]
