"""Training the store's own risk model from the decisions people made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from storeops.clock import utcnow
from storeops.desks.orders.risk import TrainedRiskModel, train_risk_model
from storeops.desks.orders.tables import orders
from storeops.errors import InvalidInput
from storeops.storage.schema import handoffs


@dataclass(frozen=True)
class TrainingSet:
    """Feature rows and labels: 1 = a person rejected the order, 0 = a person approved it."""

    rows: list[dict[str, float]]
    labels: list[int]

    @property
    def rejected(self) -> int:
        return sum(self.labels)

    @property
    def approved(self) -> int:
        return len(self.labels) - self.rejected


def labelled_orders(conn: Connection) -> TrainingSet:
    """Every held order a person resolved, with the features it was scored on."""
    query = (
        select(orders.c.features, handoffs.c.resolution)
        .join(handoffs, handoffs.c.subject == orders.c.subject)
        .where(
            handoffs.c.desk == "orders",
            handoffs.c.state == "resolved",
            handoffs.c.resolution.in_(["approve", "reject"]),
            orders.c.features.is_not(None),
        )
        .order_by(handoffs.c.id)
    )
    rows, labels = [], []
    for features, resolution in conn.execute(query):
        rows.append({k: float(v) for k, v in features.items()})
        labels.append(1 if resolution == "reject" else 0)
    return TrainingSet(rows, labels)


def train_from_resolutions(
    conn: Connection, *, min_each: int = 10, now: datetime | None = None
) -> tuple[TrainedRiskModel, TrainingSet]:
    """Fit a model on the store's resolutions; InvalidInput when there are too few of either kind."""
    data = labelled_orders(conn)
    if data.rejected < min_each or data.approved < min_each:
        raise InvalidInput(
            f"not enough decisions to learn from: {data.rejected} rejected and {data.approved} approved orders "
            f"(need {min_each} of each); keep resolving order handoffs, or lower --min-each"
        )
    version = (now or utcnow()).strftime("%Y%m%d%H%M%S")
    return train_risk_model(data.rows, data.labels, version), data
