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
from storeops.settings import Settings, load_settings
from storeops.storage.db import check_database, create_db_engine

LOCAL_CONNECTORS = ("warehouse", "carrier", "storefront", "email", "chat", "payments", "channels", "suppliers")
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
        """The connectors the outbox dispatches to (local ones writing under ``outbox_dir``)."""
        connectors: dict[str, Connector] = {
            name: FileConnector(name, self.settings.outbox_dir) for name in LOCAL_CONNECTORS
        }
        connectors["carrier"] = LocalCarrier(self.settings.outbox_dir)
        connectors["suppliers"] = SupplierCsvConnector(self.settings.outbox_dir)
        if "support" in self.registry.desks:
            from storeops.desks.support.policy import SupportPolicy

            support = self.policy.section("support", SupportPolicy)
            if support.llm_base_url:
                connectors["drafter"] = LlmDrafter(
                    support.llm_base_url, support.llm_model, os.environ.get(support.llm_api_key_env), self.store
                )
        return connectors

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
