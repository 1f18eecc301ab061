"""Trained-model artifacts: ``<name>-<version>.pkl`` files, a ``<name>.current`` pointer, and
beside each pickle a ``.json`` of what built it (when, with which scikit-learn).

A pickle of scikit-learn objects is only sound under the scikit-learn that wrote it, so an
artifact saved by another version is refused (``StaleArtifact``) rather than half-loaded.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import pickle
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class StaleArtifact(Exception):
    """An artifact written by another scikit-learn than the one installed."""


def sklearn_version() -> str:
    """The installed scikit-learn's version."""
    import sklearn

    return str(sklearn.__version__)


@dataclass(frozen=True)
class ArtifactInfo:
    """What built an artifact, read without unpickling it."""

    name: str
    version: str
    path: Path
    trained_at: datetime | None
    sklearn_version: str | None
    """None for artifacts saved before storeops recorded it."""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def stale(self) -> bool:
        """Written by another scikit-learn than the installed one."""
        return self.sklearn_version is not None and self.sklearn_version != sklearn_version()

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "path": str(self.path),
            "trained_at": self.trained_at.isoformat() if self.trained_at else None,
            "sklearn_version": self.sklearn_version,
            **self.details,
        }


def _meta_path(path: Path) -> Path:
    return path.with_suffix(".json")


def write_pickle(path: Path, name: str, version: str, data: dict[str, Any], **details: Any) -> ArtifactInfo:
    """Write ``data`` to ``path`` atomically (a reader sees the old file or the whole new one),
    with its ``.json`` of what built it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    info = ArtifactInfo(name, version, path, datetime.now(UTC), sklearn_version(), details)
    meta = {"name": name, **info.as_json()}
    for target, write in (
        (path, lambda handle: pickle.dump(data, handle)),
        (_meta_path(path), lambda handle: handle.write(json.dumps(meta, indent=2).encode())),
    ):
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide a shared cache from other users
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return info


def read_info(path: Path, name: str, version: str) -> ArtifactInfo:
    """What built the artifact at ``path`` (its ``.json``; for older artifacts, the file's date)."""
    meta_path = _meta_path(path)
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        trained = meta.pop("trained_at", None)
        known = {"name", "version", "path", "sklearn_version"}
        return ArtifactInfo(
            name,
            str(meta.get("version", version)),
            path,
            datetime.fromisoformat(trained) if trained else None,
            meta.get("sklearn_version"),
            {k: v for k, v in meta.items() if k not in known},
        )
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC) if path.exists() else None
    return ArtifactInfo(name, version, path, modified, None)


def read_pickle(path: Path) -> dict[str, Any]:
    """Unpickle an artifact; StaleArtifact when another scikit-learn wrote it. One copy per process:
    the same file (same size and modification time) is read once, however many workers, web apps
    or tests load it."""
    stat = path.stat()
    return _read_pickle(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_pickle(path_text: str, _mtime_ns: int, _size: int) -> dict[str, Any]:
    from sklearn.exceptions import InconsistentVersionWarning

    path = Path(path_text)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InconsistentVersionWarning)
        # Artifacts are written by storeops itself into the operator's own folders.
        with path.open("rb") as handle:
            data: dict[str, Any] = pickle.load(handle)
    for warning in caught:
        if issubclass(warning.category, InconsistentVersionWarning):
            raise StaleArtifact(f"{path} was written by another scikit-learn than {sklearn_version()}")
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return data


def save_artifact(folder: Path, name: str, version: str, data: dict[str, Any], **details: Any) -> Path:
    """Write ``data`` as ``<name>-<version>.pkl`` in ``folder`` and make it the current one
    (``details``, e.g. what it was trained on, go into its ``.json``)."""
    path = folder / f"{name}-{version}.pkl"
    write_pickle(path, name, version, data, **details)
    (folder / f"{name}.current").write_text(path.name, encoding="utf-8")
    return path


def current_artifact(folder: Path, name: str) -> ArtifactInfo | None:
    """The current ``name`` artifact in ``folder`` (without loading it), or None when none was saved."""
    pointer = folder / f"{name}.current"
    if not pointer.is_file():
        return None
    path = folder / pointer.read_text(encoding="utf-8").strip()
    if not path.is_file():
        return None
    version = path.stem.removeprefix(f"{name}-")
    return read_info(path, name, version)


def load_artifact(folder: Path, name: str) -> dict[str, Any] | None:
    """The current ``name`` artifact in ``folder``, or None when none was saved; StaleArtifact
    when another scikit-learn wrote it."""
    info = current_artifact(folder, name)
    if info is None:
        return None
    if info.stale:
        raise StaleArtifact(
            f"{info.path} was trained with scikit-learn {info.sklearn_version}; this is {sklearn_version()}"
        )
    return read_pickle(info.path)


@contextmanager
def file_lock(path: Path, *, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (an advisory POSIX lock, released when the process
    ends however it ends); ``on_wait`` runs once when another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_once(
    path: Path,
    name: str,
    version: str,
    build: Callable[[], dict[str, Any]],
    *,
    report: Callable[[str], None],
    what: str,
    **details: Any,
) -> tuple[ArtifactInfo, bool]:
    """Make sure the artifact at ``path`` exists, building it with ``build`` when it does not:
    under a lock beside it, so of several processes asking at once one builds and the others
    wait and then use what it built. Returns the artifact's info and whether this call built it."""
    if path.is_file():
        return read_info(path, name, version), False
    lock = path.with_name(path.name + ".lock")
    with file_lock(lock, on_wait=lambda: report(f"another storeops process is building {what}; waiting for it …")):
        if path.is_file():
            return read_info(path, name, version), False
        started = time.perf_counter()
        data = build()
        info = write_pickle(path, name, version, data, build_seconds=round(time.perf_counter() - started, 1), **details)
        return info, True
