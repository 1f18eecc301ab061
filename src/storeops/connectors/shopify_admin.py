"""Shopify's Admin GraphQL API: what storeops sends to a Shopify store, and how it reads one to import it.

- ``ShopifyAdmin``: the GraphQL client. It honours Shopify's cost-based throttling (the leaky
  bucket reported in ``extensions.cost.throttleStatus``: it waits before a query the bucket cannot
  pay for, and after a ``THROTTLED`` error) and HTTP 429 with ``Retry-After``, and turns
  ``userErrors`` into ``Rejected`` with Shopify's words.
- ``ShopifyConnector``: the outbox actions (docs/connectors.md): ``fulfilment.create``,
  ``fulfilment.hold``, ``fulfilment.release``, ``order.cancel``, ``order.tag`` (storefront),
  ``refund.create`` (payments), ``stock.set`` (channels). Each looks before it writes where
  Shopify takes no idempotency key, so a message sent twice takes effect once.
- ``ShopifyPages``: the store's products, stock levels, customers and open orders, page by page,
  in the shapes of Shopify's webhooks, for ``storeops connect shopify``.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from storeops.connectors.base import Rejected, RemoteError, RetryAfter, StorefrontActions
from storeops.connectors.http import json_body, make_client, request
from storeops.money import Money

API_VERSION = "2026-10"
"""The Admin API version storeops speaks: every request names it, and ``connectors check`` says
when the shop answers with another (a version Shopify no longer supports is answered by the oldest
supported one)."""

SOURCE = "shopify"


def gid(kind: str, value: Any) -> str:
    """``gid://shopify/<kind>/<id>`` for a numeric id (an id already global is kept)."""
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def numeric_id(global_id: Any) -> int | str:
    """The number at the end of a global id (``gid://shopify/Order/1001`` → ``1001``), as the
    webhooks (REST) give ids, so an import and a webhook name a resource alike."""
    tail = str(global_id).rsplit("/", 1)[-1].split("?", 1)[0]
    return int(tail) if tail.isdigit() else tail


