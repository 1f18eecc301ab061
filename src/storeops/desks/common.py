"""Payload pieces several desks share."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from storeops.bounds import Timestamp


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

    id: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, max_length=255)
    tags: list[str] = Field(default_factory=list, max_length=250)
    created_at: Timestamp | None = None
    """When the customer's account was created (for the time from sign-up to purchase)."""
