"""What other desks, and the web app's return page, may ask of the returns desk (its tables are its own)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from storeops.desks.inventory import api as inventory_api
from storeops.desks.orders import api as orders_api
from storeops.desks.returns import rules
from storeops.desks.returns.insights import (
    FindingRule,
    ReturnInsights,
    VendorDefects,
    reason_words,
    vendor_defects,
    why_returns_happen,
)
from storeops.desks.returns.policy import ReturnsPolicy
from storeops.desks.returns.tables import returned_units
from storeops.engine.policy import Policy

__all__ = [
    "FindingRule",
    "ReturnInsights",
    "ReturnableLine",
    "ReturnableOrder",
    "VendorDefects",
    "new_rma",
    "reason_words",
    "returnable",
    "returns_policy",
    "vendor_defects",
    "why_returns_happen",
    "window_days",
]

SHIPPED = ("shipped", "delivered")
"""Order statuses a return may be asked for in (the desk refuses the others)."""


def new_rma(seed: str | None = None) -> str:
    """A return number for a new request: ``R-`` and 8 letters and digits, from ``seed`` (the same
    request taken twice gets the same number) or at random."""
    raw = hashlib.sha256(seed.encode()).hexdigest() if seed is not None else secrets.token_hex(16)
    return "R-" + raw[:8].upper()


def returns_policy(policy: Policy) -> ReturnsPolicy:
    """The [returns] section (its defaults when the store runs without the returns desk)."""
    section = policy.sections.get("returns")
    return section if isinstance(section, ReturnsPolicy) else ReturnsPolicy()


def window_days(policy: Policy) -> int:
    """Days a customer has to ask for a return ([returns] window_days; its default when the store
    runs without the returns desk)."""
    return returns_policy(policy).window_days


@dataclass(frozen=True)
class ReturnableLine:
    """One SKU of an order as the customer's return page shows it."""

    sku: str
    title: str | None
    """The order line's own title or name, else the catalogue's (None when neither has one)."""
    bought: int
    returnable: int
    """Units not yet on their way back or refunded; 0 while the order has not shipped."""


@dataclass(frozen=True)
class ReturnableOrder:
    """An order as its customer may see it to ask for a return."""

    number: str
    status: str
    """The orders desk's status: a return may be asked for once it is ``shipped`` or ``delivered``."""
    window_ends: datetime | None
    """The last moment a request is on time (later ones go to a person); None before shipping."""
    lines: tuple[ReturnableLine, ...]

    @property
    def shipped(self) -> bool:
        """Whether a return may be asked for at all."""
        return self.status in SHIPPED

    def as_json(self) -> dict[str, Any]:
        """``{"order", "status", "window_ends", "lines": [{"sku", "title", "bought", "returnable"}]}``."""
        return {
            "order": self.number,
            "status": self.status,
            "window_ends": self.window_ends.isoformat() if self.window_ends is not None else None,
            "lines": [
                {"sku": line.sku, "title": line.title, "bought": line.bought, "returnable": line.returnable}
                for line in self.lines
            ],
        }


def returnable(conn: Connection, order_number: str, email: str, policy: Policy) -> ReturnableOrder | None:
    """What order ``order_number`` (``1001`` or ``#1001``) has that its customer may still send back,
    or None when there is no such order or ``email`` is not its email (compared without case).
    Callers must say the same thing for both: a stranger learns nothing from trying numbers."""
    order = orders_api.purchase(conn, order_number)
    if order is None or not order.belongs_to(email=email):
        return None
    bought: dict[str, int] = {}
    named: dict[str, str] = {}
    for line in order.lines:
        sku = str(line["sku"])
        bought[sku] = bought.get(sku, 0) + int(line["quantity"])
        title = line.get("title") or line.get("name")
        if isinstance(title, str) and title.strip() and sku not in named:
            named[sku] = title.strip()
    catalogue = inventory_api.titles(conn, [sku for sku in bought if sku not in named])
    shipped = order.status in SHIPPED
    earlier = returned_units(conn, order.subject) if shipped else {}
    window = None
    if shipped:
        settings = returns_policy(policy)
        window = rules.window(
            delivered_at=order.delivered_at,
            shipped_at=order.shipped_at,
            placed_at=order.placed_at,
            days=settings.window_days,
            margin_days=settings.delivery_margin_days,
        ).ends
    return ReturnableOrder(
        number=order.number,
        status=order.status,
        window_ends=window,
        lines=tuple(
            ReturnableLine(
                sku=sku,
                title=named.get(sku) or catalogue.get(sku),
                bought=units,
                returnable=max(0, units - earlier.get(sku, 0)) if shipped else 0,
            )
            for sku, units in bought.items()
        ),
    )
