"""Synthetic feedback at benchmark scale, generated with NumPy so generation is not what is timed.

The rows carry 12 rating drivers with known weights (so driver analysis has real structure),
comments for about 60% of responses from a phrase bank across CX themes, and two years of
submission times.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

DRIVERS = [
    "first_contact_resolution",
    "wait_time",
    "staff_friendliness",
    "billing_clarity",
    "price_value",
    "app_usability",
    "delivery_speed",
    "product_quality",
    "communication",
    "knowledge",
    "store_cleanliness",
    "contract_flexibility",
]
DRIVER_WEIGHTS = np.array([1.2, 1.0, 0.8, 0.6, 0.5, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1])
CHANNELS = ["web", "email", "phone", "chat", "app", "sms"]
REGIONS = ["north", "south", "east", "west", "central"]

PHRASES_NEGATIVE = [
    "I waited over forty minutes on hold before anyone answered.",
    "The agent was rude and did not listen to me.",
    "My bill was wrong again and nobody could explain the charges.",
    "Far too expensive for what you get.",
    "The app keeps crashing when I try to log in.",
    "The parcel arrived a week late and the box was damaged.",
    "Nobody called me back as promised.",
    "The problem is still not fixed after three calls.",
    "The product broke after two weeks.",
    "Your website is confusing and slow.",
]
PHRASES_POSITIVE = [
    "The staff were friendly and really helpful.",
    "Sorted out my issue on the first call, thank you!",
    "Great value for money.",
    "Delivery was quick and everything arrived in perfect condition.",
    "The new app is easy to use.",
    "Clear bill, no surprises this month.",
    "The engineer knew exactly what to do.",
    "They kept me informed at every step.",
    "Excellent quality, works as described.",
    "Short wait and a very polite advisor.",
]


def feedback_items(
    *, count: int, touchpoints: list[str], seed: int = 7, chunk: int = 10_000, prefix: str = "bench"
) -> Iterator[list[dict[str, Any]]]:
    """Yield lists of API feedback items (DESIGN.md §3 shape), ``chunk`` at a time."""
    rng = np.random.default_rng(seed)
    start = datetime(2024, 11, 1, tzinfo=UTC)
    span_seconds = int(timedelta(days=730).total_seconds())
    made = 0
    while made < count:
        size = min(chunk, count - made)
        quality = rng.normal(0, 1, size)
        ratings = np.clip(
            np.rint(3 + quality[:, None] * 0.9 + rng.normal(0, 0.9, (size, len(DRIVERS)))), 1, 5
        )
        latent = 1.0 + (ratings - 3) @ DRIVER_WEIGHTS * 0.9 + 6.5 + rng.normal(0, 1.2, size)
        nps = np.clip(np.rint(latent), 0, 10).astype(int)
        csat = np.clip(np.rint(1 + nps / 2.5 + rng.normal(0, 0.5, size)), 1, 5).astype(int)
        ces = np.clip(np.rint(7 - nps / 2 + rng.normal(0, 0.8, size)), 1, 7).astype(int)
        has_rating = rng.random((size, len(DRIVERS))) < 0.85
        has_comment = rng.random(size) < 0.6
        seconds = rng.integers(0, span_seconds, size)
        touch = rng.integers(0, len(touchpoints), size)
        channel = rng.integers(0, len(CHANNELS), size)
        region = rng.integers(0, len(REGIONS), size)
        phrase_a = rng.integers(0, 10, size)
        phrase_b = rng.integers(0, 10, size)
        customer = rng.integers(0, 200_000, size)
        items: list[dict[str, Any]] = []
        for i in range(size):
            item: dict[str, Any] = {
                "external_id": f"{prefix}-{made + i}",
                "submitted_at": (start + timedelta(seconds=int(seconds[i]))).isoformat(),
                "customer_id": f"BC-{customer[i]}",
                "channel": CHANNELS[channel[i]],
                "touchpoint": touchpoints[touch[i]],
                "nps": int(nps[i]),
                "csat": int(csat[i]),
                "ces": int(ces[i]),
                "ratings": {
                    DRIVERS[j]: int(ratings[i, j]) for j in range(len(DRIVERS)) if has_rating[i, j]
                },
                "attributes": {"region": REGIONS[region[i]]},
            }
            if has_comment[i]:
                bank = PHRASES_NEGATIVE if nps[i] <= 6 else PHRASES_POSITIVE
                other = PHRASES_POSITIVE if nps[i] <= 6 else PHRASES_NEGATIVE
                second = other[phrase_b[i]] if (nps[i] in (6, 7, 8)) else bank[phrase_b[i]]
                item["comment"] = f"{bank[phrase_a[i]]} {second}"
            items.append(item)
        made += size
        yield items
