"""The window a page shows when the user chose no dates, the same on every page.

A window ends on the day of the newest response and starts ``DEFAULT_WINDOW_DAYS`` days
before (the last 12 months), so a page over historical data is never empty. The
dashboards' filters and the Topics pages complete a scope's dates with ``window_days``.
"""

from __future__ import annotations

import datetime as dt

DEFAULT_WINDOW_DAYS = 364


def window_days(
    first: dt.date | None, last: dt.date | None, *, latest_day: dt.date
) -> tuple[dt.date, dt.date]:
    """The first and last day shown: without ``date_to`` the window runs to ``latest_day``
    (or to ``first`` when that is later), without ``date_from`` it starts
    ``DEFAULT_WINDOW_DAYS`` before its end."""
    if last is None:
        last = max(latest_day, first) if first else latest_day
    if first is None:
        first = last - dt.timedelta(days=DEFAULT_WINDOW_DAYS)
    return first, last
