"""One outbox name, several remotes: a storefront message goes to the store the order came from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storeops.connectors.base import Connector


class BySource:
    """Sends each message to the connector named by its payload's ``field`` (``source`` for orders,
    ``channel`` for stock), else to ``fallback`` (the local file connector: a simulated order, a
    channel no remote is configured for)."""

    def __init__(self, name: str, field: str, routes: Mapping[str, Connector], fallback: Connector) -> None:
        self.name = name
        self.field = field
        self.routes = dict(routes)
        self.fallback = fallback

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None:
        target = self.routes.get(str(payload.get(self.field) or ""), self.fallback)
        target.send(action, payload, idempotency_key)
