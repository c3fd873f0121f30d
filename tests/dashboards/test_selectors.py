"""Reads of the dashboards that are not a page of their own."""

from __future__ import annotations

import pytest

from dashboards.selectors import customer_values
from feedback.models import Customer
from tests.feedback.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_filter_bar_offers_each_customer_value_once_in_order() -> None:
    """Blank values are left out; repeated, accented and mixed-case values come once, in
    the database's order: the same list as SELECT DISTINCT … ORDER BY."""
    regions = ["north", "", "South", "north", "Île", "south", "east", "", "north-east", "East"]
    for number, region in enumerate(regions):
        CustomerFactory(external_id=f"C-{number}", region=region, segment="smb", plan="")

    expected = list(
        Customer.objects.exclude(region="")
        .order_by("region")
        .values_list("region", flat=True)
        .distinct()
    )

    assert customer_values("region") == expected
    assert len(expected) == 7
    assert customer_values("segment") == ["smb"]
    assert customer_values("plan") == []
    with pytest.raises(ValueError):
        customer_values("external_id")
