"""Which reason classifier the returns desk reads with: the store's own, trained with the
corrections its people made (``storeops models train returns-reasons``), else the default trained
from the shipped examples on first use (about a second; nothing to cache)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from storeops.artifacts import StaleArtifact, current_artifact, load_artifact, save_artifact, sklearn_version
from storeops.desks.returns.classify import ReasonClassifier, default_classifier, shipped_examples, train
from storeops.desks.returns.tables import returns
from storeops.engine.models import ModelPlaces

NAME = "returns-reasons"
DEFAULT_NOTE = "trained from the shipped examples when a worker first needs it (under 2 s); nothing to build"


def corrections(conn: Connection) -> list[tuple[str, str]]:
    """``(customer's words, category)`` of every return whose reading a person corrected."""
    rows = conn.execute(
        select(returns.c.reason_text, returns.c.reason_corrected).where(
            returns.c.reason_corrected.is_not(None), returns.c.reason_text != ""
        )
    )
    return [(str(text), str(category)) for text, category in rows]


def train_for_store(conn: Connection, models_dir: Path) -> tuple[Path, str]:
    """Train on the shipped examples plus the store's corrections; save it as the current model."""
    labels = corrections(conn)
    version = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    classifier = train(shipped_examples(), corrections=labels)
    path = save_artifact(
        models_dir, NAME, version, {"classifier": classifier, "version": version}, corrections=len(labels)
    )
    return path, f"version {version} on the shipped examples and {len(labels)} corrections by people"


def load_for_store(models_dir: Path, *, report: Callable[[str], None]) -> Any:
    """The store's own classifier when it has a usable one, else the default."""
    try:
        data = load_artifact(models_dir, NAME)
    except StaleArtifact as exc:
        report(f"returns: not using the store's own {NAME} ({exc}): retrain it with storeops models train {NAME}")
        data = None
    if data is not None and isinstance(data.get("classifier"), ReasonClassifier):
        return data["classifier"]
    return default_classifier()


def load_models(places: ModelPlaces) -> Any:
    """The returns desk's ``load_models``."""
    return load_for_store(places.models_dir, report=places.report)


def describe(models_dir: Path) -> dict[str, Any]:
    """The classifier a worker of this store would read reasons with (``storeops status``), found
    without loading it."""
    own = current_artifact(models_dir, NAME)
    if own is not None and not own.stale:
        return {
            "name": NAME,
            "source": "store",
            "version": own.version,
            "trained_at": own.trained_at.isoformat() if own.trained_at else None,
            "path": str(own.path),
            "sklearn_version": own.sklearn_version,
            "data_digest": None,
            "ready": True,
            "note": f"the shipped examples plus {own.details.get('corrections', 0)} corrections by people",
        }
    note = DEFAULT_NOTE
    if own is not None:
        note = f"the store's own {NAME} was trained with scikit-learn {own.sklearn_version}: retrain it. {note}"
    return {
        "name": NAME,
        "source": "default",
        "version": "shipped-examples",
        "trained_at": None,
        "path": None,
        "sklearn_version": sklearn_version(),
        "data_digest": None,
        "ready": True,
        "note": note,
    }
