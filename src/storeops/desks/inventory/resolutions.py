"""What a person may decide on the inventory desk's handoffs, checked before it is queued
(docs/resolutions.md): the fields a "modify" may carry per reason, refused naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Connection

from storeops.desks.inventory.reasons import InventoryReason
from storeops.engine.events import describe_validation_error
from storeops.errors import InvalidInput


class SkuSetup(BaseModel):
    """``modify`` on a new SKU: what procurement sets before automation may reorder it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    supplier: str | None = Field(None, min_length=1, max_length=128)
    cost_minor: int | None = Field(None, ge=0, le=10**12)
    lead_time_days: int | None = Field(None, ge=0, le=365)
    moq: int | None = Field(None, ge=1, le=10**6)
    case_pack: int | None = Field(None, ge=1, le=10**6)

    @model_validator(mode="after")
    def _something(self) -> SkuSetup:
        if all(value is None for value in self.model_dump().values()):
            raise ValueError("say what to set: supplier, cost_minor, lead_time_days, moq or case_pack")
        return self


class PurchaseOrderChanges(BaseModel):
    """``modify`` on a draft purchase order: the units per line (``SKU@LOCATION`` or ``SKU``; 0 drops it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quantities: dict[str, int] = Field(min_length=1)

    @model_validator(mode="after")
    def _units(self) -> PurchaseOrderChanges:
        for key, units in self.quantities.items():
            if not 0 <= units <= 10**6:
                raise ValueError(f"quantities[{key}] must be 0 to 1,000,000 units")
        return self


def _parse(model: type[BaseModel], changes: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return model.model_validate(dict(changes)).model_dump(exclude_none=True)
    except ValidationError as exc:
        message, field = describe_validation_error(exc, prefix="changes")
        raise InvalidInput(message, field=field) from None


def check_resolution(
    conn: Connection, handoff: Mapping[str, Any], resolution: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """The inventory desk's gate (``Desk.check_resolution``)."""
    reasons = {str(reason) for reason in handoff["reasons"]}
    if resolution != "modify":
        if changes:
            raise InvalidInput("approve and reject take no changes; modify does", field="changes")
        return {}
    if InventoryReason.REORDER_CONFIRMATION.value in reasons:
        return _parse(PurchaseOrderChanges, changes)
    if InventoryReason.NEW_SKU.value in reasons:
        return _parse(SkuSetup, changes)
    raise InvalidInput(
        "a stock anomaly or a supplier change is approved (accept) or rejected (keep the ledger / the old terms); "
        "there is nothing to modify",
        field="resolution",
    )
