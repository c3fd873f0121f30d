"""Text insights a manager can act on: quotes that agree with the claim they illustrate,
and a topic's share and sentiment over time with their intervals."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from django.utils import timezone
from scipy import stats as st

from analytics.models import Topic, TopicMention
from analytics.stats.topic_trend import TopicPeriodCounts, share_change, topic_period
from analytics.text import selectors as text_selectors
from analytics.text import services as text_services
from analytics.text.engine.sentiment import SentimentScorer
from tests.feedback.factories import (
    DepartmentFactory,
    ResponseFactory,
    TouchpointFactory,
    line_manager,
)

pytestmark = pytest.mark.django_db

FAST_BUT_RUDE = "I got through in under a minute, although the advisor was rude and cut me off."
RUDE_BUT_FAST = (
    "Staff were unfriendly and clearly did not care but I got through in under a minute."
)
LONG_WAIT = "I waited 40 minutes on hold and it was awful."
NO_QUEUE = "Really impressed: I got through in under a minute."


@pytest.fixture(autouse=True)
def _default_taxonomy() -> None:
    text_services.topics_load_defaults()


def _tagged(comments: list[str], **fields: Any) -> list[Any]:
    responses = [ResponseFactory(comment=comment, **fields) for comment in comments]
    text_services.responses_tag(response_ids=[r.pk for r in responses])
    return responses


def test_the_clause_that_mentions_a_topic_decides_its_sentiment_for_a_quote() -> None:
    """A quick answer next to a rude advisor says nothing bad about waiting; a long wait
    does; the whole sentence's sentiment is not the wait's."""
    scorer = SentimentScorer()

    def around(text: str, words: str) -> float:
        return scorer.span_sentiment(text, text.index(words))

    assert around(FAST_BUT_RUDE, "got through") >= 0
    assert around(RUDE_BUT_FAST, "got through") >= 0
    assert around(FAST_BUT_RUDE, "rude") < 0
    assert around(LONG_WAIT, "waited") < 0
    assert around(NO_QUEUE, "got through") > 0
    assert scorer.polarity(FAST_BUT_RUDE) < 0  # the comment as a whole is negative


def test_a_wait_time_complaint_is_never_illustrated_by_a_quick_answer() -> None:
    """The tagger marks wait time negative in "I got through in under a minute, although
    …" (the sentence is negative); the quotes for a negative claim about wait time leave
    those out and quote the sentences that complain about waiting, each once."""
    _tagged([FAST_BUT_RUDE] * 5 + [RUDE_BUT_FAST] * 5 + [LONG_WAIT] * 3 + [NO_QUEUE] * 2)
    wait = Topic.objects.get(slug="wait-time")
    contradicting = TopicMention.objects.filter(
        topic=wait, sentiment_label="negative", response__comment=FAST_BUT_RUDE
    )
    assert contradicting.exists()  # the trap is planted: a "negative" wait-time mention

    negative = text_selectors.topic_quotes_get(topic_id=wait.pk, stance="negative", limit=5)
    positive = text_selectors.topic_quotes_get(topic_id=wait.pk, stance="positive", limit=5)

    assert [q.text for q in negative] == [LONG_WAIT]
    assert all("under a minute" not in q.text for q in negative)
    assert [q.text for q in positive] == [NO_QUEUE]
    assert all(q.sentiment < 0 for q in negative) and all(q.sentiment > 0 for q in positive)


def test_a_parent_topic_is_illustrated_by_its_sub_topics_mentions() -> None:
    """Quotes for "Customer service" come from its sub-topics (wait time, staff attitude),
    and only the clause that says so: the rude advisor, not the quick answer."""
    _tagged([FAST_BUT_RUDE, LONG_WAIT])
    service = Topic.objects.get(slug="service")
    quotes = text_selectors.topic_quotes_get(topic_id=service.pk, stance="negative", limit=5)
    assert {q.text for q in quotes} == {FAST_BUT_RUDE, LONG_WAIT}
    staff = Topic.objects.get(slug="staff-attitude")
    staff_quotes = text_selectors.topic_quotes_get(topic_id=staff.pk, stance="negative")
    assert [q.text for q in staff_quotes] == [FAST_BUT_RUDE]


def test_quotes_are_only_of_comments_the_user_may_read() -> None:
    """A line manager's quotes come from their own department's comments only."""
    mine, theirs = DepartmentFactory(slug="mine"), DepartmentFactory(slug="theirs")
    _tagged([LONG_WAIT], touchpoint=TouchpointFactory(department=mine))
    _tagged(["The wait on hold was terrible."], touchpoint=TouchpointFactory(department=theirs))
    wait = Topic.objects.get(slug="wait-time")
    manager = line_manager()
    mine.members.add(manager)
    quotes = text_selectors.topic_quotes_get(topic_id=wait.pk, stance="negative", user=manager)
    assert [q.text for q in quotes] == [LONG_WAIT]


def test_an_unknown_stance_is_refused_with_its_field() -> None:
    """Only "negative" and "positive" claims have quotes."""
    from cxhub.errors import InvalidInput

    with pytest.raises(InvalidInput) as error:
        text_selectors.topic_quotes_get(topic_id=1, stance="neutral")
    assert "stance" in error.value.field_errors


def test_a_periods_share_and_sentiment_carry_wilson_and_t_intervals() -> None:
    """Share of comments and share negative use the Wilson interval (scipy's reference),
    the mean sentiment a t interval from n, Σx and Σx²."""
    values = [-0.8, -0.5, -0.6, 0.2, -0.9, -0.4, 0.1, -0.7, -0.3, -0.6] * 4
    counts = TopicPeriodCounts(
        start=dt.date(2026, 3, 1),
        comments=400,
        mentions=40,
        negative=32,
        sentiment_n=len(values),
        sentiment_sum=sum(values),
        sentiment_sumsq=sum(v * v for v in values),
    )
    period = topic_period(counts, min_n=30)
    share = st.binomtest(40, 400).proportion_ci(method="wilson")
    negative = st.binomtest(32, 40).proportion_ci(method="wilson")
    assert period.share.value == pytest.approx(10.0)
    assert (period.share.low, period.share.high) == pytest.approx(
        (100 * share.low, 100 * share.high)
    )
    assert (period.negative_share.low, period.negative_share.high) == pytest.approx(
        (100 * negative.low, 100 * negative.high)
    )
    mean = sum(values) / len(values)
    low, high = st.t.interval(0.95, len(values) - 1, loc=mean, scale=st.sem(values))
    assert (period.sentiment.low, period.sentiment.high) == pytest.approx((low, high))


def test_a_period_with_too_few_answers_has_no_number() -> None:
    """Under the minimum, a share is "insufficient", not 0% or 100%."""
    period = topic_period(
        TopicPeriodCounts(start=dt.date(2026, 3, 1), comments=12, mentions=3, negative=3),
        min_n=30,
    )
    assert not period.share.ok and not period.negative_share.ok and not period.sentiment.ok


def test_a_shares_change_is_the_difference_of_two_proportions() -> None:
    """From 10% of 1,000 comments to 15% of 1,000: +5 points, interval by the normal
    approximation of the difference of independent proportions."""
    change = share_change((100, 1000), (150, 1000), min_n=30)
    se = math.sqrt(0.1 * 0.9 / 1000 + 0.15 * 0.85 / 1000) * 100
    assert change.value == pytest.approx(5.0)
    assert (change.low, change.high) == pytest.approx((5.0 - 1.959964 * se, 5.0 + 1.959964 * se))


def test_a_topics_trend_counts_each_month_of_the_window() -> None:
    """Per month: comments in scope, those mentioning wait time, the negative ones and the
    mentions' sentiment; a month with comments but no mention has a share of 0."""
    now = timezone.now()
    this_month = now.replace(day=15)
    last_month = (this_month.replace(day=1) - dt.timedelta(days=3)).replace(day=15)
    two_ago = (last_month.replace(day=1) - dt.timedelta(days=3)).replace(day=15)
    _tagged([LONG_WAIT] * 10 + ["The product is great."] * 30, submitted_at=last_month)
    _tagged([LONG_WAIT] * 4 + [NO_QUEUE] * 2 + ["Good value."] * 34, submitted_at=this_month)
    _tagged(["Nice shop."] * 31, submitted_at=two_ago)
    wait = Topic.objects.get(slug="wait-time")
    scope = {
        "date_from": two_ago.date().replace(day=1).isoformat(),
        "date_to": this_month.date().replace(day=28).isoformat(),
    }

    trend = text_selectors.topic_trend_get(topic=wait, scope=scope, period="month")

    assert [(p.comments, p.mentions) for p in trend.periods] == [(31, 0), (40, 10), (40, 6)]
    earliest, middle, latest = trend.periods
    assert earliest.share.value == 0.0
    assert middle.share.value == pytest.approx(25.0)
    assert latest.share.value == pytest.approx(15.0)
    assert middle.share.low < 25.0 < middle.share.high
    assert not middle.negative_share.ok  # 10 mentions, under the minimum of 30
    assert [p.start.day for p in trend.periods] == [1, 1, 1]
