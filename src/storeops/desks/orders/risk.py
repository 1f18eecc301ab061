"""Order risk: a score from 0 to 1 with the factors behind it.

Two models stand in the same place (``RiskModel``): cold-start rules for a store with no
history, and a gradient-boosting model trained on the store's own resolved handoffs
(``storeops models train orders-risk``). Both score the same feature vector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, exists, func, select

from storeops.artifacts import StaleArtifact, current_artifact, load_artifact, save_artifact, sklearn_version
from storeops.desks.orders.tables import orders
from storeops.engine.models import ModelPlaces

FEATURES: tuple[str, ...] = (
    "account_age_seconds",
    "order_value",
    "value_vs_history",
    "previous_orders",
    "ship_bill_country_differ",
    "ip_country_differs",
    "device_shared_customers",
    "ip_shared_customers",
    "address_shared_customers",
    "orders_last_24h",
    "high_value_units",
    "failed_payments",
    "hour_of_day",
)
"""The feature vector every risk model scores, in this order. -1 means unknown."""

HIGH_VALUE_UNIT_MINOR = 10000
"""A unit at or above this price (store currency minor units) counts as high-value."""


@dataclass(frozen=True)
class OrderFacts:
    """What the features are computed from, already normalised."""

    subject: str
    customer: str
    placed_at: datetime
    signed_up_at: datetime | None
    store_total_minor: int
    lines: Sequence[Mapping[str, Any]]
    shipping_country: str | None
    billing_country: str | None
    ip_country: str | None
    ip: str | None
    device: str | None
    address_key: str | None
    failed_payments: int


def _count_customers_sharing(column: Any) -> Any:
    return (
        select(func.count(func.distinct(orders.c.customer)))
        .where(
            column == bindparam(column.name),
            orders.c.customer != bindparam("customer"),
            orders.c.placed_at >= bindparam("share_since"),
        )
        .scalar_subquery()
    )


# One statement for everything an order's decision needs from the store's history, built once:
# per-order statement building and cache-key work cost more than the queries themselves.
HISTORY = select(
    exists().where(orders.c.subject == bindparam("subject")).label("known"),
    select(func.count())
    .where(orders.c.customer == bindparam("customer"), orders.c.placed_at < bindparam("placed_at"))
    .scalar_subquery()
    .label("previous"),
    select(func.coalesce(func.sum(orders.c.store_total_minor), 0))
    .where(orders.c.customer == bindparam("customer"), orders.c.placed_at < bindparam("placed_at"))
    .scalar_subquery()
    .label("spent"),
    select(func.count())
    .where(
        orders.c.customer == bindparam("customer"),
        orders.c.placed_at >= bindparam("day_before"),
        orders.c.placed_at < bindparam("placed_at"),
    )
    .scalar_subquery()
    .label("recent"),
    select(func.count())
    .where(
        orders.c.customer == bindparam("customer"),
        orders.c.address_mismatch == 1,
        orders.c.placed_at >= bindparam("mismatch_since"),
    )
    .scalar_subquery()
    .label("mismatches"),
    select(orders.c.subject)
    .where(
        orders.c.customer == bindparam("customer"),
        orders.c.line_signature == bindparam("signature"),
        orders.c.placed_at >= bindparam("duplicate_since"),
        orders.c.status != "cancelled",
    )
    .order_by(orders.c.id)
    .limit(1)
    .scalar_subquery()
    .label("duplicate_of"),
    _count_customers_sharing(orders.c.device).label("device_shared"),
    _count_customers_sharing(orders.c.ip).label("ip_shared"),
    _count_customers_sharing(orders.c.address_key).label("address_shared"),
)


@dataclass(frozen=True)
class History:
    """What the store already knows about an order's customer and its device, IP and address."""

    known: bool
    """An order with this subject was already decided."""
    previous: int
    spent_minor: int
    recent: int
    mismatches: int
    duplicate_of: str | None
    device_shared: int
    ip_shared: int
    address_shared: int


def order_history(
    conn: Connection, facts: OrderFacts, *, signature: str, mismatch_since: datetime, duplicate_since: datetime | None
) -> History:
    """The customer's earlier orders, mismatches in the window, a duplicate, and sharing (30 days)."""
    row = conn.execute(
        HISTORY,
        {
            "subject": facts.subject,
            "customer": facts.customer,
            "placed_at": facts.placed_at,
            "day_before": facts.placed_at - timedelta(hours=24),
            "mismatch_since": mismatch_since,
            "signature": signature,
            # no window: a moment after the order, which no earlier order can match
            "duplicate_since": duplicate_since or facts.placed_at + timedelta(days=1),
            "share_since": facts.placed_at - timedelta(days=30),
            "device": facts.device or "",
            "ip": facts.ip or "",
            "address_key": facts.address_key or "",
        },
    ).one()
    return History(
        known=bool(row.known),
        previous=int(row.previous),
        spent_minor=int(row.spent),
        recent=int(row.recent),
        mismatches=int(row.mismatches),
        duplicate_of=row.duplicate_of,
        device_shared=int(row.device_shared),
        ip_shared=int(row.ip_shared),
        address_shared=int(row.address_shared),
    )


