"""The working local connector: writes each message as a JSON file instead of calling out."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


class FileConnector:
    """Writes ``<folder>/<name>/<action>/<key digest>.json``; a repeated key rewrites the same file."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.folder = folder

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None:
        target = self.folder / self.name / action
        target.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
        path = target / f"{digest}.json"
        tmp = path.with_suffix(".tmp")
        body = {"action": action, "idempotency_key": idempotency_key, "payload": payload}
        tmp.write_text(json.dumps(body, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)  # atomic, so a reader never sees half a message
