"""Fakes of the outside world that speak its real formats, for tests, benchmarks and demos.

- ``FakeShopify``: a shop's Admin GraphQL endpoint (``/admin/api/<version>/graphql.json``) with
  orders, fulfilment orders, fulfilments, refunds, stock and a catalogue to import; the cost
  bucket in ``extensions.cost.throttleStatus``, ``THROTTLED`` errors, 429s with ``Retry-After``,
  5xx, slow or hanging answers on demand. Operations are told apart by their names (storeops
  names every query it sends), and every request is kept for tests to read.
- ``FakeWooCommerce``: the REST v3 routes storeops uses (orders, notes, refunds, products,
  customers), with ``X-WP-Total`` paging.
- ``FakeHooks``: any URL under ``/hooks/`` answers 200 after a set delay (a Slack webhook, a
  signed webhook's receiver, the benchmark's remote).

Each is an ASGI app; ``serve`` runs one on a loopback port in a thread, ``python -m storeops.testing
hooks --port P --delay 0.02`` in a process of its own.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

_OPERATION = re.compile(r"\b(?:query|mutation)\s+(\w+)")


@dataclass
class Fault:
    """An answer to give instead of the real one: HTTP ``status`` with ``headers``, or (status
    200) a GraphQL ``THROTTLED`` error; only for ``operation`` when given."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    throttled: bool = False
    operation: str | None = None


@dataclass
class FakeOrder:
    """An order as the fake shop keeps it."""

    id: int
    name: str
    fulfillment_orders: list[dict[str, Any]]
    cancelled_at: str | None = None
    fulfillments: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)


