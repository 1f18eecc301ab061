"""Wiring: settings → database engine, desks, policy and connectors. The one place it happens."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from storeops.connectors.base import Connector
from storeops.connectors.carrier_local import LocalCarrier
from storeops.connectors.llm_drafter import LlmDrafter
from storeops.connectors.local import FileConnector
from storeops.connectors.supplier_csv import SupplierCsvConnector
from storeops.desks import configured_desks
from storeops.engine.desk import Desk, Registry
from storeops.engine.events import NewEvent, parse_new_event
from storeops.engine.models import DeskModels, ModelPlaces
from storeops.engine.policy import Policy, PolicyFile, default_policy_path, editable_policy_path, load_policy
from storeops.engine.queue import IngestResult, ingest
from storeops.errors import InvalidInput
from storeops.settings import Settings, load_settings
from storeops.storage.db import check_database, create_db_engine

LOCAL_CONNECTORS = (
    "warehouse",
    "carrier",
    "storefront",
    "email",
    "chat",
    "payments",
    "channels",
    "suppliers",
    "notify",
)
"""Outside systems a desk may send to; each gets a local file connector unless configured."""


@dataclass
class App:
    """A configured storeops: what every entry point (CLI, web, worker, tests) runs on."""

    settings: Settings
    engine: Engine
    desks: list[Desk]
    registry: Registry
    policy: Policy
    models: DeskModels = field(default=None)  # type: ignore[assignment]
    """Each desk's models, loaded on first use; built from the settings when not given."""

    def __post_init__(self) -> None:
        if self.models is None:
            places = ModelPlaces(models_dir=self.settings.models_dir, cache_dir=self.settings.cache_dir, report=_say)
            self.models = DeskModels(self.registry, places)

    @property
    def policy_path(self) -> Path:
        """The policy file edits go to and workers watch (configured, else ./storeops.toml)."""
        return editable_policy_path(self.settings.policy_file)

    def policy_file(self) -> PolicyFile:
        """A watcher that reloads the policy when its file changes."""
        return PolicyFile(self.policy_path, self.desks)

    def connectors(self) -> dict[str, Connector]:
        """The connectors the outbox dispatches to: local ones writing under ``outbox_dir``, replaced
        by the real ones the settings configure (docs/connectors.md)."""
        connectors: dict[str, Connector] = {
            name: FileConnector(name, self.settings.outbox_dir) for name in LOCAL_CONNECTORS
        }
        connectors["carrier"] = LocalCarrier(self.settings.outbox_dir)
        connectors["suppliers"] = SupplierCsvConnector(self.settings.outbox_dir)
        connectors.update(self.remote_connectors())
        if "support" in self.registry.desks:
            from storeops.desks.support.policy import SupportPolicy

            support = self.policy.section("support", SupportPolicy)
            if support.llm_base_url:
                connectors["drafter"] = LlmDrafter(
                    support.llm_base_url, support.llm_model, os.environ.get(support.llm_api_key_env), self.store
                )
        return connectors

    def storefronts(self) -> dict[str, Any]:
        """The configured storefronts' outbox connectors, by source (``shopify``, ``woocommerce``)."""
        settings = self.settings
        notify_customer = self.policy.outbox.notify_customer
        out: dict[str, Any] = {}
        if settings.shopify_shop_url or settings.shopify_access_token:
            from storeops.connectors.shopify_admin import ShopifyAdmin, ShopifyConnector

            if not (settings.shopify_shop_url and settings.shopify_access_token):
                raise InvalidInput(
                    "STOREOPS_SHOPIFY_SHOP_URL and STOREOPS_SHOPIFY_ACCESS_TOKEN go together; set both",
                    field="STOREOPS_SHOPIFY_ACCESS_TOKEN",
                )
            locations: dict[str, str] = {}
            if "orders" in self.policy.sections:
                from storeops.desks.orders.policy import OrdersPolicy

                locations = self.policy.section("orders", OrdersPolicy).shopify_locations
            admin = ShopifyAdmin(settings.shopify_shop_url, settings.shopify_access_token)
            out["shopify"] = ShopifyConnector(admin, notify_customer=notify_customer, locations=locations)
        woo = (settings.woocommerce_url, settings.woocommerce_key, settings.woocommerce_secret)
        if any(woo):
            from storeops.connectors.woocommerce_rest import WooCommerceConnector, WooCommerceRest

            if not all(woo):
                raise InvalidInput(
                    "STOREOPS_WOOCOMMERCE_URL, STOREOPS_WOOCOMMERCE_KEY and STOREOPS_WOOCOMMERCE_SECRET go together; "
                    "set all three",
                    field="STOREOPS_WOOCOMMERCE_KEY",
                )
            rest = WooCommerceRest(*woo)  # type: ignore[arg-type]
            out["woocommerce"] = WooCommerceConnector(rest, notify_customer=notify_customer)
        return out

    def remote_connectors(self) -> dict[str, Connector]:
        """The real connectors the settings configure, by outbox name (none: everything stays local)."""
        from storeops.connectors.routing import BySource

        settings, folder = self.settings, self.settings.outbox_dir
        out: dict[str, Connector] = {}
        stores = self.storefronts()
        if stores:
            for name, field_name in (("storefront", "source"), ("payments", "source"), ("channels", "channel")):
                routes = {source: connector.named(name) for source, connector in stores.items()}
                out[name] = BySource(name, field_name, routes, FileConnector(name, folder))
        if settings.smtp_url or settings.mail_from:
            from storeops.connectors.smtp import SmtpConnector
            from storeops.engine.outbox import OutboxHandovers

            if not (settings.smtp_url and settings.mail_from):
                raise InvalidInput(
                    "STOREOPS_SMTP_URL and STOREOPS_MAIL_FROM go together; set both", field="STOREOPS_MAIL_FROM"
                )
            out["email"] = SmtpConnector(settings.smtp_url, settings.mail_from, handovers=OutboxHandovers(self.engine))
        if settings.notify_webhook_url and settings.notify_email:
            # One notice, one remote: a retry after the second failed would post the first again.
            raise InvalidInput(
                "set STOREOPS_NOTIFY_WEBHOOK_URL or STOREOPS_NOTIFY_EMAIL, not both", field="STOREOPS_NOTIFY_EMAIL"
            )
        if settings.notify_webhook_url:
            from storeops.connectors.notify import SlackNotifier

            out["notify"] = SlackNotifier(settings.notify_webhook_url, base_url=settings.public_url)
        elif settings.notify_email:
            from email.utils import parseaddr

            from storeops.connectors.notify import EmailNotifier

            if "email" not in out:
                raise InvalidInput(
                    "STOREOPS_NOTIFY_EMAIL needs STOREOPS_SMTP_URL and STOREOPS_MAIL_FROM to send through",
                    field="STOREOPS_NOTIFY_EMAIL",
                )
            if "@" not in parseaddr(settings.notify_email)[1]:
                raise InvalidInput(
                    f"STOREOPS_NOTIFY_EMAIL {settings.notify_email!r} is not an address such as ops@acme.example",
                    field="STOREOPS_NOTIFY_EMAIL",
                )
            out["notify"] = EmailNotifier(out["email"], settings.notify_email, base_url=settings.public_url)
        targets = settings.webhook_targets
        if targets:
            from storeops.connectors.webhook import StandardWebhookConnector

            if not settings.outgoing_webhook_secret:
                raise InvalidInput(
                    "STOREOPS_OUTGOING_WEBHOOKS needs STOREOPS_OUTGOING_WEBHOOK_SECRET (whsec_…) to sign them",
                    field="STOREOPS_OUTGOING_WEBHOOK_SECRET",
                )
            for name, url in targets.items():
                if name in out:
                    raise InvalidInput(
                        f"STOREOPS_OUTGOING_WEBHOOKS names {name}, which another setting already sends to",
                        field="STOREOPS_OUTGOING_WEBHOOKS",
                    )
                out[name] = StandardWebhookConnector(name, url, settings.outgoing_webhook_secret)
        return out

    def store(self, new_events: list[NewEvent]) -> IngestResult:
        """Validate and queue events in one transaction (what connectors that answer back use)."""
        parsed = [parse_new_event(e.model_dump(mode="json"), self.registry.payload_models) for e in new_events]
        with self.engine.begin() as conn:
            return ingest(conn, parsed, routes=self.registry)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def warm_up(app: App) -> None:
    """Load the models the desks answer with now (building the default support model if this
    machine has none yet), so the first message does not wait for it."""
    app.models.warm_up()


