"""Process settings: where the database and the policy file are, webhook secrets, body caps and
trusted proxies. Read from the environment."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storeops.errors import InvalidInput

DEFAULT_DATABASE_URL = "sqlite:///./storeops.db"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str | None) -> list[Network]:
    """``"10.0.0.1, 192.168.0.0/16, ::1"`` as networks; ValueError naming an entry that is neither
    an IP address nor a CIDR block."""
    networks: list[Network] = []
    for entry in (text or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or a CIDR block such as 10.0.0.0/8") from None
    return networks


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
    max_webhook_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        le=1024**3,
        description="Largest webhook body accepted (413 beyond it, before the signature is checked).",
    )
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        le=1024**3,
        description="Largest request body on every other route (the events API takes up to 1000 events).",
    )
    trusted_proxies: str | None = Field(
        default=None,
        description="Comma-separated IPs or CIDR blocks of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; unset: none (the peer's own address is the client's).",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str | None) -> str | None:
        parse_networks(value)
        return value

    @property
    def proxy_networks(self) -> list[Network]:
        """``trusted_proxies`` as networks."""
        return parse_networks(self.trusted_proxies)

    @field_validator(
        "database_url",
        "policy_file",
        "desks",
        "shopify_webhook_secret",
        "woocommerce_webhook_secret",
        "imap_password",
        "trusted_proxies",
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
    """Settings as the environment gives them now; InvalidInput naming the variable when one is wrong."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = f"STOREOPS_{str(first['loc'][0]).upper()}" if first["loc"] else "a STOREOPS_ variable"
        raise InvalidInput(f"{name}: {first['msg']}", field=name) from None
