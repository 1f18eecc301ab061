"""The orders desk's hand-off rules, pure, at every threshold's boundary."""

from __future__ import annotations

from dataclasses import replace

import pytest

from storeops.desks.orders.reasons import OrderReason
from storeops.desks.orders.rules import (
    Limits,
    OrderCase,
    assess,
    blocking_problems,
    problem_reasons,
    suggestion,
    to_store_currency,
)

LIMITS = Limits(threshold_minor=50000, risk_threshold=0.7, mismatch_repeat=3)
CLEAN = OrderCase(
    store_total_minor=4000, risk_score=0.1, mismatch=False, earlier_mismatches=0, duplicate_of=None, problems=()
)


def test_a_clean_order_goes_to_nobody() -> None:
    assert assess(CLEAN, LIMITS) == []


@pytest.mark.parametrize(("total", "held"), [(49999, False), (50000, True), (50001, True), (None, True)])
def test_the_value_threshold_holds_at_and_above_it_and_when_the_total_is_unknown(total: int | None, held: bool) -> None:
    reasons = assess(replace(CLEAN, store_total_minor=total), LIMITS)
    assert (OrderReason.ORDER_VALUE_OVER_THRESHOLD in reasons) is held


@pytest.mark.parametrize(("score", "held"), [(0.6999, False), (0.7, True), (0.95, True)])
def test_the_risk_threshold_holds_at_and_above_it(score: float, held: bool) -> None:
    assert (OrderReason.FRAUD_SIGNAL in assess(replace(CLEAN, risk_score=score), LIMITS)) is held


@pytest.mark.parametrize(
    ("mismatch", "earlier", "held"),
    [(True, 1, False), (True, 2, True), (True, 5, True), (False, 5, False)],
)
def test_a_repeated_mismatch_counts_this_order_and_needs_this_order_to_mismatch(
    mismatch: bool, earlier: int, held: bool
) -> None:
    case = replace(CLEAN, mismatch=mismatch, earlier_mismatches=earlier)
    assert (OrderReason.REPEATED_ADDRESS_MISMATCH in assess(case, LIMITS)) is held


def test_reasons_come_in_the_order_people_read_them() -> None:
    case = OrderCase(
        store_total_minor=90000,
        risk_score=0.9,
        mismatch=True,
        earlier_mismatches=2,
        duplicate_of="order:shop:1",
        problems=["stock_not_counted:TEE", "unknown_sku:MUG"],
    )
    assert assess(case, LIMITS) == [
        OrderReason.ORDER_VALUE_OVER_THRESHOLD,
        OrderReason.FRAUD_SIGNAL,
        OrderReason.REPEATED_ADDRESS_MISMATCH,
        OrderReason.DUPLICATE_ORDER,
        OrderReason.STOCK_NOT_COUNTED,
        OrderReason.ORDER_INVALID,
    ]


def test_stock_not_yet_counted_is_its_own_reason_never_an_invalid_order() -> None:
    assert problem_reasons(["stock_not_counted:TEE"]) == [OrderReason.STOCK_NOT_COUNTED]
    assert problem_reasons(["out_of_stock:TEE"]) == [OrderReason.ORDER_INVALID]
    assert problem_reasons([]) == []
    assert "count it" in suggestion([OrderReason.STOCK_NOT_COUNTED], {"problems": ["stock_not_counted:TEE"]})


def test_only_undeliverable_addresses_and_failed_payments_block_before_stock() -> None:
    assert blocking_problems(["shipping_city_missing", "billing_city_missing"], "paid") == ["shipping_city_missing"]
    assert blocking_problems([], "DECLINED") == ["payment_DECLINED"]
    assert blocking_problems([], "authorized") == []


@pytest.mark.parametrize(
    ("minor", "currency", "rates", "expected"),
    [
        (10000, "EUR", {}, 10000),
        (10000, "USD", {"USD": "0.92"}, 9200),
        (10000, "USD", {}, None),
        (100, "JPY", {"JPY": "0.0061"}, 61),
    ],
)
def test_amounts_convert_to_the_store_currency_by_the_policys_rates(
    minor: int, currency: str, rates: dict[str, str], expected: int | None
) -> None:
    assert to_store_currency(minor, currency, "EUR", rates) == expected