def idempotency_uuid(key: str) -> str:
    """A UUID standing for an outbox key in Shopify's ``@idempotent(key:)`` (it asks for UUIDs)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"storeops:{key}"))


def marker(key: str) -> str:
    """A short mark of an outbox key, left in notes so a second send finds the first."""
    return "storeops:" + hashlib.sha256(key.encode()).hexdigest()[:12]


class ShopifyAdmin:
    """A GraphQL client for one shop (``https://<shop>.myshopify.com``) and access token."""

    remote = "shopify"

    def __init__(
        self,
        shop_url: str,
        access_token: str,
        client: httpx.Client | None = None,
        *,
        version: str = API_VERSION,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 10.0,
    ) -> None:
        self.shop_url = shop_url.rstrip("/")
        self.endpoint = f"{self.shop_url}/admin/api/{version}/graphql.json"
        self.version = version
        self.client = make_client(client)
        self.headers = {"X-Shopify-Access-Token": access_token, "Content-Type": "application/json"}
        self.sleep = sleep
        self.max_wait = max_wait
        """Longest wait for the cost bucket inside one send; beyond it the message waits in the outbox."""
        self._lock = threading.Lock()
        self._available = 1000.0
        self._restore = 50.0
        self._seen = time.monotonic()
        self.last_version: str | None = None
        """The API version the shop answered with last (``X-Shopify-API-Version``)."""

    def _reserve(self, cost: float) -> None:
        """Wait until the bucket (as last reported, refilled since) can pay ``cost``; then spend it."""
        with self._lock:
            now = time.monotonic()
            available = self._available + (now - self._seen) * self._restore
            self._seen = now
            wait = (cost - available) / self._restore if available < cost else 0.0
            self._available = available - cost
        if wait > self.max_wait:
            raise RetryAfter(wait, f"shopify: the API cost bucket is empty; retry after {wait:.1f} s")
        if wait > 0:
            self.sleep(wait)

    def _note(self, extensions: Mapping[str, Any] | None) -> float | None:
        """Take the bucket's state from a response; returns the query's requested cost."""
        cost = (extensions or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        with self._lock:
            if "currentlyAvailable" in status:
                self._available = float(status["currentlyAvailable"])
                self._seen = time.monotonic()
            if status.get("restoreRate"):
                self._restore = float(status["restoreRate"])
        requested = cost.get("requestedQueryCost")
        return float(requested) if requested is not None else None

    def execute(self, query: str, variables: Mapping[str, Any] | None = None, *, cost: float = 10.0) -> dict[str, Any]:
        """Run one query or mutation and return its ``data``; a ``THROTTLED`` answer is waited out
        and asked again, other GraphQL errors raise (``Rejected`` for a query Shopify refuses)."""
        for _ in range(6):
            self._reserve(cost)
            response = request(
                self.client,
                self.remote,
                "POST",
                self.endpoint,
                json={"query": query, "variables": dict(variables or {})},
                headers=self.headers,
                sleep=self.sleep,
            )
            self.last_version = response.headers.get("X-Shopify-API-Version") or self.last_version
            body = json_body(response, self.remote)
            if not isinstance(body, dict):
                raise RemoteError(f"shopify: the answer is not a GraphQL response: {str(body)[:160]}")
            requested = self._note(body.get("extensions"))
            errors = body.get("errors") or []
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors if isinstance(e, dict)):
                cost = requested or cost
                wait = max(0.0, (cost - self._available) / self._restore)
                if wait > self.max_wait:
                    raise RetryAfter(wait, f"shopify: throttled; retry after {wait:.1f} s")
                self.sleep(wait)
                continue
            if errors:
                messages = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
                if body.get("data") is None:
                    raise Rejected(f"shopify: the query was refused: {messages}")
                raise RemoteError(f"shopify: {messages}")
            data = body.get("data")
            if not isinstance(data, dict):
                raise RemoteError("shopify: the answer has no data")
            return data
        raise RetryAfter(self.max_wait, "shopify: still throttled after several waits")

    def mutate(
        self, name: str, query: str, variables: Mapping[str, Any], *, errors: str = "userErrors"
    ) -> dict[str, Any]:
        """Run mutation ``name`` and return its payload; its user errors raise ``Rejected`` naming
        the fields as Shopify does."""
        data = self.execute(query, variables)
        payload = data.get(name)
        if not isinstance(payload, dict):
            raise RemoteError(f"shopify: {name} answered without its payload")
        problems = [e for e in payload.get(errors) or [] if isinstance(e, dict)]
        if problems:
            described = "; ".join(
                f"{e.get('message')}" + (f" (field {'.'.join(map(str, e['field']))})" if e.get("field") else "")
                for e in problems
            )
            raise Rejected(f"shopify: {name} refused: {described}")
        return payload


# --- the outbox's actions ------------------------------------------------------------------------

ORDER_LOOKUP = """
query StoreopsOrderByName($query: String!) {
  orders(first: 1, query: $query) { nodes { id name } }
}"""

ORDER_STATE = """
query StoreopsOrderState($id: ID!) {
  order(id: $id) {
    id
    name
    cancelledAt
    tags
    fulfillments(first: 50) { id status trackingInfo(first: 10) { number company } }
    fulfillmentOrders(first: 50) { nodes { id status } }
  }
}"""

FULFILLMENT_CREATE = """
mutation StoreopsFulfil($fulfillment: FulfillmentInput!, $message: String) {
  fulfillmentCreate(fulfillment: $fulfillment, message: $message) {
    fulfillment { id status trackingInfo(first: 10) { number company } }
    userErrors { field message }
  }
}"""

HOLD = """
mutation StoreopsHold($id: ID!, $fulfillmentHold: FulfillmentOrderHoldInput!) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: $fulfillmentHold) {
    fulfillmentOrder { id status }
    userErrors { field message }
  }
}"""

RELEASE = """
mutation StoreopsRelease($id: ID!) {
  fulfillmentOrderReleaseHold(id: $id) {
    fulfillmentOrder { id status }
    userErrors { field message }
  }
}"""

ORDER_CANCEL = """
mutation StoreopsCancel($orderId: ID!, $reason: OrderCancelReason!, $refundMethod: OrderCancelRefundMethodInput!,
                        $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refundMethod: $refundMethod, restock: $restock,
              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"""

TAGS_ADD = """
mutation StoreopsTag($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) {
    node { id }
    userErrors { field message }
  }
}"""

ORDER_PAYMENTS = """
query StoreopsOrderPayments($id: ID!) {
  order(id: $id) {
    id
    refunds(first: 50) { id note }
    transactions(first: 50) { id kind status gateway amountSet { shopMoney { amount currencyCode } } }
  }
}"""

REFUND_CREATE = """
mutation StoreopsRefund($input: RefundInput!) {
  refundCreate(input: $input) @idempotent(key: "%s") {
    refund { id }
    userErrors { field message }
  }
}"""

VARIANT_BY_SKU = """
query StoreopsVariantBySku($query: String!) {
  productVariants(first: 1, query: $query) { nodes { id sku inventoryItem { id } } }
}"""

LOCATIONS = """
query StoreopsLocations {
  locations(first: 100) { nodes { id name } }
}"""

INVENTORY_SET = """
mutation StoreopsSetStock($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) @idempotent(key: "%s") {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}"""

SHOP = """
query StoreopsShop {
  shop { name myshopifyDomain currencyCode }
}"""

_CANCEL_REASONS = {"fraud": "FRAUD", "customer": "CUSTOMER", "inventory": "INVENTORY", "declined": "DECLINED"}


class ShopifyConnector(StorefrontActions):
    """The outbox's Shopify connector (one for the storefront, payments and channels names)."""

    remote = "shopify"
    title = "Shopify"

    def __init__(
        self,
        admin: ShopifyAdmin,
        *,
        name: str = "storefront",
        notify_customer: bool = True,
        locations: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.admin = admin
        self.notify_customer = notify_customer
        self.locations = dict(locations or {})
        """Shopify location id → storeops warehouse (``[orders] shopify_locations``)."""
        self._items: dict[str, str] = {}
        self._location_ids: dict[str, str] | None = None
        self._cache = threading.Lock()

    def named(self, name: str) -> ShopifyConnector:
        """The same shop under another outbox name (payments, channels)."""
        twin = ShopifyConnector(self.admin, name=name, notify_customer=self.notify_customer, locations=self.locations)
        twin._items, twin._cache = self._items, self._cache
        return twin

    # -- orders --

    def order_id(self, payload: Mapping[str, Any]) -> str:
        """The order's global id: from its storeops subject (``order:shopify:<id>``), else found by name."""
        subject = str(payload.get("subject") or "")
        if subject.startswith("order:shopify:"):
            return gid("Order", subject.removeprefix("order:shopify:"))
        number = str(payload.get("order") or "").removeprefix("#")
        if not number:
            raise Rejected("shopify: the message names no order")
        found = self.admin.execute(ORDER_LOOKUP, {"query": f"name:#{number}"})["orders"]["nodes"]
        if not found:
            raise Rejected(f"shopify: no order #{number} in the shop")
        return str(found[0]["id"])

    def _state(self, order_id: str) -> dict[str, Any]:
        order = self.admin.execute(ORDER_STATE, {"id": order_id}, cost=30).get("order")
        if not isinstance(order, dict):
            raise Rejected(f"shopify: no order {order_id} in the shop")
        return order

    def _fulfil(self, payload: dict[str, Any], key: str) -> None:
        order_id = self.order_id(payload)
        order = self._state(order_id)
        if order.get("cancelledAt"):
            raise Rejected(f"shopify: order {order.get('name')} was cancelled in Shopify; it is not fulfilled")
        numbers = [str(n) for n in payload.get("tracking_numbers") or []]
        orders_left = [fo for fo in order["fulfillmentOrders"]["nodes"] if fo["status"] != "CLOSED"]
        for held in (fo for fo in orders_left if fo["status"] == "ON_HOLD"):
            # storeops held it while a person looked; fulfilling is the person's go-ahead.
            self.admin.mutate("fulfillmentOrderReleaseHold", RELEASE, {"id": held["id"]})
        open_orders = [fo for fo in orders_left if fo["status"] in ("OPEN", "IN_PROGRESS", "ON_HOLD")]
        if not open_orders:
            ours = {
                str(info.get("number"))
                for fulfillment in order.get("fulfillments") or []
                for info in fulfillment.get("trackingInfo") or []
            }
            if ours & set(numbers) or (not numbers and order.get("fulfillments")):
                return  # sent before (the answer was lost, or the sender was killed): done
            raise Rejected(
                f"shopify: order {order.get('name')} has nothing left to fulfil (fulfilled outside storeops?); "
                "check that the warehouse does not ship it twice"
            )
        for fulfillment_order in open_orders:
            tracking: dict[str, Any] = {"numbers": numbers}
            if payload.get("carrier"):
                tracking["company"] = str(payload["carrier"]).upper()
            if payload.get("tracking_url"):
                tracking["url"] = payload["tracking_url"]
            self.admin.mutate(
                "fulfillmentCreate",
                FULFILLMENT_CREATE,
                {
                    "fulfillment": {
                        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order["id"]}],
                        "trackingInfo": tracking,
                        "notifyCustomer": bool(payload.get("notify_customer", self.notify_customer)),
                    },
                    "message": f"Fulfilled by storeops ({marker(key)})",
                },
            )

    def _hold(self, payload: dict[str, Any], key: str) -> None:
        order = self._state(self.order_id(payload))
        reasons = ", ".join(str(r) for r in payload.get("reasons") or []) or "a person decides"
        for fulfillment_order in order["fulfillmentOrders"]["nodes"]:
            if fulfillment_order["status"] != "OPEN":
                continue  # already held (a second send), in progress or done
            self.admin.mutate(
                "fulfillmentOrderHold",
                HOLD,
                {
                    "id": fulfillment_order["id"],
                    "fulfillmentHold": {
                        "reason": "OTHER",
                        "reasonNotes": f"storeops: {reasons} (handed to a person)"[:255],
                        "notifyMerchant": False,
                    },
                },
            )

    def _release(self, payload: dict[str, Any], key: str) -> None:
        order = self._state(self.order_id(payload))
        for fulfillment_order in order["fulfillmentOrders"]["nodes"]:
            if fulfillment_order["status"] == "ON_HOLD":
                self.admin.mutate("fulfillmentOrderReleaseHold", RELEASE, {"id": fulfillment_order["id"]})

    def _cancel(self, payload: dict[str, Any], key: str) -> None:
        order_id = self.order_id(payload)
        order = self._state(order_id)
        if order.get("cancelledAt"):
            return  # cancelled already (by a first send, or in Shopify)
        reason = str(payload.get("reason") or "")
        code = next((value for word, value in _CANCEL_REASONS.items() if word in reason.lower()), "OTHER")
        self.admin.mutate(
            "orderCancel",
            ORDER_CANCEL,
            {
                "orderId": order_id,
                "reason": code,
                # storeops refunds with a refund.create of its own (payments), never twice.
                "refundMethod": {"originalPaymentMethodsRefund": bool(payload.get("refund", False))},
                "restock": True,
                "notifyCustomer": bool(payload.get("notify_customer", self.notify_customer)),
                "staffNote": f"storeops: {reason}"[:255] if reason else "storeops",
            },
            errors="orderCancelUserErrors",
        )

    def _tag(self, payload: dict[str, Any], key: str) -> None:
        tags = [str(tag)[:40] for tag in payload.get("tags") or [] if str(tag).strip()]
        if not tags:
            return
        target = gid("Customer", payload["customer_id"]) if payload.get("customer_id") else self.order_id(payload)
        self.admin.mutate("tagsAdd", TAGS_ADD, {"id": target, "tags": tags})

    def _refund(self, payload: dict[str, Any], key: str) -> None:
        order_id = self.order_id(payload)
        order = self.admin.execute(ORDER_PAYMENTS, {"id": order_id}, cost=20).get("order")
        if not isinstance(order, dict):
            raise Rejected(f"shopify: no order {order_id} in the shop")
        mark = marker(key)
        if any(mark in str(refund.get("note") or "") for refund in order.get("refunds") or []):
            return  # refunded by an earlier send
        paid = [
            t
            for t in order.get("transactions") or []
            if t.get("kind") in ("SALE", "CAPTURE") and t.get("status") == "SUCCESS"
        ]
        if not paid:
            raise Rejected(f"shopify: order {order_id} has no captured payment to refund")
        parent = paid[0]
        money = Money(int(payload["amount_minor"]), str(payload["currency"]))
        captured = Decimal(str(parent["amountSet"]["shopMoney"]["amount"]))
        amount = min(Decimal(money.decimal_text()), captured)
        self.admin.mutate(
            "refundCreate",
            REFUND_CREATE % idempotency_uuid(key),
            {
                "input": {
                    "orderId": order_id,
                    "note": f"{payload.get('reason') or 'Refund'} ({mark})"[:255],
                    "notify": bool(payload.get("notify_customer", self.notify_customer)),
                    "transactions": [
                        {
                            "orderId": order_id,
                            "parentId": parent["id"],
                            "gateway": parent["gateway"],
                            "kind": "REFUND",
                            "amount": str(amount),
                        }
                    ],
                }
            },
        )

    # -- stock --

    def _inventory_item(self, sku: str) -> str:
        with self._cache:
            known = self._items.get(sku)
        if known:
            return known
        nodes = self.admin.execute(VARIANT_BY_SKU, {"query": f"sku:{sku}"})["productVariants"]["nodes"]
        if not nodes or not nodes[0].get("inventoryItem"):
            raise Rejected(f"shopify: no variant with SKU {sku!r} in the shop")
        item = str(nodes[0]["inventoryItem"]["id"])
        with self._cache:
            self._items[sku] = item
        return item

    def _location(self, location: str) -> str:
        for shopify_id, warehouse in self.locations.items():
            if warehouse == location:
                return gid("Location", shopify_id)
        if location.isdigit() or location.startswith("gid://"):
            return gid("Location", location)  # an unmapped Shopify location keeps its id as its name
        if self._location_ids is None:
            nodes = self.admin.execute(LOCATIONS)["locations"]["nodes"]
            self._location_ids = {str(node["name"]): str(node["id"]) for node in nodes}
        if location not in self._location_ids:
            raise Rejected(
                f"shopify: no Shopify location for warehouse {location!r}; map it in [orders] shopify_locations"
            )
        return self._location_ids[location]

    def _stock(self, payload: dict[str, Any], key: str) -> None:
        item = self._inventory_item(str(payload["sku"]))
        location = self._location(str(payload["location"]))
        self.admin.mutate(
            "inventorySetQuantities",
            INVENTORY_SET % idempotency_uuid(key),
            {
                "input": {
                    "name": "available",
                    "reason": "correction",
                    "referenceDocumentUri": f"gid://storeops/StockSet/{marker(key).split(':')[1]}",
                    # storeops is the source of truth of what may be sold: no compare-and-swap.
                    "quantities": [
                        {
                            "inventoryItemId": item,
                            "locationId": location,
                            "quantity": int(payload["available"]),
                            "changeFromQuantity": None,
                        }
                    ],
                }
            },
        )

    def check(self) -> str:
        """One line on the shop: reachable, token accepted, the API version it answered with."""
        shop = self.admin.execute(SHOP)["shop"]
        answered = self.admin.last_version or "?"
        note = "" if answered == self.admin.version else f" — it answered with {answered}: update storeops"
        return f"{shop.get('name')} ({shop.get('myshopifyDomain')}), Admin API {self.admin.version}{note}"


