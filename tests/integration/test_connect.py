"""`storeops connect`: a live store (a fake Shopify shop and WooCommerce store on 127.0.0.1) imported
page by page as its starting state, resumable, opening no handoff; `storeops connectors check`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from storeops.accounts import Principal, Role
from storeops.bootstrap import bootstrap
from storeops.cli.main import app
from storeops.commands.connect import connect_store, import_progress, store_pages
from storeops.connectors.base import RemoteError
from storeops.desks.inventory.tables import products
from storeops.settings import Settings
from storeops.storage.db import create_db_engine
from storeops.storage.migrate import upgrade
from storeops.storage.schema import audit_log, events, handoffs
from storeops.testing import FakeShopify, FakeWooCommerce, Fault, serve

TOKEN = "shpat_connect"


@pytest.fixture
def shop() -> Iterator[tuple[FakeShopify, str]]:
    fake = FakeShopify(TOKEN)
    with serve(fake.app) as base:
        yield fake, base


def _env(url: str, base: str, tmp_path: Path) -> dict[str, str]:
    return {
        "STOREOPS_DATABASE_URL": url,
        "STOREOPS_POLICY_FILE": "",
        "STOREOPS_DESKS": "",
        "STOREOPS_OUTBOX_DIR": str(tmp_path / "outbox"),
        "STOREOPS_SHOPIFY_SHOP_URL": base,
        "STOREOPS_SHOPIFY_ACCESS_TOKEN": TOKEN,
    }


def test_connect_shopify_imports_a_2000_product_5000_customer_store_and_opens_no_handoff(
    shop: tuple[FakeShopify, str], sqlite_url: str, tmp_path: Path
) -> None:
    fake, base = shop
    fake.stock_store(products=2000, customers=5000)
    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    env = _env(sqlite_url, base, tmp_path)
    runner = CliRunner()
    # when the owner connects the store, then lets a worker record it
    result = runner.invoke(app, ["connect", "shopify", "--json"], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["resources"]
    assert {r: (c["pages"], c["events"]) for r, c in summary.items()} == {
        "products": (100, 2000),
        "inventory_levels": (40, 2000),
        "customers": (50, 5000),
        "orders": (1, 0),
    }
    worked = runner.invoke(app, ["work", "--until-idle"], env=env)
    assert worked.exit_code == 0, worked.output
    # then the catalogue, stock and customers are the store's starting state, and nobody is asked anything
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(products)).scalar_one() == 2000
        assert conn.execute(select(func.count()).select_from(handoffs)).scalar_one() == 0
        kinds = dict(
            conn.execute(
                select(events.c.kind, func.count()).where(events.c.kind != "clock.tick").group_by(events.c.kind)
            ).all()
        )
        imports = conn.execute(select(audit_log.c.evidence).where(audit_log.c.action == "store.import")).scalars().all()
    assert kinds == {"product.updated": 2000, "channel.stock_reported": 2000, "customer.updated": 5000}
    assert imports[0]["via"] == "connect" and imports[0]["customers"]["events"] == 5000
    # the import's pages went to Shopify's GraphQL with the token, at the pinned version
    assert {r["headers"]["x-shopify-access-token"] for r in fake.requests} == {TOKEN}
    # connecting again reads nothing more: every resource is done
    again = runner.invoke(app, ["connect", "shopify", "--json"], env=env)
    assert all(c["already_done"] for c in json.loads(again.stdout)["resources"].values())
    engine.dispose()


def test_an_interrupted_import_resumes_at_the_next_page(
    shop: tuple[FakeShopify, str], sqlite_url: str, tmp_path: Path
) -> None:
    fake, base = shop
    fake.stock_store(products=100, customers=10)
    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    settings = Settings(
        database_url=sqlite_url, shopify_shop_url=base, shopify_access_token=TOKEN, outbox_dir=tmp_path, desks=None
    )
    application = bootstrap(settings)
    owner = Principal(actor="user:test", role=Role.OWNER)
    seen: list[int] = []

    def fail_after_two_pages(resource: str, items: int) -> None:
        seen.append(items)
        if len(seen) == 2:
            fake.faults = [Fault(503)]  # the shop goes away while the third page is asked for

    pages = store_pages(application, "shopify")
    with pytest.raises(RemoteError, match="HTTP 503"):
        connect_store(application, owner, pages, on_page=fail_after_two_pages)
    assert import_progress(application, "shopify")["products"] == {
        "cursor": "40",
        "done": False,
        "pages": 2,
        "events": 40,
    }
    asked = len(fake.requests)
    summary = connect_store(application, owner, pages)
    # it went on from the third page, storing each product once
    first_again = fake.requests[asked]
    assert first_again["operation"] == "StoreopsProducts" and first_again["variables"] == {"after": "40"}
    assert summary["products"]["events"] == 60 and summary["products"]["duplicates"] == 0
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(events).where(events.c.kind == "product.updated")
            ).scalar_one()
            == 100
        )
    pages.close()
    application.engine.dispose()
    engine.dispose()


def test_connect_woocommerce_reads_rest_pages(sqlite_url: str, tmp_path: Path) -> None:
    fake = FakeWooCommerce("ck_1", "cs_1")
    fake.products = [
        {
            "id": n,
            "sku": f"W-{n}",
            "name": f"Thing {n}",
            "manage_stock": True,
            "stock_quantity": 4,
            "date_modified_gmt": "2026-11-01T10:00:00",
        }
        for n in range(1, 151)
    ]
    # a variable product: its 120 variations (more than a page) are the SKUs its orders carry
    fake.products.append({"id": 900, "type": "variable", "name": "Hoodie", "variations": list(range(901, 1021))})
    fake.variations[900] = [
        {
            "id": n,
            "sku": f"HOODIE-{n}",
            "attributes": [{"name": "Size", "option": f"S{n}"}],
            "manage_stock": True,
            "stock_quantity": 2,
            "date_modified_gmt": "2026-11-01T10:00:00",
        }
        for n in range(901, 1021)
    ]
    fake.customers = [
        {
            "id": n,
            "email": f"c{n}@example.test",
            "role": "customer",
            "date_created_gmt": "2026-01-01T00:00:00",
            "date_modified_gmt": "2026-11-01T10:00:00",
        }
        for n in range(1, 21)
    ]
    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    with serve(fake.app) as base:
        env = {
            "STOREOPS_DATABASE_URL": sqlite_url,
            "STOREOPS_POLICY_FILE": "",
            "STOREOPS_DESKS": "",
            "STOREOPS_WOOCOMMERCE_URL": base,
            "STOREOPS_WOOCOMMERCE_KEY": "ck_1",
            "STOREOPS_WOOCOMMERCE_SECRET": "cs_1",
            "STOREOPS_OUTBOX_DIR": str(tmp_path),
        }
        result = CliRunner().invoke(app, ["connect", "woocommerce", "--json"], env=env)
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)["resources"]
        # each product is two events: the product, and its stock figure (WooCommerce keeps one per product)
        # and the variable product is one event, each of its variations two
        assert summary["products"]["events"] == 300 + 1 + 240 and summary["products"]["pages"] == 2
        assert summary["customers"]["events"] == 20
        assert fake.requests[-1]["params"]["status"] == "pending,processing,on-hold"
        check = CliRunner().invoke(app, ["connectors", "check"], env=env)
    assert check.exit_code == 0, check.output
    assert "storefront (woocommerce)" in check.stdout and "WooCommerce 9.4.0" in check.stdout
    with engine.connect() as conn:
        titles = dict(
            conn.execute(
                select(events.c.subject, events.c.payload["title"].as_string()).where(
                    events.c.kind == "product.updated", events.c.subject.like("sku:HOODIE-%")
                )
            ).all()
        )
    assert len(titles) == 120 and titles["sku:HOODIE-901"] == "Hoodie – S901"
    engine.dispose()


def test_connect_without_settings_names_the_variables(sqlite_url: str) -> None:
    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    result = CliRunner().invoke(
        app, ["connect", "shopify"], env={"STOREOPS_DATABASE_URL": sqlite_url, "STOREOPS_POLICY_FILE": ""}
    )
    assert result.exit_code == 2
    assert "STOREOPS_SHOPIFY_SHOP_URL and STOREOPS_SHOPIFY_ACCESS_TOKEN" in result.stderr
    engine.dispose()


def test_an_import_reads_every_variant_level_and_line_not_only_a_page_of_them(
    shop: tuple[FakeShopify, str],
) -> None:
    from storeops.connectors.shopify_admin import ShopifyAdmin, ShopifyPages

    fake, base = shop
    fake.stock_store(products=1, customers=0)
    product = fake.products[0]
    variant = product["variants"]["nodes"][0]
    # a product with 130 variants (Shopify allows 2,048), more than a page's 40 and a follow-up's 100
    product["variants"]["nodes"] = [{**variant, "id": f"{variant['id']}{n}", "sku": f"BIG-{n}"} for n in range(130)]
    item = fake.inventory_items[0]
    level = item["inventoryLevels"]["nodes"][0]
    item["inventoryLevels"]["nodes"] = [
        {**level, "location": {"id": f"gid://shopify/Location/{n}"}} for n in range(1, 13)
    ]
    line = {
        "sku": "BIG-0",
        "title": "Big",
        "quantity": 1,
        "variant": None,
        "originalUnitPriceSet": {"shopMoney": {"amount": "1.00"}},
    }
    fake.open_orders.append(
        {"id": "gid://shopify/Order/9", "name": "#9", "currencyCode": "EUR", "lineItems": {"nodes": [line] * 61}}
    )
    pages = ShopifyPages(ShopifyAdmin(base, TOKEN))
    [imported] = pages.page("products", None).items
    assert [v["sku"] for v in imported["variants"]] == [f"BIG-{n}" for n in range(130)]
    assert len(pages.page("inventory_levels", None).items) == 12
    [order] = pages.page("orders", None).items
    assert len(order["line_items"]) == 61
    asked = [r["operation"] for r in fake.requests]
    assert asked.count("StoreopsProductVariants") == 1 and asked.count("StoreopsOrderLines") == 1
    pages.close()
