"""The returns desk's rules as pure functions: what a line paid, what a return refunds, whether a
request is inside the window, and what a person should see (tested at their boundaries)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

GOODWILL = re.compile(
    r"\b(goodwill|make an exception|an exception|as a favou?r|be flexible|any chance you could still|"
    r"missed the (return )?(window|deadline)|even though (it'?s|it is|i'?m|i am|the) (late|past|over|outside)|"
    r"i know (it'?s|it is|i'?m|i am) (late|past|over|outside)|past the (return )?(window|deadline|date)|"
    r"outside the (return )?(window|period)|after the (return )?(window|deadline)|final sale but)\b",
    re.IGNORECASE,
)
"""Words of a customer asking for an exception (``goodwill_request``)."""


def asks_for_goodwill(text: str) -> bool:
    """Whether the customer's words ask for an exception to the rules."""
    return bool(GOODWILL.search(text))


def line_paid(lines: Sequence[Mapping[str, Any]], goods_paid_minor: int) -> list[int]:
    """What each order line really cost the customer, in minor units: its own total (or unit price ×
    quantity), with any order-level discount shared out in proportion (largest remainder first), so
    the lines add up to exactly ``goods_paid_minor`` when that is less than their list prices."""
    listed = [_listed(line) for line in lines]
    whole = sum(listed)
    if whole <= goods_paid_minor or whole == 0:
        return listed
    paid = max(0, goods_paid_minor)
    shares = [value * paid // whole for value in listed]
    remainders = sorted(range(len(listed)), key=lambda i: (-(listed[i] * paid % whole), i))
    for index in remainders[: paid - sum(shares)]:
        shares[index] += 1
    return shares


def _listed(line: Mapping[str, Any]) -> int:
    total = line.get("total_minor")
    if isinstance(total, int):
        return total
    return int(line.get("unit_price_minor") or 0) * int(line.get("quantity") or 0)


def refund_for_units(paid_minor: int, bought: int, already: int, quantity: int) -> int:
    """The refund of ``quantity`` more units of a line of ``bought`` units that cost ``paid_minor``,
    when ``already`` came back before: cumulative shares floored, so every return of the line
    together never refunds more than it cost, and all of its units refund exactly that."""
    if bought <= 0 or quantity <= 0 or already < 0 or already + quantity > bought:
        raise ValueError("a return of more units than are left on the line")
    return paid_minor * (already + quantity) // bought - paid_minor * already // bought


@dataclass(frozen=True)
class Window:
    """The return window of an order."""

    starts: datetime
    """The delivery scan, else shipping (or ordering) plus the margin."""
    from_delivery: bool
    days: int

    @property
    def ends(self) -> datetime:
        """The last moment a request is on time."""
        return self.starts + timedelta(days=self.days)

    def late(self, asked: datetime) -> bool:
        """Whether a request at ``asked`` is after the window (exactly at its end is still on time)."""
        return asked > self.ends

    def days_after(self, asked: datetime) -> float:
        """Days from the window's start to ``asked`` (one decimal)."""
        return round((asked - self.starts).total_seconds() / 86400, 1)


def window(
    *,
    delivered_at: datetime | None,
    shipped_at: datetime | None,
    placed_at: datetime,
    days: int,
    margin_days: int,
) -> Window:
    """The window counts from the delivery scan; without one, from shipping (or ordering) plus a margin."""
    if delivered_at is not None:
        return Window(delivered_at, True, days)
    return Window((shipped_at or placed_at) + timedelta(days=margin_days), False, days)


def final_sale(sku: str, line_tags: Iterable[str], *, patterns: Sequence[str], tags: Sequence[str]) -> bool:
    """Whether a line was sold as final sale: its SKU matches a pattern or it carries a final-sale tag."""
    wanted = {tag.strip().lower() for tag in tags}
    return any(fnmatch.fnmatchcase(sku, pattern) for pattern in patterns) or any(
        str(tag).strip().lower() in wanted for tag in line_tags
    )


def line_tags(line: Mapping[str, Any]) -> list[str]:
    """Tags a storefront sent on an order line (a list, or a comma-separated string)."""
    raw = line.get("tags")
    if isinstance(raw, str):
        return [part for part in raw.split(",") if part.strip()]
    if isinstance(raw, list):
        return [str(part) for part in raw]
    return []


def serial_returner(returned_orders: int, orders: int, *, rate: float, min_orders: int) -> bool:
    """Whether a customer's share of orders with a return is above ``rate`` over at least ``min_orders``."""
    return orders >= min_orders and returned_orders / orders > rate