# --- reading a store for an import ---------------------------------------------------------------

_VARIANT = "id sku title inventoryQuantity updatedAt inventoryItem { id tracked }"
_LEVEL = 'updatedAt location { id } quantities(names: ["available"]) { name quantity }'
_LINE = "sku title quantity variant { id } originalUnitPriceSet { shopMoney { amount } }"

PRODUCTS = """
query StoreopsProducts($after: String) {
  products(first: 20, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id title updatedAt
      variants(first: 40) {
        pageInfo { hasNextPage endCursor }
        nodes { VARIANT }
      }
    }
  }
}""".replace("VARIANT", _VARIANT)

PRODUCT_VARIANTS = """
query StoreopsProductVariants($id: ID!, $after: String) {
  product(id: $id) {
    variants(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { VARIANT }
    }
  }
}""".replace("VARIANT", _VARIANT)

LEVELS = """
query StoreopsLevels($after: String) {
  inventoryItems(first: 50, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      inventoryLevels(first: 10) {
        pageInfo { hasNextPage endCursor }
        nodes { LEVEL }
      }
    }
  }
}""".replace("LEVEL", _LEVEL)

ITEM_LEVELS = """
query StoreopsItemLevels($id: ID!, $after: String) {
  inventoryItem(id: $id) {
    inventoryLevels(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { LEVEL }
    }
  }
}""".replace("LEVEL", _LEVEL)

