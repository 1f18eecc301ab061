"""[orders] section of storeops.toml."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storeops.engine.desk import DeskPolicy
from storeops.engine.policy import MoneyText
from storeops.money import validate_currency

Zone = Literal["domestic", "eu", "world"]


class Warehouse(BaseModel):
    """A location the store ships from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str = Field(description="ISO country code of the warehouse.")


class Rate(BaseModel):
    """One line of the carrier rate table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    carrier: str
    service: str
    zone: Zone
    max_grams: int = Field(gt=0)
    price: MoneyText
    days: int = Field(ge=0, description="Promised transit days.")


def _default_rates() -> list[Rate]:
    table = [
        ("colis", "standard", "domestic", 30000, "4.90", 3),
        ("colis", "express", "domestic", 30000, "9.90", 1),
        ("colis", "standard", "eu", 30000, "9.90", 5),
        ("dhl", "express", "eu", 30000, "19.90", 2),
        ("dhl", "standard", "world", 30000, "24.90", 10),
        ("dhl", "express", "world", 30000, "49.90", 4),
    ]
    return [Rate(carrier=c, service=s, zone=z, max_grams=g, price=p, days=d) for c, s, z, g, p, d in table]


class OrdersPolicy(DeskPolicy):
    """Thresholds of the orders desk."""

    high_value_threshold: MoneyText = Field(
        "500.00", description="Orders totalling this much or more go to a person for approval."
    )
    risk_threshold: float = Field(0.7, ge=0, le=1, description="Risk score (0–1) at or above which an order is held.")
    address_mismatch_repeat: int = Field(
        3,
        ge=1,
        description="Orders shipped away from billing (or to an invalid address) in the window that count as repeated.",
    )
    address_mismatch_window_days: int = Field(30, ge=1, description="Window for address_mismatch_repeat, in days.")
    tracking_stale_days: int = Field(
        5, ge=1, description="Days without a tracking scan before a shipment is irregular."
    )
    duplicate_window_minutes: int = Field(
        10, ge=0, description="Same customer, same lines within this many minutes is a duplicate order; 0 turns it off."
    )
    exchange_rates: dict[str, str] = Field(
        default_factory=dict, description='Store-currency value of one unit of another currency, e.g. {USD = "0.92"}.'
    )
    promised_days: int = Field(
        5, ge=0, description="Delivery promise: the cheapest service at least this fast is chosen."
    )
    default_item_grams: int = Field(500, ge=1, description="Weight of a unit whose weight the storefront did not send.")
    warehouses: dict[str, Warehouse] = Field(
        default_factory=lambda: {"WH-PARIS": Warehouse(country="FR"), "WH-BERLIN": Warehouse(country="DE")},
        description="Locations shipped from, by name (the ledger's location).",
    )
    rates: list[Rate] = Field(
        default_factory=_default_rates,
        description="Carrier rate table: carrier, service, zone, max_grams, price, days.",
    )
    shopify_locations: dict[str, str] = Field(
        default_factory=dict, description="Shopify location id → warehouse name (unmapped ids are used as names)."
    )

    @field_validator("exchange_rates")
    @classmethod
    def _rates(cls, value: dict[str, str]) -> dict[str, str]:
        from decimal import Decimal, InvalidOperation

        for currency, rate in value.items():
            validate_currency(currency)
            try:
                if Decimal(rate) <= 0:
                    raise ValueError
            except (InvalidOperation, ValueError):
                raise ValueError(f"rate for {currency} must be a positive decimal string, got {rate!r}") from None
        return {k.upper(): v for k, v in value.items()}
