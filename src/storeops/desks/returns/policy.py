"""[returns] section of storeops.toml."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from storeops.engine.desk import DeskPolicy
from storeops.engine.policy import MoneyText

Condition = Literal["new", "opened", "damaged", "worn", "empty"]
"""What an inspection found in the parcel."""


class ReturnsPolicy(DeskPolicy):
    """Rules of the returns desk (docs/returns.md)."""

    window_days: int = Field(
        30, ge=0, le=365, description="Days a customer has to ask for a return, from the delivery scan."
    )
    delivery_margin_days: int = Field(
        5,
        ge=0,
        le=60,
        description="With no delivery scan, the window starts this many days after shipping (or ordering).",
    )
    final_sale_skus: list[str] = Field(
        default_factory=list, description="SKU patterns (shell-style, e.g. 'CLEAR-*') sold as final sale."
    )
    final_sale_tags: list[str] = Field(
        default_factory=lambda: ["final-sale"],
        description="Tags on an order line that mark it final sale (when the storefront sends line tags).",
    )
    auto_refund_max: MoneyText = Field("150.00", description="Refunds above this go to a person.")
    returnless_max: MoneyText = Field(
        "10.00", description="Returns worth less than this are refunded without asking for the item back."
    )
    serial_returner_rate: float = Field(
        0.5, gt=0, le=1, description="Share of a customer's orders with a return above which they are flagged."
    )
    serial_returner_min_orders: int = Field(
        4, ge=1, description="Orders a customer needs before their return rate is judged."
    )
    shared_address_accounts: int = Field(
        3, ge=2, description="Customer accounts returning to one address, within shared_address_days, that flag it."
    )
    shared_address_days: int = Field(90, ge=1, description="Window for shared_address_accounts, in days.")
    wardrobing_days: int = Field(
        7, ge=0, description="A worn item asked back within this many days of delivery is flagged as wardrobing."
    )
    restock_conditions: list[Condition] = Field(
        default_factory=lambda: ["new", "opened"],  # type: ignore[arg-type]  # the literals are Conditions
        description="Conditions that go back into sellable stock.",
    )
    refund_shipping_reasons: list[str] = Field(
        default_factory=lambda: ["damaged_defective", "wrong_item", "not_as_described"],
        description="Reasons for which shipping is refunded too, when the whole order comes back.",
    )
    return_location: str = Field(
        "",
        description="Where returns are sent and restocked; empty: the warehouse the order left from "
        "(else where the SKU is stocked).",
    )
    return_carrier: str = Field("colis", description="Carrier of the prepaid return label.")
