"""Importing a live store page by page (``storeops connect``), checking the configured connectors,
and re-running dead outbox messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storeops.accounts import Principal, Role
from storeops.bootstrap import App
from storeops.clock import utcnow
from storeops.commands.audit import record, require_role
from storeops.commands.events import INGESTERS
from storeops.connectors.shopify_admin import Page
from storeops.engine.outbox import rerun_message
from storeops.engine.queue import ingest
from storeops.errors import InvalidInput
from storeops.intake import storefront_events
from storeops.storage.schema import store_imports

SENDERS = (Role.OPS,)
"""Who may re-run a dead outbox message besides the owner."""


class StorePages(Protocol):
    """A live store read page by page (``ShopifyPages``, ``WooCommercePages``)."""

    source: str
    resources: tuple[tuple[str, str], ...]

    def totals(self) -> dict[str, int | None]: ...

    def pages(self, resource: str, cursor: str | None = None) -> Iterator[Page]: ...

    def close(self) -> None: ...


def store_pages(app: App, source: str) -> StorePages:
    """The configured store of ``source`` to read; InvalidInput naming the variables when it is not."""
    if source == "shopify":
        from storeops.connectors.shopify_admin import ShopifyAdmin, ShopifyPages

        url, token = app.settings.shopify_shop_url, app.settings.shopify_access_token
        if not (url and token):
            raise InvalidInput(
                "set STOREOPS_SHOPIFY_SHOP_URL and STOREOPS_SHOPIFY_ACCESS_TOKEN to connect a Shopify store "
                "(docs/connectors.md)",
                field="STOREOPS_SHOPIFY_SHOP_URL",
            )
        return ShopifyPages(ShopifyAdmin(url, token))
    if source == "woocommerce":
        from storeops.connectors.woocommerce_rest import WooCommercePages, WooCommerceRest

        settings = app.settings
        if not (settings.woocommerce_url and settings.woocommerce_key and settings.woocommerce_secret):
            raise InvalidInput(
                "set STOREOPS_WOOCOMMERCE_URL, STOREOPS_WOOCOMMERCE_KEY and STOREOPS_WOOCOMMERCE_SECRET to connect "
                "a WooCommerce store (docs/connectors.md)",
                field="STOREOPS_WOOCOMMERCE_URL",
            )
        return WooCommercePages(
            WooCommerceRest(settings.woocommerce_url, settings.woocommerce_key, settings.woocommerce_secret)
        )
    raise InvalidInput(f"unknown store {source!r}; storeops connects shopify or woocommerce", field="source")


def import_progress(app: App, source: str) -> dict[str, dict[str, Any]]:
    """Where an import of ``source`` stands, by resource (``cursor``, ``done``, ``pages``, ``events``)."""
    with app.engine.connect() as conn:
        rows = conn.execute(select(store_imports).where(store_imports.c.source == source)).all()
    return {
        row.resource: {"cursor": row.cursor, "done": row.done, "pages": row.pages, "events": row.events} for row in rows
    }


def connect_store(
    app: App,
    actor: Principal,
    pages: StorePages,
    *,
    restart: bool = False,
    on_page: Callable[[str, int], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Import a live store's catalogue, stock, customers and open orders as its starting state,
    through the same path as ``ingest --backfill``: each page's events and where the import stands
    are stored in one transaction, so an interrupted import resumes at the next page and stores
    nothing twice. Returns, per resource, the pages and events stored now and whether it was done
    before. Audited as one ``store.import`` row."""
    require_role(actor, INGESTERS, "import a store")
    source = pages.source
    if restart:
        with app.engine.begin() as conn:
            conn.execute(delete(store_imports).where(store_imports.c.source == source))
    before = import_progress(app, source)
    summary: dict[str, dict[str, Any]] = {}
    for resource, topic in pages.resources:
        state = before.get(resource)
        if state and state["done"]:
            summary[resource] = {"pages": 0, "events": 0, "duplicates": 0, "already_done": True}
            continue
        counts = {"pages": 0, "events": 0, "duplicates": 0, "already_done": False}
        summary[resource] = counts
        for page in pages.pages(resource, state["cursor"] if state else None):
            events = []
            for item in page.items:
                try:
                    events += storefront_events(app, source, topic, item, None, backfill=True)
                except InvalidInput as exc:
                    which = item.get("id") if isinstance(item, dict) else None
                    raise InvalidInput(
                        f"{source} {resource} {which}: {exc.message} (nothing of its page was stored; "
                        "run the command again to resume there)",
                        field=exc.field,
                    ) from None
            with app.engine.begin() as conn:
                result = ingest(conn, events, routes=app.registry)
                _advance(conn, source, resource, page.next_cursor, len(result.ids))
            counts["pages"] += 1
            counts["events"] += len(result.ids)
            counts["duplicates"] += result.duplicates
            if on_page is not None:
                on_page(resource, len(page.items))
    with app.engine.begin() as conn:
        record(conn, actor, "store.import", f"store:{source}", evidence={"source": source, "via": "connect", **summary})
    return summary


