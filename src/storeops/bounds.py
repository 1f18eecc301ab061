"""The bounds every figure from outside must keep: amounts, quantities, times and ids.

Checked where input comes in (webhooks, the events API, ``storeops ingest``), so a figure the
database cannot hold, or a handler cannot compute with, is refused with a 400 naming the field
instead of being accepted and then failing in the worker until it is dead-lettered.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

MAX_MINOR = 10**15
"""The largest amount in minor units (10,000,000,000,000.00 in a two-decimal currency). Amounts
are stored in signed 64-bit columns (±9.2·10¹⁸): the headroom of about 9,000 keeps sums (a
customer's lifetime spend, an order's lines) and exchange-rate conversions inside them."""

MAX_QUANTITY = 10**7
"""The largest quantity of one SKU in one figure (an order line, a count, a stock level or a
movement). Stock columns are 32-bit on PostgreSQL (±2.1·10⁹): headroom of about 200 for a
running balance."""

MIN_YEAR = 1970
MAX_YEAR = 2100
"""Timestamps outside these years are mistakes (or probes), and near the ends of what
``datetime`` holds a conversion to UTC overflows."""

MAX_ID_LENGTH = 128
"""The longest storefront id (order, product, customer, …): it becomes part of a subject
(``order:shopify:<id>``, at most 255 characters) and of database keys."""


def bounded_utc(value: datetime) -> datetime:
    """``value`` in UTC; ValueError when it is naive or its year is outside MIN_YEAR–MAX_YEAR."""
    if value.tzinfo is None:
        raise ValueError("timestamp has no timezone; send it with an offset, e.g. 2026-01-31T12:00:00Z")
    # Check the year before converting: 9999-12-31T23:59:59-05:00 is past what datetime holds in UTC.
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"timestamp {value.isoformat()} is outside the years {MIN_YEAR}–{MAX_YEAR}")
    utc = value.astimezone(UTC)
    if not MIN_YEAR <= utc.year <= MAX_YEAR:
        raise ValueError(f"timestamp {value.isoformat()} is outside the years {MIN_YEAR}–{MAX_YEAR}")
    return utc


Timestamp = Annotated[datetime, AfterValidator(bounded_utc)]
"""An aware timestamp within MIN_YEAR–MAX_YEAR, normalised to UTC."""

MinorAmount = Annotated[int, Field(strict=True, ge=0, le=MAX_MINOR)]
"""An amount in minor units: a JSON integer (never a float, a string or true), 0 to MAX_MINOR."""

Quantity = Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)]
"""A number of units: a JSON integer (1.7, "2" and true are refused, not read as 1 or 2)."""

StockFigure = Annotated[int, Field(strict=True, ge=-MAX_QUANTITY, le=MAX_QUANTITY)]
"""A stock level or movement; storefronts report negative levels for oversold items."""

Count = Annotated[int, Field(strict=True, ge=0, le=MAX_QUANTITY)]
"""A count of units that cannot be negative (a cycle count)."""