def compute_features(facts: OrderFacts, history: History, *, store_exponent: int = 2) -> dict[str, float]:
    """The feature vector of an order, from its facts and the store's history."""
    scale = 10**store_exponent
    value = facts.store_total_minor / scale
    average = history.spent_minor / history.previous / scale if history.previous else None
    age = (facts.placed_at - facts.signed_up_at).total_seconds() if facts.signed_up_at else -1.0
    return {
        "account_age_seconds": max(age, 0.0) if age != -1.0 else -1.0,
        "order_value": value,
        "value_vs_history": value / average if average else 1.0,
        "previous_orders": float(history.previous),
        "ship_bill_country_differ": _differ(facts.shipping_country, facts.billing_country),
        "ip_country_differs": _differ(facts.ip_country, facts.billing_country),
        "device_shared_customers": float(history.device_shared) if facts.device else -1.0,
        "ip_shared_customers": float(history.ip_shared) if facts.ip else -1.0,
        "address_shared_customers": float(history.address_shared) if facts.address_key else -1.0,
        "orders_last_24h": float(history.recent),
        "high_value_units": float(
            sum(int(line["quantity"]) for line in facts.lines if int(line["unit_price_minor"]) >= HIGH_VALUE_UNIT_MINOR)
        ),
        "failed_payments": float(facts.failed_payments),
        "hour_of_day": float(facts.placed_at.hour),
    }


def _differ(a: str | None, b: str | None) -> float:
    if not a or not b:
        return -1.0
    return 1.0 if a.upper() != b.upper() else 0.0


class RiskModel(Protocol):
    """Anything that scores orders: rules, a trained model, an LLM."""

    version: str

    def score(self, features: Mapping[str, float]) -> float: ...

    def explain(self, features: Mapping[str, float]) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class _Rule:
    name: str
    weight: float
    text: str


class RuleRiskModel:
    """Cold-start rules, combined as a noisy-or: 1 − Π(1 − weight) over the rules that fire."""

    version = "rules-1"

    def _fired(self, f: Mapping[str, float]) -> list[_Rule]:
        fired = []
        age = f["account_age_seconds"]
        if 0 <= age < 60:
            fired.append(_Rule("account_age_seconds", 0.55, f"bought {age:.0f} s after signing up"))
        elif 0 <= age < 3600:
            fired.append(_Rule("account_age_seconds", 0.25, f"bought {age / 60:.0f} min after signing up"))
        if f["ship_bill_country_differ"] == 1:
            fired.append(_Rule("ship_bill_country_differ", 0.2, "ships to another country than it bills"))
        if f["ip_country_differs"] == 1:
            fired.append(_Rule("ip_country_differs", 0.2, "ordered from another country than it bills"))
        for key, label in (("device_shared_customers", "device"), ("ip_shared_customers", "IP address")):
            if f[key] >= 2:
                fired.append(_Rule(key, 0.3, f"{label} used by {f[key]:.0f} other customers in 30 days"))
        if f["address_shared_customers"] >= 3:
            fired.append(
                _Rule(
                    "address_shared_customers",
                    0.2,
                    f"address used by {f['address_shared_customers']:.0f} other customers",
                )
            )
        if f["orders_last_24h"] >= 3:
            fired.append(_Rule("orders_last_24h", 0.15, f"{f['orders_last_24h']:.0f} orders in the last 24 h"))
        if f["high_value_units"] >= 3:
            fired.append(_Rule("high_value_units", 0.2, f"{f['high_value_units']:.0f} high-value units"))
        if f["previous_orders"] > 0 and f["value_vs_history"] >= 5:
            fired.append(_Rule("value_vs_history", 0.15, f"{f['value_vs_history']:.1f}× the customer's average order"))
        if f["failed_payments"] >= 2:
            fired.append(_Rule("failed_payments", 0.25, f"{f['failed_payments']:.0f} failed payment attempts"))
        return fired

    def score(self, features: Mapping[str, float]) -> float:
        keep = 1.0
        for rule in self._fired(features):
            keep *= 1 - rule.weight
        return round(1 - keep, 4)

    def explain(self, features: Mapping[str, float]) -> list[dict[str, Any]]:
        rules = sorted(self._fired(features), key=lambda r: -r.weight)
        return [{"factor": r.name, "weight": r.weight, "value": features[r.name], "why": r.text} for r in rules[:3]]