def _advance(conn: Any, source: str, resource: str, cursor: str | None, events: int) -> None:
    factory = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    statement = factory(store_imports).values(
        source=source, resource=resource, cursor=cursor, done=cursor is None, pages=1, events=events, updated_at=now
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["source", "resource"],
            set_={
                "cursor": statement.excluded.cursor,
                "done": statement.excluded.done,
                "pages": store_imports.c.pages + 1,
                "events": store_imports.c.events + statement.excluded.events,
                "updated_at": now,
            },
        )
    )


def check_connectors(app: App) -> list[dict[str, Any]]:
    """Try each configured connector (auth, reachability, API version): one ``{"connector", "ok",
    "detail"}`` per outbox name, real ones tried, local ones checked for a writable folder."""
    from storeops.connectors.base import ConnectorError, close_connectors
    from storeops.connectors.routing import BySource

    connectors = app.connectors()
    out: list[dict[str, Any]] = []
    try:
        for name, connector in sorted(connectors.items()):
            targets: list[tuple[str, Any]] = (
                list(connector.routes.items()) if isinstance(connector, BySource) else [("", connector)]
            )
            for label, target in targets:
                shown = f"{name} ({label})" if label else name
                try:
                    detail = _check_one(app, target)
                    out.append({"connector": shown, "ok": True, "detail": detail})
                except ConnectorError as exc:
                    out.append({"connector": shown, "ok": False, "detail": exc.message})
                except Exception as exc:
                    out.append({"connector": shown, "ok": False, "detail": f"{type(exc).__name__}: {exc}"})
    finally:
        close_connectors(connectors)
    return out


def _check_one(app: App, connector: Any) -> str:
    import os
    import socket

    import httpx

    if hasattr(connector, "check"):
        return str(connector.check())
    url = getattr(connector, "url", None)
    if isinstance(url, str) and url.startswith("http"):
        parsed = httpx.URL(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        with socket.create_connection((parsed.host, port), timeout=5):
            pass
        return f"{parsed.host}:{port} reachable (nothing posted: a test message would reach the people there)"
    folder = app.settings.outbox_dir
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK):
        raise InvalidInput(f"{folder} is not writable")
    return f"local: writes files under {folder}"


def rerun_outbox_message(app: App, actor: Principal, message_id: int) -> dict[str, Any]:
    """Send a dead outbox message again with fresh attempts (after someone fixed its cause), audited."""
    require_role(actor, SENDERS, "re-run an outbox message")
    with app.engine.begin() as conn:
        row = rerun_message(conn, message_id, now=utcnow())
        record(
            conn,
            actor,
            "outbox.rerun",
            str(row["subject"]),
            evidence={"message_id": message_id, "connector": row["connector"], "action": row["action"]},
        )
    return row


__all__ = [
    "check_connectors",
    "connect_store",
    "import_progress",
    "rerun_outbox_message",
    "store_pages",
]
