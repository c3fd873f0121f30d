"""'You said, we did': a short story in words from a few figures (pure, no Django).

The dashboards hand over a small dict of figures; this module decides the sentences and
the words of uncertainty. The rules, so that a reader can trust the words:

- a change whose 95% interval lies wholly on one side of zero is "likely" a real change
  (and "very likely" when the interval is far from zero: its near end is at least half
  the estimate);
- a change whose interval crosses zero, or that has no interval of positive width, is
  "too early to tell": a collapsed interval is never read as certainty;
- a figure the score engine calls "insufficient" (fewer answers than the minimum) is
  "not enough responses yet".

Scores arrive as ``analytics.stats.scores.Score``, the engine's one result type.

The result is plain text; the template escapes it (quotes are customers' own words).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from analytics.stats.scores import Score, figure_text, interval_decimals

TOO_EARLY = "too early to tell"


@dataclass
class Narrative:
    """Sentences in three parts, plus customers' own words for the top issue."""

    you_said: list[str] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)
    we_did: list[str] = field(default_factory=list)
    what_changed: list[str] = field(default_factory=list)

    @property
    def sentences(self) -> list[str]:
        return [*self.you_said, *self.we_did, *self.what_changed]


def certainty(change: Score, *, reference: float = 0.0) -> str:
    """The word for how sure a change is, from its 95% interval against ``reference``."""
    if not change.excludes(reference):
        return TOO_EARLY
    assert change.value is not None and change.low is not None and change.high is not None
    near_end = min(abs(change.low - reference), abs(change.high - reference))
    if near_end >= abs(change.value - reference) / 2:
        return "very likely"
    return "likely"


def _number(value: float, unit: str = "") -> str:
    magnitude = abs(value)
    if magnitude >= 10:
        text = f"{magnitude:.0f}"
    elif magnitude >= 1 or magnitude == 0:
        text = f"{magnitude:.1f}"
    else:  # two significant figures, so a small effect never reads as 0.0
        text = f"{magnitude:.2g}"
    return _with_unit(text, unit)


def _with_unit(text: str, unit: str) -> str:
    if unit == "points":
        return f"{text} points"
    if unit == "pp":
        return f"{text} percentage points"
    if unit == "%":
        return f"{text}%"
    return f"{text} {unit}".strip()


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _cost_interval(low: float | None, high: float | None) -> str:
    """The interval of a cost, " (95% interval 8 to 12 points)" (both ends negative);
    the signed ends when the interval reaches a gain; digits from the interval's width."""
    if low is None or high is None:
        return ""
    places = interval_decimals((high - low) / 2)
    if high < 0:
        return f" (95% interval {abs(high):.{places}f} to {abs(low):.{places}f} points)"
    return f" (95% interval {low:+.{places}f} to {high:+.{places}f} points, so possibly none)"


def _you_said(figures: Mapping[str, Any], narrative: Narrative) -> None:
    audience = figures.get("audience") or "customers"
    responses = int(figures.get("responses") or 0)
    minimum = int(figures.get("min_responses") or 30)
    if responses == 0:
        narrative.you_said.append(f"No feedback for {audience} in this period yet.")
        return
    nps: Score | None = figures.get("nps")
    if nps is None or not nps.ok or nps.value is None or nps.low is None or nps.high is None:
        narrative.you_said.append(
            f"{_plural(responses, 'customer response')} for {audience}: not enough responses "
            f"yet for a reliable score (at least {minimum} are needed)."
        )
    else:
        narrative.you_said.append(
            f"{_plural(responses, 'customer response')} for {audience}: NPS {nps.value:+.0f} "
            f"(95% interval {nps.low:+.0f} to {nps.high:+.0f})."
        )
    issues = [issue for issue in figures.get("top_issues") or [] if issue.get("mentions")]
    if not issues:
        return
    described = []
    for issue in issues[:3]:
        text = f"{issue['topic'].lower()} ({_plural(int(issue['mentions']), 'mention')}"
        if issue.get("negative_share") is not None:
            text += f", {issue['negative_share'] * 100:.0f}% negative"
        described.append(text + ")")
    narrative.you_said.append(f"You told us most about {_join(described)}.")
    top = issues[0]
    cost = top.get("nps_cost")
    if cost is not None and cost < 0:
        narrative.you_said.append(
            f"{top['topic']} costs about {_number(cost, 'points')} of NPS where it comes up"
            f"{_cost_interval(top.get('nps_cost_low'), top.get('nps_cost_high'))}."
        )
    for quote in top.get("quotes") or []:
        if str(quote) not in narrative.quotes and len(narrative.quotes) < 3:
            narrative.quotes.append(str(quote))


