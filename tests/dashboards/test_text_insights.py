"""The Topics pages, the overview, the verbatim explorer and the department report: the
same counts for the same filter and window, filters as choices, a topic's trend with
intervals, and quotes that agree with the sentence they illustrate."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from analytics.text import services as text_services
from tests.feedback.factories import (
    DepartmentFactory,
    ResponseFactory,
    SourceFactory,
    TouchpointFactory,
    cx_manager,
    line_manager,
)

pytestmark = pytest.mark.django_db

TRAP = "I got through in under a minute, although the whole thing was a disaster."
COMPLAINT = "I waited 40 minutes on hold and it was awful."
PRAISE = "Great product, thank you."
QUICK = "Really impressed: I got through in under a minute."


@pytest.fixture(autouse=True)
def _setup(settings: Any) -> None:
    settings.CXHUB = {**settings.CXHUB, "MIN_RESPONSES": 30}
    text_services.topics_load_defaults()


def _plant(comments: list[tuple[str, int]], *, touchpoint: Any, days_ago: int = 3) -> None:
    source = SourceFactory(name="text-insights")
    when = timezone.now() - dt.timedelta(days=days_ago)
    responses = [
        ResponseFactory(
            source=source,
            touchpoint=touchpoint,
            nps=nps,
            comment=comment,
            submitted_at=when - dt.timedelta(minutes=i),
        )
        for i, (comment, nps) in enumerate(comments)
    ]
    text_services.responses_tag(response_ids=[r.pk for r in responses])


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _quotes(html: str) -> list[str]:
    return re.findall(r'<blockquote class="verbatim"[^>]*>“([^”]*)”', html)


def _mentions(html: str) -> dict[str, int]:
    return {s: int(n) for s, n in re.findall(r'data-topic="([\w-]+)" data-mentions="(\d+)"', html)}


def _comments(html: str) -> int:
    match = re.search(r'data-figure="comments" data-value="(\d+)"', html)
    assert match, "the page states how many comments it counts"
    return int(match.group(1))


def test_the_report_never_quotes_a_quick_answer_for_a_wait_time_complaint() -> None:
    """40 detractors: 20 complain about waiting, 20 got through in under a minute but hated
    the rest (the tagger marks their wait-time mention negative, from the sentence). The
    report says waiting costs NPS and quotes only the complaints."""
    service = DepartmentFactory(slug="customer-service", name="Customer Service")
    phone = TouchpointFactory(slug="support-call", department=service)
    _plant(
        [(COMPLAINT, 2)] * 20 + [(TRAP, 3)] * 20 + [(PRAISE, 10)] * 60,
        touchpoint=phone,
    )

    html = _client(cx_manager()).get("/departments/customer-service/report/").content.decode()

    claim = re.search(r"(Wait time|Customer service) costs about [\d.]+ points of NPS", html)
    assert claim, "the report states the top issue's cost"
    quotes = _quotes(html)
    assert quotes == [COMPLAINT]
    assert not any("under a minute" in quote for quote in quotes)


def test_the_topics_page_the_topic_page_and_the_overview_count_alike_for_a_touchpoint() -> None:
    """For the same touchpoint filter, the three pages state the same comments in the same
    window and the same responses mentioning wait time; the other touchpoint's comments
    count on none of them."""
    desk = TouchpointFactory(slug="front-desk", name="Front desk")
    phone = TouchpointFactory(slug="phone-line", name="Phone line")
    _plant([(COMPLAINT, 3)] * 12 + [(PRAISE, 9)] * 20 + [("", 8)] * 5, touchpoint=desk)
    _plant([(COMPLAINT, 2)] * 30 + [(PRAISE, 10)] * 4, touchpoint=phone)
    _plant([(COMPLAINT, 2)] * 7, touchpoint=desk, days_ago=400)  # outside the window
    client = _client(cx_manager())

    for query in ("touchpoint=front-desk", "touchpoint=phone-line", ""):
        overview = client.get(f"/?{query}")
        topics = client.get(f"/topics/?{query}").content.decode()
        topic = client.get(f"/topics/wait-time/?{query}").content.decode()
        total = overview.context["total"]
        assert _comments(topics) == _comments(topic) == total.comments
        on_overview = _mentions(overview.content.decode())
        assert on_overview["wait-time"] == _mentions(topics)["wait-time"]
        assert on_overview["wait-time"] == _mentions(topic)["wait-time"]
        window = overview.context["filters"].window_label
        assert window in topics and window in topic
    assert _comments(client.get("/topics/?touchpoint=front-desk").content.decode()) == 32
    assert (
        _mentions(client.get("/topics/?touchpoint=phone-line").content.decode())["wait-time"] == 30
    )


def test_the_topics_filters_are_choices_of_what_the_user_may_see() -> None:
    """Department, touchpoint and channel are drop-downs; a line manager is offered only
    their departments' touchpoints; an unknown value is a 400 with its field."""
    mine, theirs = DepartmentFactory(slug="mine"), DepartmentFactory(slug="theirs")
    TouchpointFactory(slug="my-desk", name="My desk", department=mine)
    TouchpointFactory(slug="their-desk", name="Their desk", department=theirs)
    manager = line_manager()
    mine.members.add(manager)

    everyone = _client(cx_manager()).get("/topics/?touchpoint=my-desk").content.decode()
    assert '<select id="touchpoint" name="touchpoint">' in everyone
    assert '<option value="my-desk" selected>My desk</option>' in everyone
    assert '<option value="their-desk">Their desk</option>' in everyone
    assert '<select id="channel" name="channel">' in everyone
    assert 'name="touchpoint" value=' not in everyone  # no slug text box

    own = _client(manager).get("/topics/").content.decode()
    assert 'value="my-desk"' in own and 'value="their-desk"' not in own

    bad = _client(cx_manager()).get("/topics/?touchpoint=nowhere")
    assert bad.status_code == 400 and "touchpoint" in bad.content.decode()
    assert _client(cx_manager()).get("/topics/wait-time/?touchpoint=nowhere").status_code == 400


