"""[support] section of storeops.toml."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

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
        description="Below this confidence in the message's topic (its intents' share of 27 classes; 1 when a "
        "rule read it), automation does not guess.",
    )
    knowledge_base: str = Field(
        "", description="Folder of Markdown pages ('## question' then its answer); empty: the built-in pages."
    )
    knowledge_min_similarity: float = Field(
        0.1, gt=0, lt=1, description="Below this similarity to a known question, automation does not answer."
    )
    issue_confidence: float = Field(
        0.5, gt=0, lt=1, description="Confidence a further part of a message needs to count as an issue of its own."
    )

    llm_base_url: str = Field(
        "", description="OpenAI-compatible endpoint (…/v1) that drafts replies for handed-off messages; empty: off."
    )
    llm_model: str = Field("", description="The model the drafting endpoint should use.")
    llm_api_key_env: str = Field(
        "STOREOPS_LLM_API_KEY", description="Environment variable holding the endpoint's key (never the key itself)."
    )
    return_window_days: int = Field(
        30,
        ge=0,
        le=365,
        description="No longer used: [returns] window_days decides returns (kept so older policy files load).",
    )

    @field_validator("knowledge_base")
    @classmethod
    def _folder(cls, value: str) -> str:
        if value and not Path(value).is_dir():
            raise ValueError(f"{value!r} is not a folder of Markdown pages")
        return value
