"""Process settings: where the database and the policy file are. Read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./storeops.db"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/storeops``, else ``~/.cache/storeops``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "storeops"


class Settings(BaseSettings):
    """Settings from ``STOREOPS_*`` environment variables, with embedded defaults."""

    model_config = SettingsConfigDict(env_prefix="STOREOPS_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; sqlite:///path (default ./storeops.db) or postgresql+psycopg://…",
    )
    policy_file: Path | None = Field(
        default=None, description="Policy TOML; defaults to ./storeops.toml when that exists."
    )
    outbox_dir: Path = Field(
        default=Path("./storeops-outbox"),
        description="Where the local connectors write what they would send to the outside world.",
    )
    shopify_webhook_secret: str | None = Field(
        default=None, description="Shopify app secret that signs webhooks (X-Shopify-Hmac-Sha256)."
    )
    woocommerce_webhook_secret: str | None = Field(
        default=None, description="WooCommerce webhook secret (X-WC-Webhook-Signature)."
    )
    models_dir: Path = Field(default=Path("./storeops-models"), description="Where trained models are kept.")
    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        description="Where models built from the shipped data are cached, shared by every store on the machine.",
    )
    desks: str | None = Field(
        default=None,
        description="Comma-separated 'module:attribute' desk specs replacing the built-in desks.",
    )
    imap_password: str | None = Field(
        default=None, description="Password of the support mailbox read by 'storeops support poll-imap'."
    )

    @field_validator(
        "database_url",
        "policy_file",
        "desks",
        "shopify_webhook_secret",
        "woocommerce_webhook_secret",
        "imap_password",
        "cache_dir",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object, info: ValidationInfo) -> object:
        # An exported-but-empty variable means "use the default", as in most Unix tools.
        if isinstance(value, str) and not value.strip():
            if info.field_name == "cache_dir":
                return default_cache_dir()
            return DEFAULT_DATABASE_URL if info.field_name == "database_url" else None
        return value


def load_settings() -> Settings:
    """Settings as the environment gives them now."""
    return Settings()
