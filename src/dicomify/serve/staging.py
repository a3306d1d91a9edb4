"""Converted objects waiting to be published or downloaded, in the private temporary area.

The page converts first (to show previews from the produced objects), then
publishes exactly those objects. Each staged batch belongs to the one who made it
(a session or the API token), is found by a random id, and is deleted after
``staged_minutes`` or when the server stops.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .service import Converted
from .uploads import remove_tree

__all__ = ["Staged", "StagingArea"]


@dataclass
class Staged:
    id: str
    owner: str
    folder: Path
    items: list[Converted]
    created: float = field(default_factory=time.monotonic)


class StagingArea:
    """At most ``max_batches`` batches, each for ``lifetime_seconds``; beyond that the oldest go."""

    def __init__(self, lifetime_seconds: float, max_batches: int = 200) -> None:
        self.lifetime = lifetime_seconds
        self.max_batches = max_batches
        self._batches: dict[str, Staged] = {}
        self._lock = threading.Lock()

    def add(self, owner: str, folder: Path, items: list[Converted]) -> Staged:
        self.expire()
        batch = Staged(secrets.token_urlsafe(16), owner, folder, items)
        dropped: list[Staged] = []
        with self._lock:
            while len(self._batches) >= self.max_batches:
                dropped.append(self._batches.pop(next(iter(self._batches))))
            self._batches[batch.id] = batch
        for old in dropped:
            remove_tree(old.folder)
        return batch

    def get(self, batch_id: str, owner: str) -> Staged | None:
        """The batch, or None when unknown, expired or someone else's."""
        self.expire()
        with self._lock:
            batch = self._batches.get(batch_id)
        if batch is None or not secrets.compare_digest(batch.owner, owner):
            return None
        return batch

    def expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            old = [b for b in self._batches.values() if now - b.created > self.lifetime]
            for batch in old:
                del self._batches[batch.id]
        for batch in old:
            remove_tree(batch.folder)

    def clear(self) -> None:
        with self._lock:
            batches = list(self._batches.values())
            self._batches.clear()
        for batch in batches:
            remove_tree(batch.folder)
