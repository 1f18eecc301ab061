"""Payload pieces several desks share."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Address(BaseModel):
    """A postal address as storefronts send it; normalised by the orders desk."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = None
    phone: str | None = None


class CustomerRef(BaseModel):
    """Who placed an order or wrote a message."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(min_length=1)
    email: str | None = None
    tags: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    """When the customer's account was created (for the time from sign-up to purchase)."""
