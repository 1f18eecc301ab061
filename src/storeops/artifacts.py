"""Trained-model artifacts: ``<name>-<version>.pkl`` files and a ``<name>.current`` pointer."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any


def save_artifact(folder: Path, name: str, version: str, data: dict[str, Any]) -> Path:
    """Write ``data`` as ``<name>-<version>.pkl`` in ``folder`` and make it the current one."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}.pkl"
    with path.open("wb") as handle:
        pickle.dump(data, handle)
    (folder / f"{name}.current").write_text(path.name, encoding="utf-8")
    return path


def load_artifact(folder: Path, name: str) -> dict[str, Any] | None:
    """The current ``name`` artifact in ``folder``, or None when none was saved."""
    pointer = folder / f"{name}.current"
    if not pointer.is_file():
        return None
    # Artifacts are written by `storeops models train` into the operator's own folder.
    with (folder / pointer.read_text(encoding="utf-8").strip()).open("rb") as handle:
        data: dict[str, Any] = pickle.load(handle)
    return data