class FakeShopify:
    """A Shopify shop's Admin GraphQL API, in memory."""

    def __init__(self, token: str = "shpat_test", *, version: str | None = None, delay: float = 0.0) -> None:
        self.token = token
        self.version = version
        """The version it answers with (None: the one asked for)."""
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        """Every GraphQL request: ``{"operation", "query", "variables", "headers", "path"}``."""
        self.faults: list[Fault] = []
        self.hang: dict[str, float] = {}
        """Operation → seconds to wait *after* applying it and before answering (a lost answer)."""
        self.orders: dict[int, FakeOrder] = {}
        self.products: list[dict[str, Any]] = []
        self.customers: list[dict[str, Any]] = []
        self.inventory_items: list[dict[str, Any]] = []
        self.open_orders: list[dict[str, Any]] = []
        self.stock: dict[tuple[str, str], int] = {}
        self.variants_by_sku: dict[str, str] = {}
        self.locations = [{"id": "gid://shopify/Location/1", "name": "WH-PARIS"}]
        self.bucket = {"maximumAvailable": 2000.0, "currentlyAvailable": 2000.0, "restoreRate": 100.0}
        self.cost = 10
        self._ids = iter(range(900_000, 10**9))
        self.app = Starlette(routes=[Route("/admin/api/{version}/graphql.json", self._graphql, methods=["POST"])])

    # -- setting the shop up --

    def add_order(self, order_id: int, name: str, *, locations: int = 1, paid: str = "100.00") -> FakeOrder:
        """An open order with ``locations`` open fulfilment orders and one captured payment."""
        order = FakeOrder(
            order_id,
            name,
            [{"id": f"gid://shopify/FulfillmentOrder/{order_id}{n}", "status": "OPEN"} for n in range(locations)],
            transactions=[
                {
                    "id": f"gid://shopify/OrderTransaction/{order_id}1",
                    "kind": "SALE",
                    "status": "SUCCESS",
                    "gateway": "shopify_payments",
                    "amountSet": {"shopMoney": {"amount": paid, "currencyCode": "EUR"}},
                }
            ],
        )
        self.orders[order_id] = order
        return order

    def operations(self, name: str | None = None) -> list[dict[str, Any]]:
        """The requests made (of operation ``name``)."""
        return [r for r in self.requests if name is None or r["operation"] == name]

    # -- the endpoint --

    def _cost(self, requested: float) -> dict[str, Any]:
        bucket = self.bucket
        bucket["currentlyAvailable"] = min(
            bucket["maximumAvailable"], bucket["currentlyAvailable"] + bucket["restoreRate"] * 0.0
        )
        return {
            "requestedQueryCost": requested,
            "actualQueryCost": requested,
            "throttleStatus": dict(bucket),
        }

    async def _graphql(self, request: Request) -> Response:
        raw = await request.body()
        body = json.loads(raw)
        query = str(body.get("query", ""))
        match = _OPERATION.search(query)
        operation = match.group(1) if match else "anonymous"
        record = {
            "operation": operation,
            "query": query,
            "variables": body.get("variables") or {},
            "headers": dict(request.headers),
            "path": request.url.path,
        }
        self.requests.append(record)
        if self.delay:
            await asyncio.sleep(self.delay)
        headers = {"X-Shopify-API-Version": self.version or request.path_params["version"]}
        if request.headers.get("x-shopify-access-token") != self.token:
            return JSONResponse({"errors": "[API] Invalid API key or access token"}, status_code=401, headers=headers)
        for fault in list(self.faults):
            if fault.operation in (None, operation):
                self.faults.remove(fault)
                if fault.throttled:
                    throttle = {**self.bucket, "currentlyAvailable": 0.0}
                    return JSONResponse(
                        {
                            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                            "extensions": {"cost": {"requestedQueryCost": 10, "throttleStatus": throttle}},
                        },
                        headers=headers,
                    )
                return JSONResponse(
                    {"errors": f"fault {fault.status}"}, status_code=fault.status, headers={**headers, **fault.headers}
                )
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None:
            return JSONResponse({"errors": [{"message": f"unknown operation {operation}"}]}, headers=headers)
        data = handler(record["variables"], query)
        deadline = time.monotonic() + self.hang.get(operation, 0.0)
        while operation in self.hang and time.monotonic() < deadline:
            await asyncio.sleep(0.01)  # until the time is up or the test lets go
        return JSONResponse({"data": data, "extensions": {"cost": self._cost(self.cost)}}, headers=headers)

    # -- operations storeops sends --

    def _order(self, order_gid: str) -> FakeOrder | None:
        return self.orders.get(int(str(order_gid).rsplit("/", 1)[-1]))

    def _op_StoreopsShop(self, variables: dict[str, Any], query: str) -> Any:
        return {"shop": {"name": "Fake shop", "myshopifyDomain": "fake.myshopify.com", "currencyCode": "EUR"}}

    def _op_StoreopsOrderByName(self, variables: dict[str, Any], query: str) -> Any:
        name = str(variables["query"]).removeprefix("name:").strip('"')
        found = [o for o in self.orders.values() if o.name.lstrip("#") == name.lstrip("#")]
        return {"orders": {"nodes": [{"id": f"gid://shopify/Order/{o.id}", "name": o.name} for o in found[:1]]}}

    def _op_StoreopsOrderState(self, variables: dict[str, Any], query: str) -> Any:
        order = self._order(variables["id"])
        if order is None:
            return {"order": None}
        return {
            "order": {
                "id": f"gid://shopify/Order/{order.id}",
                "name": order.name,
                "cancelledAt": order.cancelled_at,
                "tags": order.tags,
                "fulfillments": order.fulfillments,
                "fulfillmentOrders": {"nodes": [dict(fo) for fo in order.fulfillment_orders]},
            }
        }

    def _fulfillment_order(self, fo_id: str) -> tuple[FakeOrder, dict[str, Any]] | None:
        for order in self.orders.values():
            for fo in order.fulfillment_orders:
                if fo["id"] == fo_id:
                    return order, fo
        return None

    def _op_StoreopsFulfil(self, variables: dict[str, Any], query: str) -> Any:
        fulfillment = variables["fulfillment"]
        [pair] = fulfillment["lineItemsByFulfillmentOrder"]
        found = self._fulfillment_order(pair["fulfillmentOrderId"])
        if found is None or found[1]["status"] not in ("OPEN", "IN_PROGRESS"):
            status = found[1]["status"] if found else "missing"
            return {
                "fulfillmentCreate": {
                    "fulfillment": None,
                    "userErrors": [{"field": ["fulfillment"], "message": f"Fulfillment order is {status.lower()}"}],
                }
            }
        order, fo = found
        fo["status"] = "CLOSED"
        tracking = fulfillment.get("trackingInfo") or {}
        numbers = tracking.get("numbers") or ([tracking["number"]] if tracking.get("number") else [])
        created = {
            "id": f"gid://shopify/Fulfillment/{next(self._ids)}",
            "status": "SUCCESS",
            "trackingInfo": [{"number": n, "company": tracking.get("company")} for n in numbers],
        }
        order.fulfillments.append(created)
        return {"fulfillmentCreate": {"fulfillment": created, "userErrors": []}}

    def _op_StoreopsHold(self, variables: dict[str, Any], query: str) -> Any:
        found = self._fulfillment_order(variables["id"])
        if found is None or found[1]["status"] != "OPEN":
            return {
                "fulfillmentOrderHold": {
                    "fulfillmentOrder": None,
                    "userErrors": [{"field": ["id"], "message": "not open"}],
                }
            }
        found[1]["status"] = "ON_HOLD"
        return {"fulfillmentOrderHold": {"fulfillmentOrder": dict(found[1]), "userErrors": []}}

    def _op_StoreopsRelease(self, variables: dict[str, Any], query: str) -> Any:
        found = self._fulfillment_order(variables["id"])
        if found is None or found[1]["status"] != "ON_HOLD":
            return {
                "fulfillmentOrderReleaseHold": {
                    "fulfillmentOrder": None,
                    "userErrors": [{"field": ["id"], "message": "not on hold"}],
                }
            }
        found[1]["status"] = "OPEN"
        return {"fulfillmentOrderReleaseHold": {"fulfillmentOrder": dict(found[1]), "userErrors": []}}

    def _op_StoreopsCancel(self, variables: dict[str, Any], query: str) -> Any:
        order = self._order(variables["orderId"])
        if order is None or order.cancelled_at:
            return {
                "orderCancel": {
                    "job": None,
                    "orderCancelUserErrors": [
                        {"field": ["orderId"], "message": "Order cannot be cancelled", "code": "INVALID"}
                    ],
                }
            }
        order.cancelled_at = "2026-12-01T12:00:00Z"
        return {"orderCancel": {"job": {"id": "gid://shopify/Job/1", "done": False}, "orderCancelUserErrors": []}}

    def _op_StoreopsTag(self, variables: dict[str, Any], query: str) -> Any:
        order = self._order(variables["id"])
        if order is None:
            return {"tagsAdd": {"node": None, "userErrors": [{"field": ["id"], "message": "not found"}]}}
        order.tags += [tag for tag in variables["tags"] if tag not in order.tags]
        return {"tagsAdd": {"node": {"id": variables["id"]}, "userErrors": []}}

    def _op_StoreopsOrderPayments(self, variables: dict[str, Any], query: str) -> Any:
        order = self._order(variables["id"])
        if order is None:
            return {"order": None}
        return {"order": {"id": variables["id"], "refunds": order.refunds, "transactions": order.transactions}}

    def _op_StoreopsRefund(self, variables: dict[str, Any], query: str) -> Any:
        key = re.search(r'@idempotent\(key: "([^"]+)"\)', query)
        data = variables["input"]
        order = self._order(data["orderId"])
        if order is None:
            return {"refundCreate": {"refund": None, "userErrors": [{"field": ["orderId"], "message": "not found"}]}}
        for refund in order.refunds:
            if key and refund.get("key") == key.group(1):
                return {"refundCreate": {"refund": {"id": refund["id"]}, "userErrors": []}}
        refund = {
            "id": f"gid://shopify/Refund/{next(self._ids)}",
            "note": data.get("note"),
            "key": key.group(1) if key else None,
            "amount": data["transactions"][0]["amount"],
        }
        order.refunds.append(refund)
        return {"refundCreate": {"refund": {"id": refund["id"]}, "userErrors": []}}

    def _op_StoreopsVariantBySku(self, variables: dict[str, Any], query: str) -> Any:
        sku = str(variables["query"]).removeprefix("sku:")
        item = self.variants_by_sku.get(sku)
        nodes = [{"id": "gid://shopify/ProductVariant/1", "sku": sku, "inventoryItem": {"id": item}}] if item else []
        return {"productVariants": {"nodes": nodes}}

    def _op_StoreopsLocations(self, variables: dict[str, Any], query: str) -> Any:
        return {"locations": {"nodes": self.locations}}

    def _op_StoreopsSetStock(self, variables: dict[str, Any], query: str) -> Any:
        for quantity in variables["input"]["quantities"]:
            self.stock[(quantity["inventoryItemId"], quantity["locationId"])] = int(quantity["quantity"])
        return {
            "inventorySetQuantities": {
                "inventoryAdjustmentGroup": {"id": "gid://shopify/InventoryAdjustmentGroup/1"},
                "userErrors": [],
            }
        }

    # -- reading the shop (import) --

    def _paged(self, items: list[dict[str, Any]], variables: dict[str, Any], size: int) -> dict[str, Any]:
        start = int(variables.get("after") or 0)
        chunk = items[start : start + size]
        more = start + size < len(items)
        return {"pageInfo": {"hasNextPage": more, "endCursor": str(start + size) if more else None}, "nodes": chunk}

    def _op_StoreopsCounts(self, variables: dict[str, Any], query: str) -> Any:
        return {
            "productsCount": {"count": len(self.products)},
            "customersCount": {"count": len(self.customers)},
            "ordersCount": {"count": len(self.open_orders)},
        }

    @staticmethod
    def _first(nodes: list[dict[str, Any]], field: str, size: int) -> list[dict[str, Any]]:
        """Each node with only the first ``size`` of its nested ``field``, as Shopify pages them."""
        out = []
        for node in nodes:
            inner = list((node.get(field) or {}).get("nodes") or [])
            more = len(inner) > size
            connection = {"pageInfo": {"hasNextPage": more, "endCursor": str(size) if more else None}}
            out.append({**node, field: {**connection, "nodes": inner[:size]}})
        return out

    def _rest(self, items: list[dict[str, Any]], variables: dict[str, Any], field: str) -> dict[str, Any] | None:
        found = next((node for node in items if node["id"] == variables["id"]), None)
        if found is None:
            return None
        return {field: self._paged(list((found.get(field) or {}).get("nodes") or []), variables, 100)}

    def _op_StoreopsProducts(self, variables: dict[str, Any], query: str) -> Any:
        page = self._paged(self.products, variables, 20)
        return {"products": {**page, "nodes": self._first(page["nodes"], "variants", 40)}}

    def _op_StoreopsProductVariants(self, variables: dict[str, Any], query: str) -> Any:
        return {"product": self._rest(self.products, variables, "variants")}

    def _op_StoreopsLevels(self, variables: dict[str, Any], query: str) -> Any:
        page = self._paged(self.inventory_items, variables, 50)
        return {"inventoryItems": {**page, "nodes": self._first(page["nodes"], "inventoryLevels", 10)}}

    def _op_StoreopsItemLevels(self, variables: dict[str, Any], query: str) -> Any:
        return {"inventoryItem": self._rest(self.inventory_items, variables, "inventoryLevels")}

    def _op_StoreopsOrderLines(self, variables: dict[str, Any], query: str) -> Any:
        return {"order": self._rest(self.open_orders, variables, "lineItems")}

    def _op_StoreopsCustomers(self, variables: dict[str, Any], query: str) -> Any:
        return {"customers": self._paged(self.customers, variables, 100)}

    def _op_StoreopsOpenOrders(self, variables: dict[str, Any], query: str) -> Any:
        page = self._paged(self.open_orders, variables, 20)
        return {"orders": {**page, "nodes": self._first(page["nodes"], "lineItems", 50)}}

    def stock_store(self, products: int, customers: int, *, location: str = "gid://shopify/Location/1") -> None:
        """A catalogue of ``products`` one-variant products with stock at one location, and
        ``customers`` customers, as the import queries return them."""
        for n in range(1, products + 1):
            item = f"gid://shopify/InventoryItem/{5000 + n}"
            self.products.append(
                {
                    "id": f"gid://shopify/Product/{n}",
                    "title": f"Product {n}",
                    "updatedAt": "2026-11-01T10:00:00Z",
                    "variants": {
                        "nodes": [
                            {
                                "id": f"gid://shopify/ProductVariant/{n}",
                                "sku": f"SKU-{n:05d}",
                                "title": "Default Title",
                                "inventoryQuantity": 10 + n % 7,
                                "updatedAt": "2026-11-01T10:00:00Z",
                                "inventoryItem": {"id": item, "tracked": True},
                            }
                        ]
                    },
                }
            )
            self.inventory_items.append(
                {
                    "id": item,
                    "inventoryLevels": {
                        "nodes": [
                            {
                                "updatedAt": "2026-11-01T10:00:00Z",
                                "location": {"id": location},
                                "quantities": [{"name": "available", "quantity": 10 + n % 7}],
                            }
                        ]
                    },
                }
            )
            self.variants_by_sku[f"SKU-{n:05d}"] = item
        for n in range(1, customers + 1):
            self.customers.append(
                {
                    "id": f"gid://shopify/Customer/{n}",
                    "email": f"customer{n}@example.test",
                    "tags": [],
                    "createdAt": "2025-01-01T00:00:00Z",
                    "updatedAt": "2026-11-01T10:00:00Z",
                    "amountSpent": {"amount": f"{(n % 50) * 10}.00", "currencyCode": "EUR"},
                }
            )