CUSTOMERS = """
query StoreopsCustomers($after: String) {
  customers(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id email tags createdAt updatedAt amountSpent { amount currencyCode } }
  }
}"""

_ADDRESS = "name firstName lastName address1 address2 city zip provinceCode countryCodeV2 phone"
ORDERS = """
query StoreopsOpenOrders($after: String) {
  orders(first: 20, after: $after, query: "status:open") {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name email createdAt updatedAt cancelledAt cancelReason sourceName clientIp
      currencyCode displayFinancialStatus displayFulfillmentStatus taxesIncluded
      totalPriceSet { shopMoney { amount } }
      totalTaxSet { shopMoney { amount } }
      totalDiscountsSet { shopMoney { amount } }
      totalShippingPriceSet { shopMoney { amount } }
      customer { id email tags createdAt }
      shippingAddress { ADDRESS }
      billingAddress { ADDRESS }
      lineItems(first: 50) {
        pageInfo { hasNextPage endCursor }
        nodes { LINE }
      }
    }
  }
}""".replace("ADDRESS", _ADDRESS).replace("LINE", _LINE)

ORDER_LINES = """
query StoreopsOrderLines($id: ID!, $after: String) {
  order(id: $id) {
    lineItems(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { LINE }
    }
  }
}""".replace("LINE", _LINE)

