"""Why the returns desk hands a return to a person."""

from __future__ import annotations

import enum


class ReturnReason(enum.StrEnum):
    """Reason codes of the returns desk."""

    REFUND_OVER_THRESHOLD = "refund_over_threshold"
    """The refund is above [returns] auto_refund_max."""
    SUSPICIOUS_RETURN_PATTERN = "suspicious_return_pattern"
    """The return fits a pattern of abuse (named in the evidence): a serial returner, an item that was
    not in the order, more than was paid, several accounts at one address, an empty box or a worn item."""
    OUTSIDE_POLICY = "outside_policy"
    """Asked after the return window or for a final-sale item, or the item came back damaged: a person
    may grant it as goodwill."""
    GOODWILL_REQUEST = "goodwill_request"
    """The customer asks for an exception."""