def test_a_topic_page_shows_its_monthly_trend_nps_cost_and_quotes_for_each_side() -> None:
    """Over a 12-month window the page charts the share of comments mentioning the topic
    and the share negative per month, lists each month's figures with 95% intervals, the
    NPS points it costs with its interval, and quotes each side from the mentions that say
    so: the quick answer next to a disaster is quoted on neither side."""
    desk = TouchpointFactory(slug="front-desk")
    _plant(
        [(COMPLAINT, 2)] * 40 + [(TRAP, 3)] * 10 + [(PRAISE, 10)] * 60,
        touchpoint=desk,
        days_ago=40,
    )
    _plant(
        [(COMPLAINT, 2)] * 30 + [(QUICK, 10)] * 5 + [(PRAISE, 9)] * 40,
        touchpoint=desk,
    )

    page = _client(cx_manager()).get("/topics/wait-time/")
    html = page.content.decode()

    assert page.status_code == 200
    assert 'id="chart-topic-share-data"' in html and 'id="chart-topic-negative-data"' in html
    trend = page.context["trend"]
    assert trend.period == "month"
    assert sum(p.mentions for p in trend.periods) == 85
    shares = re.findall(
        r'data-figure="share"><span data-score-status="ok"[^>]*data-low="([^"]+)"', html
    )
    assert len(shares) == 2 and all(float(low) > 0 for low in shares)
    impact = page.context["figure"]["impact"]
    assert impact.ok and impact.high < 0  # waiting costs points, and the interval says so
    assert 'data-figure="nps-impact"' in html
    negative = re.findall(r'data-quote-stance="negative">“([^”]*)”', html)
    positive = re.findall(r'data-quote-stance="positive">“([^”]*)”', html)
    assert negative == [COMPLAINT]
    assert positive == [QUICK]


def test_a_rising_topic_is_marked_on_the_topics_list() -> None:
    """Wait time in 5% of the comments of the window's first half and 40% of its second:
    the list marks it as mentioned more often, with the change's interval."""
    desk = TouchpointFactory(slug="front-desk")
    _plant([(COMPLAINT, 3)] * 3 + [(PRAISE, 9)] * 57, touchpoint=desk, days_ago=300)
    _plant([(COMPLAINT, 3)] * 24 + [(PRAISE, 9)] * 36, touchpoint=desk, days_ago=10)

    html = _client(cx_manager()).get("/topics/").content.decode()

    cell = re.search(r'<td data-trend="wait-time">(.*?)</td>', html, re.S)
    assert cell and "more often" in cell.group(1)
    assert 'data-score-status="ok"' in cell.group(1)


def test_the_verbatim_explorer_sums_a_topic_up_in_agreeing_quotes() -> None:
    """With wait time chosen the explorer quotes negative mentions of it; asked for positive
    comments, positive ones; never the quick answer next to a disaster as a complaint."""
    desk = TouchpointFactory(slug="front-desk")
    _plant(
        [(COMPLAINT, 2)] * 3 + [(TRAP, 3)] * 3 + [(QUICK, 10)],
        touchpoint=desk,
    )
    client = _client(cx_manager())

    negative = client.get("/verbatims/?topic=wait-time").content.decode()
    positive = client.get("/verbatims/?topic=wait-time&sentiment=positive").content.decode()

    assert re.findall(r'data-quote-stance="negative">“([^”]*)”', negative) == [COMPLAINT]
    assert re.findall(r'data-quote-stance="positive">“([^”]*)”', positive) == [QUICK]


def test_the_narrative_gives_the_top_issues_cost_with_its_interval() -> None:
    """ "Wait time costs about 10 points" carries its 95% interval as magnitudes of a cost,
    and says when the interval reaches no cost at all."""
    from dashboards.narrative import narrative_build

    def said(low: float, high: float) -> str:
        issue = {"topic": "Wait time", "mentions": 400, "negative_share": 0.9}
        issue.update(nps_cost=-10.2, nps_cost_low=low, nps_cost_high=high)
        return " ".join(narrative_build({"responses": 500, "top_issues": [issue]}).you_said)

    assert "costs about 10 points of NPS where it comes up (95% interval 8 to 12 points)." in said(
        -12.4, -8.1
    )
    assert "(95% interval -21 to +1 points, so possibly none)" in said(-21.0, 0.6)