def _we_did(figures: Mapping[str, Any], narrative: Narrative) -> None:
    actions = list(figures.get("actions") or [])
    if not actions:
        narrative.we_did.append("No improvement actions have been started here yet.")
        return
    done = [a for a in actions if a.get("status") in {"implemented", "measured"}]
    under_way = [a for a in actions if a.get("status") in {"accepted", "in_progress"}]
    for action in done[:3]:
        when = f" on {action['implemented_on']:%d %b %Y}" if action.get("implemented_on") else ""
        owner = action.get("owner") or "an unassigned owner"
        narrative.we_did.append(f"{owner} put in place “{action['title']}”{when}.")
    if under_way:
        owners = sorted({a.get("owner") or "unassigned" for a in under_way})
        narrative.we_did.append(
            f"{_plural(len(under_way), 'more action' if done else 'action')} under way, "
            f"owned by {_join(owners[:4])}" + (" and others" if len(owners) > 4 else "") + "."
        )
    overdue = int(figures.get("overdue") or 0)
    if overdue:
        narrative.we_did.append(f"{_plural(overdue, 'action')} past its due date.")


def _direction(value: float, *, higher_is_better: bool) -> tuple[str, bool]:
    went_up = value > 0
    return ("rose" if went_up else "fell"), went_up == higher_is_better


def _what_changed(figures: Mapping[str, Any], narrative: Narrative) -> None:
    nps_change = figures.get("nps_change")
    if nps_change:
        weeks = int(nps_change.get("weeks") or 4)
        change: Score = nps_change["change"]
        if not change.ok or change.value is None or change.low is None or change.high is None:
            narrative.what_changed.append(
                f"NPS over the last {_plural(weeks, 'week')}: not enough responses yet to compare."
            )
        else:
            word = certainty(change)
            verb, _ = _direction(change.value, higher_is_better=True)
            points = _with_unit(
                figure_text(abs(change.value), change.low, change.high)["value"], "points"
            )
            period = (
                "in the last week against the week before"
                if weeks == 1
                else f"in the last {weeks} weeks against the {weeks} before"
            )
            shown = figure_text(change.value, change.low, change.high, signed=True)
            interval = f"(95% interval {shown['low']} to {shown['high']})"
            if word == TOO_EARLY:
                narrative.what_changed.append(
                    f"NPS {verb} {points} {period}: {TOO_EARLY} {interval}."
                )
            else:
                narrative.what_changed.append(
                    f"NPS {verb} {points} {period}, {word} a real change {interval}."
                )
    for impact in list(figures.get("impacts") or [])[:3]:
        effect, low, high = impact["effect"], impact["low"], impact["high"]
        word = certainty(Score(status="ok", n=0, value=effect, low=low, high=high))
        unit = impact.get("unit") or ""
        verb, improved = _direction(
            effect, higher_is_better=bool(impact.get("higher_is_better", True))
        )
        subject = f"After “{impact['action']}”, {impact['metric']}"
        # Digits from the interval's width, so no interval reads "−0.04 to −0.04".
        shown = figure_text(effect, low, high, signed=True)
        by = _with_unit(figure_text(abs(effect), low, high)["value"], unit)
        interval = f"(95% interval {shown['low']} to {shown['high']}{' ' + unit if unit else ''})"
        if word == TOO_EARLY:
            narrative.what_changed.append(
                f"{subject} {verb} by {by}, but it is {TOO_EARLY} {interval}."
            )
        else:
            judgement = "an improvement" if improved else "a change for the worse"
            narrative.what_changed.append(
                f"{subject} {verb} by {by}: {word} {judgement} {interval}."
            )
            amount = impact.get("value_amount")
            if amount and improved:
                money = figure_text(amount, impact.get("value_low"), impact.get("value_high"))
                worth = f"{money['value']} {impact.get('currency') or ''}".strip()
                if money["low"] and money["high"]:
                    worth += f" a year (95% interval {money['low']} to {money['high']})"
                else:
                    worth += " a year"
                narrative.what_changed[-1] += f" Worth about {worth}."
    if not narrative.what_changed:
        narrative.what_changed.append(f"Nothing measured yet: {TOO_EARLY}.")


def narrative_build(figures: Mapping[str, Any]) -> Narrative:
    """Build the story from figures; see the module docstring for the words' rules.

    ``figures`` keys (all optional): ``audience``, ``responses``, ``min_responses``,
    ``nps`` (a ``Score``), ``nps_change`` {weeks, change (a ``Score``)},
    ``top_issues`` [{topic, mentions, negative_share, nps_cost, nps_cost_low, nps_cost_high,
    quotes}] (``quotes`` negative mentions of the topic, as the cost sentence says),
    ``actions`` [{title, owner, status, implemented_on}], ``overdue``,
    ``impacts`` [{action, metric, effect, low, high, unit, higher_is_better, value_amount,
    value_low, value_high, currency}].
    """
    narrative = Narrative()
    _you_said(figures, narrative)
    _we_did(figures, narrative)
    _what_changed(figures, narrative)
    return narrative
