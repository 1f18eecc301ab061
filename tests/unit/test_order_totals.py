"""The orders desk's check that an order's lines add up to its total (issue 15 item 2), at its edges."""

from __future__ import annotations

from typing import Any

import pytest

from storeops.desks.orders.validate import TOTAL_TOLERANCE_PER_LINE, check_totals

LINES: list[dict[str, Any]] = [
    {"sku": "A", "quantity": 2, "unit_price_minor": 1999},
    {"sku": "B", "quantity": 1, "unit_price_minor": 500},
]
# lines 4498 + shipping 495 + tax 899 − discount 300 = 5592
CHARGES = {"shipping_minor": 495, "tax_minor": 899, "discount_minor": 300}
TOLERANCE = TOTAL_TOLERANCE_PER_LINE * (len(LINES) + 1)


def test_an_order_without_charges_is_not_checked() -> None:
    # a native event (or a trimmed body) that carries no breakdown cannot be judged
    assert check_totals(LINES, 1) is None


@pytest.mark.parametrize(
    ("total", "problems"),
    [
        (5592, []),
        (5592 + TOLERANCE, []),
        (5592 - TOLERANCE, []),
        (5592 + TOLERANCE + 1, ["total_mismatch"]),
        (5592 - TOLERANCE - 1, ["total_mismatch"]),
        (100, ["total_mismatch"]),
    ],
)
def test_the_total_may_differ_by_rounding_only(total: int, problems: list[str]) -> None:
    check = check_totals(LINES, total, **CHARGES)
    assert check is not None
    assert check.problems == problems
    assert check.evidence["expected_minor"] == 5592
    assert check.evidence["difference_minor"] == total - 5592
    assert check.evidence["tolerance_minor"] == TOLERANCE


def test_a_lines_exact_total_counts_over_its_rounded_unit_price() -> None:
    # WooCommerce: 10.00 for three units is a unit price of 3.33; the line still counts 10.00
    lines = [{"sku": "A", "quantity": 3, "unit_price_minor": 333, "total_minor": 1000}]
    check = check_totals(lines, 1000, shipping_minor=0, tax_minor=0)
    assert check is not None and check.problems == [] and check.evidence["lines_minor"] == 1000


def test_a_shipping_discount_may_be_in_the_orders_discount_total_or_not() -> None:
    # shipping 10.00 discounted to 0 (the order's total is the lines' 44.98): storefronts differ on
    # whether the order's discount total holds those 10.00, and either reading adds up
    charges = {"shipping_minor": 1000, "shipping_discount_minor": 1000, "tax_minor": 0}
    for discount in (0, 1000):
        check = check_totals(LINES, 4498, discount_minor=discount, **charges)
        assert check is not None and check.problems == [], discount
    # but no more than that one discount of leeway, beyond rounding, either way
    for total in (4498 - 1000 - TOLERANCE - 1, 4498 + TOLERANCE + 1):
        check = check_totals(LINES, total, discount_minor=1000, **charges)
        assert check is not None and check.problems == ["total_mismatch"], total


def test_fees_may_be_negative() -> None:
    check = check_totals(LINES, 4498 - 250, shipping_minor=0, fees_minor=-250)
    assert check is not None and check.problems == []