class FakeWooCommerce:
    """A WooCommerce store's REST API v3 (the routes storeops uses), in memory."""

    def __init__(self, key: str = "ck_test", secret: str = "cs_test", *, delay: float = 0.0) -> None:
        self.key, self.secret, self.delay = key, secret, delay
        self.requests: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.orders: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.refunds: dict[int, list[dict[str, Any]]] = {}
        self.products: list[dict[str, Any]] = []
        self.variations: dict[int, list[dict[str, Any]]] = {}
        """A variable product's variations by the product's id."""
        self.customers: list[dict[str, Any]] = []
        self._ids = iter(range(70_000, 10**9))
        base = "/wp-json/wc/v3"
        self.app = Starlette(
            routes=[
                Route(base + "/system_status", self._status, methods=["GET"]),
                Route(base + "/orders", self._orders, methods=["GET"]),
                Route(base + "/orders/{id:int}", self._order, methods=["GET", "PUT"]),
                Route(base + "/orders/{id:int}/notes", self._notes, methods=["GET", "POST"]),
                Route(base + "/orders/{id:int}/refunds", self._refunds, methods=["GET", "POST"]),
                Route(base + "/products", self._products, methods=["GET"]),
                Route(base + "/products/{id:int}", self._product, methods=["PUT"]),
                Route(base + "/products/{id:int}/variations", self._variations, methods=["GET"]),
                Route(base + "/customers", self._customers, methods=["GET"]),
            ]
        )

    async def _check(self, request: Request) -> Response | None:
        import base64

        body = await request.body()
        self.requests.append(
            {
                "method": request.method,
                "path": request.url.path,
                "params": dict(request.query_params),
                "json": json.loads(body) if body else None,
                "headers": dict(request.headers),
            }
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        expected = "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return JSONResponse(
                {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources."},
                status_code=401,
            )
        for fault in list(self.faults):
            self.faults.remove(fault)
            return JSONResponse(
                {"code": "fault", "message": f"fault {fault.status}"}, status_code=fault.status, headers=fault.headers
            )
        return None

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        per_page = int(request.query_params.get("per_page", 10))
        page = int(request.query_params.get("page", 1))
        total_pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        return JSONResponse(chunk, headers={"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(total_pages)})

    async def _status(self, request: Request) -> Response:
        return await self._check(request) or JSONResponse(
            {"environment": {"version": "9.4.0", "site_url": "http://fake"}}
        )

    async def _orders(self, request: Request) -> Response:
        if (refused := await self._check(request)) is not None:
            return refused
        wanted = set((request.query_params.get("status") or "any").split(","))
        items = [o for o in self.orders.values() if "any" in wanted or o["status"] in wanted]
        return self._page(request, items)

    async def _order(self, request: Request) -> Response:
        if (refused := await self._check(request)) is not None:
            return refused
        order = self.orders.get(request.path_params["id"])
        if order is None:
            return JSONResponse(
                {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID."}, status_code=404
            )
        if request.method == "PUT":
            order.update(json.loads(await request.body()))
        return JSONResponse(order)

    async def _notes(self, request: Request) -> Response:
        if (refused := await self._check(request)) is not None:
            return refused
        notes = self.notes.setdefault(request.path_params["id"], [])
        if request.method == "POST":
            data = json.loads(await request.body())
            note = {"id": next(self._ids), "note": data["note"], "customer_note": bool(data.get("customer_note"))}
            notes.append(note)
            return JSONResponse(note, status_code=201)
        return JSONResponse(notes)

    async def _refunds(self, request: Request) -> Response:
        if (refused := await self._check(request)) is not None:
            return refused
        refunds = self.refunds.setdefault(request.path_params["id"], [])
        if request.method == "POST":
            data = json.loads(await request.body())
            refund = {"id": next(self._ids), "amount": data["amount"], "reason": data.get("reason", "")}
            refunds.append(refund)
            return JSONResponse(refund, status_code=201)
        return JSONResponse(refunds)

    async def _products(self, request: Request) -> Response:
        if (refused := await self._check(request)) is not None:
            return refused
        sku = request.query_params.get("sku")
        items = [p for p in self.products if sku is None or p.get("sku") == sku]
        return self._page(request, items)

    async def _product(self, request: Request) -> Response:
        if (refused := await self._check(request)) is not None:
            return refused
        for product in self.products:
            if product["id"] == request.path_params["id"]:
                product.update(json.loads(await request.body()))
                return JSONResponse(product)
        return JSONResponse({"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID."}, status_code=404)

    async def _variations(self, request: Request) -> Response:
        if (refused := await self._check(request)) is not None:
            return refused
        return self._page(request, self.variations.get(request.path_params["id"], []))

    async def _customers(self, request: Request) -> Response:
        if (refused := await self._check(request)) is not None:
            return refused
        return self._page(request, self.customers)


class FakeHooks:
    """Answers every POST under ``/hooks/`` with 200 after ``delay`` seconds, keeping the requests."""

    def __init__(self, delay: float = 0.0, *, keep: bool = True) -> None:
        self.delay = delay
        self.keep = keep
        self.requests: list[dict[str, Any]] = []
        self.count = 0
        self.faults: list[Fault] = []
        self.app = Starlette(routes=[Route("/hooks/{name:path}", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        self.count += 1
        if self.keep:
            self.requests.append({"path": request.url.path, "headers": dict(request.headers), "body": body})
        if self.delay:
            await asyncio.sleep(self.delay)
        for fault in list(self.faults):
            self.faults.remove(fault)
            return Response(f"fault {fault.status}", status_code=fault.status, headers=fault.headers)
        return Response("ok", status_code=200)


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(asgi_app: Any, port: int | None = None, **options: Any) -> Iterator[str]:
    """Serve ``asgi_app`` with uvicorn on a loopback port in a thread; yields its base URL.
    ``options`` are more ``uvicorn.Config`` settings (they win over the defaults here)."""
    import uvicorn

    port = port or free_port()
    settings: dict[str, Any] = {"log_level": "warning", "timeout_graceful_shutdown": 1, "access_log": False}
    config = uvicorn.Config(asgi_app, host="127.0.0.1", port=port, **{**settings, **options})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def _answer_hooks(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """One keep-alive HTTP/1.1 connection of the benchmark's remote: read a request, wait, say 200."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length:
                await reader.readexactly(length)
            if delay:
                await asyncio.sleep(delay)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def _serve_hooks(port: int, delay: float) -> None:
    server = await asyncio.start_server(lambda r, w: _answer_hooks(r, w, delay), "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """``python -m storeops.testing hooks --port P [--delay S]``: a remote for a benchmark to send to,
    answering every request 200 after ``delay`` seconds. A bare asyncio HTTP/1.1 server rather than
    ``FakeHooks`` under uvicorn: on a small machine the remote's own cost would otherwise be taken
    from the sender it is there to measure."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m storeops.testing")
    parser.add_argument("fake", choices=["hooks"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.02)
    args = parser.parse_args(argv)
    asyncio.run(_serve_hooks(args.port, args.delay))


if __name__ == "__main__":
    main()
