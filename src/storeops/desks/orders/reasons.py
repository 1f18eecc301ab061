"""Why the orders desk hands an order to a person."""

from __future__ import annotations

import enum


class OrderReason(enum.StrEnum):
    """Reason codes of the orders desk."""

    ORDER_VALUE_OVER_THRESHOLD = "order_value_over_threshold"
    """The order total is at or above [orders] high_value_threshold."""
    FRAUD_SIGNAL = "fraud_signal"
    """The risk score is at or above [orders] risk_threshold."""
    REPEATED_ADDRESS_MISMATCH = "repeated_address_mismatch"
    """The customer's shipping and billing addresses differed too often in the window."""
    SHIPPING_IRREGULARITY = "shipping_irregularity"
    """Tracking shows an exception, a return to sender, or no scan for too long."""
    DUPLICATE_ORDER = "duplicate_order"
    """The same customer ordered the same lines minutes earlier."""
    CANCELLATION_TOO_LATE = "cancellation_too_late"
    """The customer asked to cancel after the order had shipped."""
    ORDER_INVALID = "order_invalid"
    """Something automation cannot fix: an undeliverable address, an unknown SKU, no stock, a failed payment,
    lines that do not add up to the order's total."""
    CHANGE_REQUEST = "change_request"
    """The customer asked to change the order (its address, its lines): a person makes the change."""
    STOCK_NOT_COUNTED = "stock_not_counted"
    """The storefront sells the SKU but no stock level has reached storeops yet: count it (or import the
    store's inventory levels), then approve."""
