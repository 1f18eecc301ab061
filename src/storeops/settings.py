"""Process settings: where the database and the policy file are, webhook secrets, body caps and
trusted proxies. Read from the environment."""

from __future__ import annotations

import ipaddress
import os
import re
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


def parse_targets(text: str | None) -> dict[str, str]:
    """``"warehouse=https://wms.example/hook, notify=https://…"`` as ``{name: URL}``; ValueError
    naming an entry that is not ``name=http(s)://…``."""
    targets: dict[str, str] = {}
    for entry in (text or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        name, _, url = entry.partition("=")
        name, url = name.strip(), url.strip()
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,63}", name) or not re.fullmatch(r"https?://\S+", url):
            raise ValueError(f"{entry!r} is not name=https://… (a connector name, then its URL)")
        targets[name] = url
    return targets


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

    shopify_shop_url: str | None = Field(
        default=None,
        description="The Shopify shop storeops acts on, e.g. https://acme.myshopify.com (fulfilments, holds, "
        "cancellations, refunds, stock, tags; 'storeops connect shopify').",
    )
    shopify_access_token: str | None = Field(
        default=None, description="The custom app's Admin API access token (shpat_…), sent as X-Shopify-Access-Token."
    )
    woocommerce_url: str | None = Field(
        default=None, description="The WooCommerce store storeops acts on, e.g. https://shop.example (HTTPS)."
    )
    woocommerce_key: str | None = Field(default=None, description="WooCommerce REST API consumer key (ck_…).")
    woocommerce_secret: str | None = Field(default=None, description="WooCommerce REST API consumer secret (cs_…).")
    smtp_url: str | None = Field(
        default=None,
        description="Mail account storeops sends email through: smtp://user:pass@host:587 (STARTTLS) or "
        "smtps://user:pass@host:465; unset: mail is written to files.",
    )
    mail_from: str | None = Field(
        default=None, description="The From of storeops' mail, e.g. 'Acme Shop <help@acme.example>'."
    )
    notify_webhook_url: str | None = Field(
        default=None, description="Slack-compatible incoming webhook for urgent handoffs and SLA breaches."
    )
    public_url: str | None = Field(
        default=None,
        description="Where people open storeops, e.g. https://ops.acme.example; team notices link there.",
    )
    notify_email: str | None = Field(
        default=None,
        description="The team's address for urgent handoffs and SLA breaches by mail (needs STOREOPS_SMTP_URL); "
        "used when no STOREOPS_NOTIFY_WEBHOOK_URL is set.",
    )
    outgoing_webhooks: str | None = Field(
        default=None,
        description="Connectors sent to other tools as signed webhooks: 'name=https://…,name=https://…' "
        "(e.g. warehouse=https://wms.example/storeops).",
    )
    outgoing_webhook_secret: str | None = Field(
        default=None, description="Standard Webhooks secret (whsec_…) that signs the outgoing webhooks."
    )

    @field_validator("shopify_shop_url", "woocommerce_url", "notify_webhook_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(f"{value!r} is not an http(s) URL such as https://acme.myshopify.com")
        return value

    @property
    def webhook_targets(self) -> dict[str, str]:
        """``outgoing_webhooks`` as ``{connector name: URL}``."""
        return parse_targets(self.outgoing_webhooks)

    @field_validator("outgoing_webhooks")
    @classmethod
    def _targets(cls, value: str | None) -> str | None:
        parse_targets(value)
        return value

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
        "shopify_shop_url",
        "shopify_access_token",
        "woocommerce_url",
        "woocommerce_key",
        "woocommerce_secret",
        "smtp_url",
        "mail_from",
        "notify_webhook_url",
        "notify_email",
        "public_url",
        "outgoing_webhooks",
        "outgoing_webhook_secret",
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
