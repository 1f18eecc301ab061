"""Where the evaluation-only data sets live: ../shared/data beside the checkout (or
STOREOPS_SHARED_DATA). They are read at run time and never copied into the repository."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bench.common import REPO, console


def shared_data(folder: str) -> Path | None:
    """The folder of a shared data set, or None (with a message) when this machine lacks it."""
    root = Path(os.environ.get("STOREOPS_SHARED_DATA") or REPO.parent / "shared" / "data")
    path = root / folder
    if not path.is_dir():
        console.print(f"skipping: {path} is not on this machine (set STOREOPS_SHARED_DATA to the shared data folder)")
        return None
    return path


def exit_skipped() -> None:
    """Leave a benchmark that has nothing to measure here, without failing."""
    sys.exit(0)
