"""The connectors' settings: each variable named when wrong, settings that go together refused apart,
and what gets wired when (local files unless a remote is configured)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from storeops.bootstrap import App
from storeops.connectors.base import close_connectors
from storeops.connectors.local import FileConnector
from storeops.connectors.routing import BySource
from storeops.desks import builtin_desks
from storeops.engine.desk import Registry
from storeops.errors import InvalidInput
from storeops.settings import Settings, load_settings, parse_targets
from tests.conftest import make_policy


def _app(tmp_path: Path, **settings: Any) -> App:
    return App(
        settings=Settings(database_url="sqlite://", outbox_dir=tmp_path, **settings),
        engine=create_engine("sqlite://"),
        desks=builtin_desks(),
        registry=Registry(builtin_desks()),
        policy=make_policy(),
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("STOREOPS_SHOPIFY_SHOP_URL", "acme.myshopify.com"),
        ("STOREOPS_WOOCOMMERCE_URL", "ftp://shop.example"),
        ("STOREOPS_NOTIFY_WEBHOOK_URL", "hooks.slack.com/x"),
        ("STOREOPS_OUTGOING_WEBHOOKS", "warehouse https://wms.example"),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(InvalidInput) as refused:
        load_settings()
    assert refused.value.message.startswith(variable)


def test_outgoing_webhooks_parse() -> None:
    assert parse_targets(" warehouse=https://wms.example/hook , notify=http://127.0.0.1:9/x") == {
        "warehouse": "https://wms.example/hook",
        "notify": "http://127.0.0.1:9/x",
    }
    assert parse_targets("") == {}


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"shopify_shop_url": "https://acme.myshopify.com"}, "STOREOPS_SHOPIFY_ACCESS_TOKEN"),
        ({"woocommerce_url": "https://shop.example", "woocommerce_key": "ck"}, "STOREOPS_WOOCOMMERCE_SECRET"),
        ({"smtp_url": "smtp://127.0.0.1:25"}, "STOREOPS_MAIL_FROM"),
        ({"outgoing_webhooks": "warehouse=https://wms.example"}, "STOREOPS_OUTGOING_WEBHOOK_SECRET"),
    ],
)
def test_settings_that_go_together_are_refused_apart(tmp_path: Path, settings: dict[str, str], named: str) -> None:
    with pytest.raises(InvalidInput, match=named.split("_", 1)[1].split("_")[0]) as refused:
        _app(tmp_path, **settings).connectors()
    assert named in refused.value.message or named.rsplit("_", 1)[0] in refused.value.message


def test_nothing_configured_means_local_files_and_a_shop_routes_by_source(tmp_path: Path) -> None:
    local = _app(tmp_path).connectors()
    assert isinstance(local["storefront"], FileConnector) and isinstance(local["notify"], FileConnector)
    wired = _app(tmp_path, shopify_shop_url="https://acme.myshopify.com", shopify_access_token="shpat_x").connectors()
    storefront = wired["storefront"]
    assert isinstance(storefront, BySource) and set(storefront.routes) == {"shopify"}
    assert isinstance(storefront.fallback, FileConnector)  # a simulated order still goes to the files
    assert isinstance(wired["channels"], BySource) and wired["channels"].field == "channel"
    close_connectors(wired)