NESTED: dict[str, tuple[str, str, str]] = {
    "products": ("variants", PRODUCT_VARIANTS, "product"),
    "inventory_levels": ("inventoryLevels", ITEM_LEVELS, "inventoryItem"),
    "orders": ("lineItems", ORDER_LINES, "order"),
}
"""Per resource: the connection inside each node a page carries only the start of (a product's
variants, an item's levels, an order's lines), the query that reads the rest, and its root."""

COUNTS = """
query StoreopsCounts {
  productsCount { count }
  customersCount { count }
  ordersCount(query: "status:open") { count }
}"""


@dataclass(frozen=True)
class Page:
    """One page of a resource: its items in the webhooks' shapes, and the cursor of the next (None: last)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def _money(node: Mapping[str, Any] | None) -> str | None:
    return None if not node else str(node["shopMoney"]["amount"])


def _address(node: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not node:
        return None
    return {
        "name": node.get("name"),
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "address1": node.get("address1"),
        "address2": node.get("address2"),
        "city": node.get("city"),
        "zip": node.get("zip"),
        "province_code": node.get("provinceCode"),
        "country_code": node.get("countryCodeV2"),
        "phone": node.get("phone"),
    }


def _customer(node: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not node:
        return None
    out: dict[str, Any] = {"id": numeric_id(node["id"]), "email": node.get("email"), "tags": node.get("tags") or []}
    if node.get("createdAt"):
        out["created_at"] = node["createdAt"]
    if node.get("updatedAt"):
        out["updated_at"] = node["updatedAt"]
    spent = node.get("amountSpent")
    if spent:
        out["total_spent"] = str(spent["amount"])
        out["currency"] = spent["currencyCode"]
    return out


def product_body(node: Mapping[str, Any]) -> dict[str, Any]:
    """A GraphQL product as the ``products/create`` webhook carries it."""
    variants = []
    for variant in node["variants"]["nodes"]:
        item = variant.get("inventoryItem") or {}
        variants.append(
            {
                "id": numeric_id(variant["id"]),
                "sku": variant.get("sku") or None,
                "title": variant.get("title"),
                "inventory_item_id": numeric_id(item["id"]) if item.get("id") else None,
                "inventory_management": "shopify" if item.get("tracked") else None,
                "inventory_quantity": variant.get("inventoryQuantity"),
                "updated_at": variant.get("updatedAt"),
            }
        )
    return {
        "id": numeric_id(node["id"]),
        "title": node.get("title"),
        "updated_at": node.get("updatedAt"),
        "variants": variants,
    }


def level_bodies(node: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A GraphQL inventory item's levels as ``inventory_levels/update`` webhooks carry them."""
    out = []
    for level in node["inventoryLevels"]["nodes"]:
        available = next((q["quantity"] for q in level.get("quantities") or [] if q.get("name") == "available"), 0)
        out.append(
            {
                "inventory_item_id": numeric_id(node["id"]),
                "location_id": numeric_id(level["location"]["id"]),
                "available": available,
                "updated_at": level.get("updatedAt"),
            }
        )
    return out


