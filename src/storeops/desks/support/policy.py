"""[support] section of storeops.toml."""

from __future__ import annotations

from pydantic import Field

from storeops.engine.desk import DeskPolicy
from storeops.engine.policy import MoneyText


class SupportPolicy(DeskPolicy):
    """Thresholds of the support desk."""

    negative_sentiment_threshold: float = Field(
        -0.3, ge=-1, le=1, description="Sentiment score (−1…1) below which a message goes to a person."
    )
    vip_tags: list[str] = Field(default_factory=lambda: ["VIP"], description="Customer tags that mark a VIP.")
    vip_lifetime_value: MoneyText = Field("2000.00", description="Lifetime spend that makes a customer a VIP.")
    intent_confidence_threshold: float = Field(
        0.3,
        gt=0,
        lt=1,
        description="Below this confidence in the message's intent (27 classes), automation does not guess.",
    )
    issue_confidence: float = Field(
        0.5, gt=0, lt=1, description="Confidence a further part of a message needs to count as an issue of its own."
    )