def features_matrix(rows: Sequence[Mapping[str, float]]) -> list[list[float]]:
    """Rows of feature dicts as a matrix in FEATURES order."""
    return [[float(row.get(name, -1.0)) for name in FEATURES] for row in rows]


class TrainedRiskModel:
    """A scikit-learn classifier over FEATURES, with ablation explanations."""

    def __init__(self, estimator: Any, version: str, medians: Mapping[str, float]) -> None:
        self.estimator = estimator
        self.version = version
        self.medians = dict(medians)

    def score(self, features: Mapping[str, float]) -> float:
        return round(float(self.estimator.predict_proba(features_matrix([features]))[0][1]), 4)

    def explain(self, features: Mapping[str, float]) -> list[dict[str, Any]]:
        """Top factors: how much the score drops when each feature is set to its typical value."""
        base = self.score(features)
        variants = [{**features, name: self.medians[name]} for name in FEATURES]
        scores = self.estimator.predict_proba(features_matrix(variants))[:, 1]
        effects = sorted(
            ((name, round(base - float(s), 4)) for name, s in zip(FEATURES, scores, strict=True)),
            key=lambda item: -item[1],
        )
        return [{"factor": n, "value": features[n], "weight": w} for n, w in effects[:3] if w > 0]

    def save(self, folder: Path) -> Path:
        """Write the artifact as ``orders-risk-<version>.pkl`` and make it current."""
        data = {"estimator": self.estimator, "version": self.version, "medians": self.medians}
        return save_artifact(folder, "orders-risk", self.version, data)


def load_risk_model(folder: Path | None) -> RiskModel:
    """The current trained model in ``folder``, or the cold-start rules when there is none."""
    data = load_artifact(folder, "orders-risk") if folder is not None else None
    if data is None:
        return RuleRiskModel()
    return TrainedRiskModel(data["estimator"], data["version"], data["medians"])


def load_models(places: ModelPlaces) -> RiskModel:
    """The orders desk's ``load_models``: the store's trained risk model, or the cold-start rules
    when there is none or it was trained by another scikit-learn (saying why)."""
    try:
        return load_risk_model(places.models_dir)
    except StaleArtifact as exc:
        places.report(
            f"orders: not using the store's risk model ({exc}): retrain it with storeops models train orders-risk"
        )
        return RuleRiskModel()


def describe_risk_model(folder: Path) -> dict[str, Any]:
    """The risk model a worker of this store uses, for ``storeops status`` (nothing is loaded)."""
    info = current_artifact(folder, "orders-risk")
    line: dict[str, Any] = {
        "name": "orders-risk",
        "source": "rules",
        "version": RuleRiskModel.version,
        "trained_at": None,
        "path": None,
        "sklearn_version": None,
        "data_digest": None,
        "ready": True,
        "note": "cold-start rules; storeops models train orders-risk learns the store's own from resolved handoffs",
    }
    if info is None:
        return line
    if info.stale:
        line["note"] = (
            f"the store's model {info.version} was trained with scikit-learn {info.sklearn_version} "
            f"(this is {sklearn_version()}): using the rules until storeops models train orders-risk retrains it"
        )
        return line
    details = info.as_json()
    return {
        **line,
        "source": "store",
        "version": info.version,
        "trained_at": details["trained_at"],
        "path": details["path"],
        "sklearn_version": info.sklearn_version,
        "note": "",
    }


def train_risk_model(
    rows: Sequence[Mapping[str, float]], labels: Sequence[int], version: str, *, seed: int = 0
) -> TrainedRiskModel:
    """Fit the store's risk model (gradient boosting) on feature rows and 0/1 fraud labels."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    # A small store has few decisions: let leaves shrink with the data instead of the default 20.
    estimator = HistGradientBoostingClassifier(
        max_iter=300,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=max(2, min(20, len(rows) // 20)),
        l2_regularization=1.0,
        random_state=seed,
    )
    matrix = features_matrix(rows)
    estimator.fit(matrix, list(labels))
    medians = {name: _median([row[i] for row in matrix]) for i, name in enumerate(FEATURES)}
    return TrainedRiskModel(estimator, version, medians)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else -1.0


__all__ = [
    "FEATURES",
    "History",
    "OrderFacts",
    "RiskModel",
    "RuleRiskModel",
    "TrainedRiskModel",
    "compute_features",
    "order_history",
]