def order_body(node: Mapping[str, Any]) -> dict[str, Any]:
    """A GraphQL order as the ``orders/create`` webhook carries it (the fields storeops reads)."""
    fulfilment = str(node.get("displayFulfillmentStatus") or "").lower()
    lines = []
    for line in node["lineItems"]["nodes"]:
        variant = line.get("variant") or {}
        lines.append(
            {
                "sku": line.get("sku") or None,
                "variant_id": numeric_id(variant["id"]) if variant.get("id") else None,
                "title": line.get("title"),
                "quantity": line.get("quantity"),
                "price": _money(line.get("originalUnitPriceSet")),
            }
        )
    body: dict[str, Any] = {
        "id": numeric_id(node["id"]),
        "name": node.get("name"),
        "email": node.get("email"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "cancel_reason": (node.get("cancelReason") or "").lower() or None,
        "source_name": node.get("sourceName"),
        "browser_ip": node.get("clientIp"),
        "currency": node.get("currencyCode"),
        "financial_status": (node.get("displayFinancialStatus") or "").lower() or None,
        "fulfillment_status": {"fulfilled": "fulfilled", "partially_fulfilled": "partial"}.get(fulfilment),
        "taxes_included": bool(node.get("taxesIncluded")),
        "total_price": _money(node.get("totalPriceSet")),
        "total_tax": _money(node.get("totalTaxSet")),
        "total_discounts": _money(node.get("totalDiscountsSet")),
        "shipping_lines": [{"price": _money(node.get("totalShippingPriceSet")) or "0.00"}],
        "customer": _customer(node.get("customer")),
        "shipping_address": _address(node.get("shippingAddress")),
        "billing_address": _address(node.get("billingAddress")),
        "line_items": lines,
    }
    return {key: value for key, value in body.items() if value is not None}


RESOURCES: tuple[tuple[str, str], ...] = (
    ("products", "products/create"),
    ("inventory_levels", "inventory_levels/update"),
    ("customers", "customers/create"),
    ("orders", "orders/create"),
)
"""What an import reads, in order (the catalogue before its stock, customers before their orders),
each with the webhook topic its items are read as."""


class ShopifyPages:
    """A Shopify store read page by page (cursor pagination) for ``storeops connect shopify``."""

    source = SOURCE
    resources = RESOURCES

    def __init__(self, admin: ShopifyAdmin) -> None:
        self.admin = admin

    def close(self) -> None:
        """Close the connections to the shop."""
        self.admin.client.close()

    def totals(self) -> dict[str, int | None]:
        """How many of each resource there are (None where Shopify does not count them)."""
        data = self.admin.execute(COUNTS)
        return {
            "products": int(data["productsCount"]["count"]),
            "inventory_levels": None,
            "customers": int(data["customersCount"]["count"]),
            "orders": int(data["ordersCount"]["count"]),
        }

    def page(self, resource: str, cursor: str | None) -> Page:
        """The page of ``resource`` after ``cursor`` (None: the first)."""
        query, root, cost = {
            "products": (PRODUCTS, "products", 850.0),
            "inventory_levels": (LEVELS, "inventoryItems", 560.0),
            "customers": (CUSTOMERS, "customers", 110.0),
            "orders": (ORDERS, "orders", 900.0),
        }[resource]
        data = self.admin.execute(query, {"after": cursor}, cost=cost)[root]
        nodes = [self._whole(resource, node) for node in data["nodes"]]
        if resource == "products":
            items = [product_body(node) for node in nodes]
        elif resource == "inventory_levels":
            items = [level for node in nodes for level in level_bodies(node)]
        elif resource == "customers":
            items = [body for node in nodes if (body := _customer(node)) is not None]
        else:
            items = [order_body(node) for node in nodes]
        info = data["pageInfo"]
        return Page(items, str(info["endCursor"]) if info.get("hasNextPage") else None)

    def _whole(self, resource: str, node: dict[str, Any]) -> dict[str, Any]:
        """``node`` with the rest of its nested connection read (a product's 41st variant on, an
        order's 51st line on): a page asks for the first few only, and leaving the rest out would
        import a product without some of its SKUs or an order without some of its lines."""
        if resource not in NESTED:
            return node
        field, query, root = NESTED[resource]
        connection = node.get(field) or {}
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return node
        collected = list(connection.get("nodes") or [])
        after = info.get("endCursor")
        while after:
            rest = (self.admin.execute(query, {"id": node["id"], "after": after}, cost=110.0).get(root) or {}).get(
                field
            )
            if not rest:
                break
            collected.extend(rest.get("nodes") or [])
            more = rest.get("pageInfo") or {}
            after = more.get("endCursor") if more.get("hasNextPage") else None
        return {**node, field: {"nodes": collected}}

    def pages(self, resource: str, cursor: str | None = None) -> Iterator[Page]:
        """Every page of ``resource`` from ``cursor`` on."""
        while True:
            page = self.page(resource, cursor)
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor
