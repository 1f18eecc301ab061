"""The orders desk's rules: pure functions from an order's facts, its history, the policy and its
risk score to the reasons it goes to a person, and the words that suggest what to do. Nothing here
reads or writes storage, so every threshold is unit-tested at its boundary in milliseconds
(``tests/unit/test_orders_rules.py``); the handlers fetch the facts and store the outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from storeops.desks.orders.reasons import OrderReason
from storeops.money import currency_exponent

BLOCKING_ADDRESS_PROBLEMS = (
    "shipping_address_missing",
    "shipping_country_unknown",
    "shipping_street_missing",
    "shipping_city_missing",
    "shipping_postal_code_invalid",
    "shipping_postal_code_missing",
)
"""Address problems no parcel survives (a bad billing address, or an unusual phone, is not one)."""
FAILED_PAYMENT = frozenset({"voided", "failed", "declined", "refunded"})
"""Payment states that mean nobody will pay for this order."""


def to_store_currency(minor: int, currency: str, store_currency: str, rates: dict[str, str]) -> int | None:
    """``minor`` units of ``currency`` in the store's minor units; None when no rate is known."""
    if currency == store_currency:
        return minor
    rate = rates.get(currency)
    if rate is None:
        return None
    amount = Decimal(minor).scaleb(-currency_exponent(currency)) * Decimal(rate)
    return int(amount.scaleb(currency_exponent(store_currency)).to_integral_value())


def blocking_problems(address_problems: Sequence[str], payment_status: str | None) -> list[str]:
    """What stops an order before stock is even looked at: an undeliverable address, a failed payment."""
    problems = [problem for problem in address_problems if problem in BLOCKING_ADDRESS_PROBLEMS]
    if (payment_status or "").lower() in FAILED_PAYMENT:
        problems.append(f"payment_{payment_status}")
    return problems


def problem_reasons(problems: Sequence[str]) -> list[OrderReason]:
    """The reason codes of an order's problems: stock not yet counted for a SKU the storefront sells
    is its own reason (a person counts it); anything else that blocks the order is ``order_invalid``."""
    reasons = []
    if any(problem.startswith("stock_not_counted:") for problem in problems):
        reasons.append(OrderReason.STOCK_NOT_COUNTED)
    if any(not problem.startswith("stock_not_counted:") for problem in problems):
        reasons.append(OrderReason.ORDER_INVALID)
    return reasons


@dataclass(frozen=True)
class OrderCase:
    """The facts the hand-off rules judge, already fetched and computed."""

    store_total_minor: int | None
    """The total in the store's currency; None when no exchange rate is known."""
    risk_score: float
    mismatch: bool
    """This order ships away from billing (or to an invalid address)."""
    earlier_mismatches: int
    """The customer's earlier such orders within the window."""
    duplicate_of: str | None
    problems: Sequence[str]


@dataclass(frozen=True)
class Limits:
    """The policy's thresholds, in the units the rules compare."""

    threshold_minor: int
    risk_threshold: float
    mismatch_repeat: int


def assess(case: OrderCase, limits: Limits) -> list[OrderReason]:
    """Why an order goes to a person (empty: automation ships it), in the order people read them.

    - ``order_value_over_threshold``: total ≥ the threshold, or no way to know the total;
    - ``fraud_signal``: risk ≥ the risk threshold;
    - ``repeated_address_mismatch``: this order ships away from billing and, counting it, so did at
      least ``mismatch_repeat`` of the customer's orders in the window;
    - ``duplicate_order``: the same lines minutes earlier;
    - then the problems' reasons (``stock_not_counted``, ``order_invalid``)."""
    reasons: list[OrderReason] = []
    if case.store_total_minor is None or case.store_total_minor >= limits.threshold_minor:
        reasons.append(OrderReason.ORDER_VALUE_OVER_THRESHOLD)
    if case.risk_score >= limits.risk_threshold:
        reasons.append(OrderReason.FRAUD_SIGNAL)
    if case.mismatch and case.earlier_mismatches + 1 >= limits.mismatch_repeat:
        reasons.append(OrderReason.REPEATED_ADDRESS_MISMATCH)
    if case.duplicate_of:
        reasons.append(OrderReason.DUPLICATE_ORDER)
    return reasons + problem_reasons(case.problems)


def suggestion(reasons: Sequence[OrderReason], evidence: dict[str, Any]) -> str:
    """What automation suggests the person does with a held order."""
    if OrderReason.ORDER_INVALID in reasons:
        return (
            "Fix what is listed under problems (address, SKU, stock, payment or totals), then approve; reject cancels."
        )
    if OrderReason.STOCK_NOT_COUNTED in reasons:
        skus = ", ".join(p.split(":", 1)[1] for p in evidence["problems"] if p.startswith("stock_not_counted:"))
        return (
            f"No stock level has reached storeops for {skus}: count it (storeops ingest stock-count) or import "
            "the store's inventory levels, then approve to ship; reject cancels."
        )
    if OrderReason.DUPLICATE_ORDER in reasons:
        return f"Looks like a repeat of {evidence['duplicate_of']}: reject to cancel it, approve if both are wanted."
    if OrderReason.FRAUD_SIGNAL in reasons:
        factors = "; ".join(f.get("why", f["factor"]) for f in evidence["risk"]["factors"]) or "see the score"
        return f"Risky ({evidence['risk']['score']:.2f}): {factors}. Verify the customer before approving."
    if OrderReason.REPEATED_ADDRESS_MISMATCH in reasons:
        return "Ships away from the billing address again: confirm with the customer, then approve or reject."
    return "High-value order: approve to ship, reject to cancel and refund."


def line_signature(lines: Sequence[dict[str, Any]]) -> str:
    """The order's lines as one comparable text (for spotting a duplicate order)."""
    return ",".join(sorted(f"{line['sku']}x{line['quantity']}" for line in lines))[:512]
