"""Which models the support desk answers with, and where they come from.

1. The store's own: ``storeops models train support-nlu`` writes them into ``STOREOPS_MODELS_DIR``;
   when there are any, they are used.
2. Otherwise the default: the same learners trained on the data storeops ships (Bitext
   utterances, UCI sentences), so a new store answers from its first message. It is built once
   per machine into ``STOREOPS_CACHE_DIR`` and shared by every store directory there. Its version
   is a digest of the shipped data and of the code that trains it, so a release that changes
   either builds a new one; its file name also carries the scikit-learn version, since a pickle
   is only sound under the scikit-learn that wrote it. When it is missing it is trained on first
   use (under half a minute on two cores) under a file lock: of several processes starting at once, one
   trains and the others wait and load what it wrote.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from storeops.artifacts import (
    ArtifactInfo,
    StaleArtifact,
    build_once,
    current_artifact,
    read_info,
    read_pickle,
    sklearn_version,
)
from storeops.engine.models import ModelPlaces
from storeops.errors import StoreopsError

NAME = "support-nlu"
DATA_FILES = ("bitext_utterances.csv", "amazon_cells_labelled.txt", "yelp_labelled.txt")
"""The shipped data the default is trained on."""
TRAINING_CODE = ("nlu.py", "entities.py")
"""The modules whose code shapes what the default learns (its learners, what they read)."""


def _digest(parts: list[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def data_digest() -> str:
    """SHA-256 over the shipped training data."""
    return _digest([files("storeops").joinpath(f"data/{name}").read_bytes() for name in DATA_FILES])


def default_version() -> str:
    """``default-<12 hex>``: a digest of the shipped data and of the training code."""
    here = Path(__file__).parent
    code = [(here / name).read_bytes() for name in TRAINING_CODE]
    return "default-" + _digest([data_digest().encode(), *code])[:12]


def default_path(cache_dir: Path) -> Path:
    """Where the default of this release and this scikit-learn lives in ``cache_dir``."""
    return cache_dir / f"{NAME}-{default_version()}-sklearn{sklearn_version()}.pkl"


@dataclass(frozen=True)
class ModelChoice:
    """The support model a worker of this store uses, found without loading or training it."""

    source: str
    """``store`` (trained into STOREOPS_MODELS_DIR) or ``default`` (built from the shipped data)."""
    info: ArtifactInfo | None
    """The artifact; None for a default not built yet on this machine."""
    note: str = ""

    @property
    def ready(self) -> bool:
        return self.info is not None

    def as_json(self) -> dict[str, Any]:
        """The model's line in ``storeops status --json``."""
        info = self.info
        return {
            "name": NAME,
            "source": self.source,
            "version": info.version if info else default_version(),
            "trained_at": info.trained_at.isoformat() if info and info.trained_at else None,
            "path": str(info.path) if info else None,
            "sklearn_version": info.sklearn_version if info else sklearn_version(),
            "data_digest": info.details.get("data_digest") if info else data_digest(),
            "ready": self.ready,
            "note": self.note,
        }


def choose(models_dir: Path, cache_dir: Path) -> ModelChoice:
    """The store's own model when it has a usable one, else the default (built or not yet)."""
    note = ""
    own = current_artifact(models_dir, NAME)
    if own is not None and not own.stale:
        return ModelChoice("store", own)
    if own is not None:
        note = (
            f"the store's own {NAME} {own.version} was trained with scikit-learn {own.sklearn_version} "
            f"(this is {sklearn_version()}); retrain it with storeops models train support-nlu"
        )
    path = default_path(cache_dir)
    if path.is_file():
        return ModelChoice("default", read_info(path, NAME, default_version()), note)
    note = note or "not built yet on this machine: trained from the shipped data on first use (under half a minute)"
    return ModelChoice("default", None, note)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def default_models(cache_dir: Path, *, report: Callable[[str], None] = _stderr) -> Any:
    """The default SupportModels: loaded from ``cache_dir``, trained there first when missing."""
    from storeops.desks.support.nlu import SupportModels, train_support_models

    version = default_version()
    path = default_path(cache_dir)
    started = time.perf_counter()

    def build() -> dict[str, Any]:
        report(
            f"building the default support model {version} from the shipped data (intents on 6,480 Bitext "
            "utterances, sentiment on 2,000 UCI sentences), once for this machine, under half a minute …"
        )
        models = train_support_models(version)
        return {"intent": models.intent, "sentiment": models.sentiment, "version": version}

    what = f"the default support model {version}"
    try:
        info, built = build_once(path, NAME, version, build, report=report, what=what, data_digest=data_digest())
    except OSError as exc:
        raise StoreopsError(
            f"cannot keep the default support model in {cache_dir}: {exc.strerror or exc}; set STOREOPS_CACHE_DIR "
            "to a folder this user can write",
            field="cache_dir",
        ) from None
    if built:
        report(f"built {NAME} {version} in {time.perf_counter() - started:.1f} s; cached at {path}")
    data = read_pickle(path)
    return SupportModels(data["intent"], data["sentiment"], data["version"], source="default", info=info)


def load_for_store(models_dir: Path, cache_dir: Path, *, report: Callable[[str], None] = _stderr) -> Any:
    """The models a worker of this store answers with (see the module's docstring)."""
    from storeops.desks.support.nlu import SupportModels

    own = current_artifact(models_dir, NAME)
    if own is not None:
        try:
            if own.stale:
                raise StaleArtifact(f"it was trained with scikit-learn {own.sklearn_version}")
            data = read_pickle(own.path)
        except StaleArtifact as exc:
            report(
                f"support: not using the store's own {NAME} {own.version} ({exc}; this is scikit-learn "
                f"{sklearn_version()}): retrain it with storeops models train support-nlu. Using the default."
            )
        else:
            return SupportModels(data["intent"], data["sentiment"], data["version"], source="store", info=own)
    return default_models(cache_dir, report=report)


def load_models(places: ModelPlaces) -> Any:
    """The support desk's ``load_models``: the store's own model, else the machine's default
    (built from the shipped data on first use, behind a lock)."""
    return load_for_store(places.models_dir, places.cache_dir, report=places.report)
