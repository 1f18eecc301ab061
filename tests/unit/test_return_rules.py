"""The returns desk's money rules: a line's share of what was paid, and what each return of it
refunds — property-tested never to exceed what was paid, and to add up exactly when all comes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storeops.desks.returns import rules

lines_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "sku": st.text(alphabet="ABCDEFG", min_size=1, max_size=3),
            "quantity": st.integers(1, 50),
            "unit_price_minor": st.integers(0, 10**7),
        }
    ),
    min_size=1,
    max_size=8,
)


@given(lines=lines_strategy, discount=st.floats(0, 1), data=st.data())
def test_returns_never_refund_more_than_a_line_cost_and_all_of_it_refunds_exactly_that(
    lines: list[dict[str, int]], discount: float, data: st.DataObject
) -> None:
    listed = sum(line["unit_price_minor"] * line["quantity"] for line in lines)
    goods_paid = int(listed * (1 - discount))
    paid = rules.line_paid(lines, goods_paid)
    assert sum(paid) == min(listed, goods_paid) and all(p >= 0 for p in paid)
    for line, line_paid in zip(lines, paid, strict=True):
        assert line_paid <= line["unit_price_minor"] * line["quantity"]
        # the customer sends the units back in any number of returns of any size
        returned, refunded = 0, 0
        while returned < line["quantity"]:
            take = data.draw(st.integers(1, line["quantity"] - returned))
            refund = rules.refund_for_units(line_paid, line["quantity"], returned, take)
            assert refund >= 0
            returned, refunded = returned + take, refunded + refund
            assert refunded <= line_paid
        assert refunded == line_paid


def test_more_units_than_are_left_is_refused() -> None:
    with pytest.raises(ValueError):
        rules.refund_for_units(3000, 3, 2, 2)


def test_a_discount_is_shared_out_largest_remainder_first() -> None:
    lines = [{"unit_price_minor": 100, "quantity": 1}] * 3
    assert rules.line_paid(lines, 200) == [67, 67, 66]


def test_the_window_ends_on_its_last_moment() -> None:
    delivered = datetime(2026, 11, 1, 12, tzinfo=UTC)
    window = rules.window(delivered_at=delivered, shipped_at=None, placed_at=delivered, days=30, margin_days=5)
    assert not window.late(delivered + timedelta(days=30)) and window.late(delivered + timedelta(days=30, seconds=1))
    shipped = rules.window(
        delivered_at=None, shipped_at=delivered, placed_at=delivered - timedelta(days=1), days=30, margin_days=5
    )
    assert shipped.starts == delivered + timedelta(days=5) and not shipped.from_delivery


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("I know it's past the window but could you make an exception?", True),
        ("Could you do it as a goodwill gesture", True),
        ("It is too small", False),
        ("Exceptional quality, just the wrong size", False),
        ("Too tight even though I ordered my usual size", False),
        ("Could you be flexible on the return date?", True),
        ("Is there any chance you could still accept it?", True),
        ("I missed the deadline by two days, sorry", True),
    ],
)
def test_a_request_for_an_exception_is_recognised(text: str, asks: bool) -> None:
    assert rules.asks_for_goodwill(text) is asks


@pytest.mark.parametrize(("returned", "orders", "flagged"), [(2, 4, False), (3, 4, True), (3, 3, False)])
def test_a_serial_returner_is_above_the_rate_over_enough_orders(returned: int, orders: int, flagged: bool) -> None:
    assert rules.serial_returner(returned, orders, rate=0.5, min_orders=4) is flagged