def model_status(app: App) -> dict[str, list[dict[str, Any]]]:
    """The models each desk decides with, by desk, as a worker started now would load them
    (nothing is loaded or built to find out): ``storeops status``."""
    out: dict[str, list[dict[str, Any]]] = {}
    names = app.registry.desks
    if "orders" in names:
        from storeops.desks.orders.risk import describe_risk_model

        out["orders"] = [describe_risk_model(app.settings.models_dir)]
    if "support" in names:
        from storeops.desks.support.models import choose

        out["support"] = [choose(app.settings.models_dir, app.settings.cache_dir).as_json()]
    if "inventory" in names:
        from importlib.metadata import version

        out["inventory"] = [
            {
                "name": "demand-forecast",
                "source": "fitted per run",
                "version": f"statsforecast {version('statsforecast')}",
                "trained_at": None,
                "path": None,
                "sklearn_version": None,
                "data_digest": None,
                "ready": True,
                "note": "fitted on each SKU's sales history at every reorder run; nothing to train",
            }
        ]
    if "returns" in names:
        from storeops.desks.returns.models import describe

        out["returns"] = [describe(app.settings.models_dir)]
    return out


def bootstrap(settings: Settings | None = None, *, need_schema: bool = True, check: bool = True) -> App:
    """Build an App; raises StoreopsError subclasses with one-line messages on bad configuration."""
    settings = settings or load_settings()
    desks = configured_desks(settings.desks)
    registry = Registry(desks)
    policy = load_policy(default_policy_path(settings.policy_file), desks)
    engine = create_db_engine(settings.database_url)
    if check:
        check_database(engine, need_schema=need_schema)
    return App(settings=settings, engine=engine, desks=desks, registry=registry, policy=policy)
