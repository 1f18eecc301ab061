"""WooCommerce's REST API v3: what storeops sends to a WooCommerce store, and how it reads one to import it.

Authentication is the store's consumer key and secret as HTTP Basic credentials, which WooCommerce
accepts over HTTPS. WooCommerce takes no idempotency keys, so every write looks first: a note or a
refund carries a mark of its outbox key (``storeops:<digest>``) and is not written again when
found; status changes and stock levels are idempotent by nature.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from storeops.connectors.base import Rejected, StorefrontActions
from storeops.connectors.http import json_body, make_client, request
from storeops.connectors.shopify_admin import Page, marker
from storeops.money import Money

SOURCE = "woocommerce"
RESOURCES: tuple[tuple[str, str], ...] = (
    ("products", "product.created"),
    ("customers", "customer.created"),
    ("orders", "order.created"),
)
OPEN_STATUSES = "pending,processing,on-hold"
PER_PAGE = 100


class WooCommerceRest:
    """A REST v3 client for one store (``https://shop.example``) and its consumer key and secret."""

    remote = "woocommerce"

    def __init__(self, url: str, key: str, secret: str, client: httpx.Client | None = None) -> None:
        self.base = url.rstrip("/") + "/wp-json/wc/v3"
        self.client = make_client(client)
        self.auth = httpx.BasicAuth(key, secret)

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return request(self.client, self.remote, method, self.base + path, auth=self.auth, **kwargs)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return json_body(self.call(method, path, **kwargs), self.remote)


class WooCommerceConnector(StorefrontActions):
    """The outbox's WooCommerce connector (storefront, payments and channels names)."""

    remote = "woocommerce"
    title = "WooCommerce"

    def __init__(self, rest: WooCommerceRest, *, name: str = "storefront", notify_customer: bool = True) -> None:
        self.name = name
        self.rest = rest
        self.notify_customer = notify_customer

    def named(self, name: str) -> WooCommerceConnector:
        """The same store under another outbox name."""
        return WooCommerceConnector(self.rest, name=name, notify_customer=self.notify_customer)

    def order_id(self, payload: dict[str, Any]) -> str:
        subject = str(payload.get("subject") or "")
        if subject.startswith("order:woocommerce:"):
            return subject.removeprefix("order:woocommerce:")
        number = str(payload.get("order") or "")
        if not number.isdigit():
            raise Rejected(f"woocommerce: cannot tell which order {number!r} is")
        return number

    def _note(self, order: str, text: str, key: str, *, customer: bool = False) -> None:
        mark = marker(key)
        notes = self.rest.json("GET", f"/orders/{order}/notes")
        if any(mark in str(note.get("note", "")) for note in notes):
            return
        self.rest.json("POST", f"/orders/{order}/notes", json={"note": f"{text} [{mark}]", "customer_note": customer})

    def _status(self, order: str, status: str, *, unless: tuple[str, ...] = ()) -> dict[str, Any]:
        current = self.rest.json("GET", f"/orders/{order}")
        if current.get("status") == status or current.get("status") in unless:
            return dict(current)
        return dict(self.rest.json("PUT", f"/orders/{order}", json={"status": status}))

    def _fulfil(self, payload: dict[str, Any], key: str) -> None:
        order = self.order_id(payload)
        current = self.rest.json("GET", f"/orders/{order}")
        if current.get("status") in ("cancelled", "refunded", "failed", "trash"):
            raise Rejected(f"woocommerce: order {order} is {current.get('status')}; it is not fulfilled")
        numbers = ", ".join(str(n) for n in payload.get("tracking_numbers") or [])
        carrier = str(payload.get("carrier") or "").upper()
        self._note(order, f"Shipped with {carrier}: tracking {numbers}".strip(), key, customer=self.notify_customer)
        self._status(order, "completed")

    def _hold(self, payload: dict[str, Any], key: str) -> None:
        order = self.order_id(payload)
        reasons = ", ".join(str(r) for r in payload.get("reasons") or []) or "a person decides"
        self._note(order, f"storeops holds this order: {reasons}", key)
        self._status(order, "on-hold", unless=("completed", "cancelled", "refunded"))

    def _release(self, payload: dict[str, Any], key: str) -> None:
        order = self.order_id(payload)
        current = self.rest.json("GET", f"/orders/{order}")
        if current.get("status") == "on-hold":
            self.rest.json("PUT", f"/orders/{order}", json={"status": "processing"})

    def _tag(self, payload: dict[str, Any], key: str) -> None:
        # WooCommerce orders have no tags: a private note says the same to the store's staff.
        tags = ", ".join(str(tag) for tag in payload.get("tags") or [])
        if tags:
            self._note(self.order_id(payload), f"storeops: {tags}", key)

    def _cancel(self, payload: dict[str, Any], key: str) -> None:
        order = self.order_id(payload)
        reason = str(payload.get("reason") or "cancelled by storeops")
        self._note(order, f"Cancelled: {reason}", key)
        self._status(order, "cancelled", unless=("refunded",))

    def _refund(self, payload: dict[str, Any], key: str) -> None:
        order = self.order_id(payload)
        mark = marker(key)
        refunds = self.rest.json("GET", f"/orders/{order}/refunds")
        if any(mark in str(refund.get("reason", "")) for refund in refunds):
            return
        amount = Money(int(payload["amount_minor"]), str(payload["currency"])).decimal_text()
        self.rest.json(
            "POST",
            f"/orders/{order}/refunds",
            json={"amount": amount, "reason": f"{payload.get('reason') or 'Refund'} [{mark}]", "api_refund": True},
        )

    def _stock(self, payload: dict[str, Any], key: str) -> None:
        sku = str(payload["sku"])
        found = self.rest.json("GET", "/products", params={"sku": sku})
        if not found:
            raise Rejected(f"woocommerce: no product with SKU {sku!r} in the store")
        product = found[0]
        self.rest.json(
            "PUT",
            f"/products/{product['id']}",
            json={"manage_stock": True, "stock_quantity": int(payload["available"])},
        )

    def check(self) -> str:
        """One line on the store: reachable, keys accepted, its WooCommerce version."""
        status = self.rest.json("GET", "/system_status")
        environment = status.get("environment") or {}
        return (
            f"WooCommerce {environment.get('version', '?')} at {environment.get('site_url', self.rest.base)}, REST v3"
        )


class WooCommercePages:
    """A WooCommerce store read page by page for ``storeops connect woocommerce``."""

    source = SOURCE
    resources = RESOURCES

    def __init__(self, rest: WooCommerceRest) -> None:
        self.rest = rest

    def close(self) -> None:
        """Close the connections to the store."""
        self.rest.client.close()

    def _params(self, resource: str, page: int) -> dict[str, Any]:
        params: dict[str, Any] = {"per_page": PER_PAGE, "page": page}
        if resource == "orders":
            params["status"] = OPEN_STATUSES
        return params

    def totals(self) -> dict[str, int | None]:
        out: dict[str, int | None] = {}
        for resource, _topic in RESOURCES:
            response = self.rest.call("GET", f"/{resource}", params={**self._params(resource, 1), "per_page": 1})
            total = response.headers.get("X-WP-Total")
            out[resource] = int(total) if total and total.isdigit() else None
        return out

    def page(self, resource: str, cursor: str | None) -> Page:
        number = int(cursor or 1)
        response = self.rest.call("GET", f"/{resource}", params=self._params(resource, number))
        items = list(json_body(response, self.rest.remote))
        pages = int(response.headers.get("X-WP-TotalPages") or number)
        if resource == "products":
            items = [entry for item in items for entry in [item, *self._variations(item)]]
        return Page(items, str(number + 1) if number < pages and items else None)

    def _variations(self, product: dict[str, Any]) -> list[dict[str, Any]]:
        """A variable product's variations, each a SKU the store sells with its own stock: the
        products list names them by id only (``variations``), and an import without them would
        know none of the SKUs a variable product's orders carry."""
        if product.get("type") != "variable" or not product.get("variations"):
            return []
        out: list[dict[str, Any]] = []
        number = 1
        while True:
            response = self.rest.call(
                "GET", f"/products/{product['id']}/variations", params={"per_page": PER_PAGE, "page": number}
            )
            chunk = list(json_body(response, self.rest.remote))
            for variation in chunk:
                options = ", ".join(str(a.get("option")) for a in variation.get("attributes") or [] if a.get("option"))
                name = variation.get("name") or " – ".join(x for x in (str(product.get("name") or ""), options) if x)
                out.append({**variation, "name": name})
            if not chunk or number >= int(response.headers.get("X-WP-TotalPages") or number):
                return out
            number += 1

    def pages(self, resource: str, cursor: str | None = None) -> Iterator[Page]:
        while True:
            page = self.page(resource, cursor)
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor
