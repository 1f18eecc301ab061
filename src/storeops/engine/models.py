"""Each desk's models (a risk scorer, a language model, …), loaded the first time one of the desk's
handlers asks for them, and reached through the handler's context as ``ctx.models``.

A desk declares how its models are loaded (``Desk.load_models``); nothing is loaded at import or at
start-up unless someone asks (``warm_up``), so a worker that never sees a support message never
loads the support model, and tests hand a desk the models they want (``given``) instead of patching
a module.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storeops.engine.desk import Registry


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class ModelPlaces:
    """Where a desk finds its models."""

    models_dir: Path
    """The store's own trained models (``STOREOPS_MODELS_DIR``)."""
    cache_dir: Path
    """Defaults built once per machine (``STOREOPS_CACHE_DIR``)."""
    report: Callable[[str], None] = field(default=_stderr)
    """Where a loader says what it is doing (a first-time build takes a while)."""


ModelLoader = Callable[[ModelPlaces], Any]
"""``Desk.load_models``: the desk's models, from the places given."""

_MISSING = object()


class DeskModels:
    """The models of every desk of a registry, each loaded at most once, on first use."""

    def __init__(self, registry: Registry, places: ModelPlaces, *, given: Mapping[str, Any] | None = None) -> None:
        self._loaders: dict[str, ModelLoader] = {
            name: desk.load_models for name, desk in registry.desks.items() if desk.load_models is not None
        }
        self._places = places
        self._loaded: dict[str, Any] = dict(given or {})
        self._lock = threading.Lock()

    def get(self, desk: str) -> Any:
        """``desk``'s models, loading them now if nobody asked before (None when it has none)."""
        found = self._loaded.get(desk, _MISSING)
        if found is not _MISSING:
            return found
        with self._lock:
            found = self._loaded.get(desk, _MISSING)
            if found is _MISSING:
                loader = self._loaders.get(desk)
                found = loader(self._places) if loader is not None else None
                self._loaded[desk] = found
        return found

    def set(self, desk: str, models: Any) -> None:
        """Use ``models`` for ``desk`` from now on (a model retrained while running, or a test's)."""
        with self._lock:
            self._loaded[desk] = models

    def waiting(self) -> list[str]:
        """Desks with a loader whose models nobody has asked for yet."""
        return sorted(name for name in self._loaders if name not in self._loaded)

    def loaded(self) -> dict[str, Any]:
        """The desks whose models are loaded, with them."""
        return dict(self._loaded)

    def warm_up(self, desks: Iterable[str] | None = None) -> None:
        """Load now what the first event would otherwise wait for."""
        for desk in desks if desks is not None else list(self._loaders):
            self.get(desk)
