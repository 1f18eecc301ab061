"""Why the vendors desk acts on its own, and why it hands a supplier to a person."""

from __future__ import annotations

import enum


class VendorReason(enum.StrEnum):
    """Reason codes of the vendors desk."""

    LATE_DELIVERY = "late_delivery"
    """A delivery arrived after its SLA deadline (the contract's lead time from the order, else the
    purchase order's expected date): the supplier and the team were told."""
    SHORT_SHIPMENT = "short_shipment"
    """A delivery brought fewer units than were still open on its purchase order line: the
    supplier and the team were told."""
    LATE_NOTICE = "late_notice"
    """A supplier's advance shipping notice announces a delivery after its SLA deadline: the team is
    told before it is late (the supplier, who sent it, is not)."""
    PERFORMANCE_DROP = "performance_drop"
    """A supplier's on-time, fill or defect record fell against its own baseline by more than
    chance explains (a CUSUM test at the policy's false-alarm rate): a person talks to them."""
    CONTRACT_RENEWAL_DUE = "contract_renewal_due"
    """A contract reaches its notice period plus [vendors] renewal_lead_days before its end: a
    person decides whether to renew, renegotiate or switch."""
