"""Why the support desk hands a conversation to a person."""

from __future__ import annotations

import enum


class SupportReason(enum.StrEnum):
    """Reason codes of the support desk."""

    NEGATIVE_SENTIMENT = "negative_sentiment"
    """The message reads as negative below [support] negative_sentiment_threshold."""
    MULTI_ISSUE = "multi_issue"
    """The message raises more than one issue."""
    VIP_CUSTOMER = "vip_customer"
    """The customer is tagged VIP or has spent at least [support] vip_lifetime_value."""
    SENSITIVE_TOPIC = "sensitive_topic"
    """Legal threat, chargeback, safety, privacy or harassment."""
    LOW_CONFIDENCE = "low_confidence"
    """Automation is not sure enough of the answer to send it."""
    ASKED_FOR_HUMAN = "asked_for_human"
    """The customer asked for a person."""
    RETURN_REQUESTED = "return_requested"
    """A return was opened with an RMA number (before the returns desk decided returns; no longer raised)."""
