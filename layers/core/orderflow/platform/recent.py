"""What this container read a moment ago: values kept in memory for a few seconds after they were read.

For items every order reads, such as a flash-sale SKU's product: DynamoDB serves one partition key at
most 3,000 read units a second, so at thousands of orders a second those reads, not the stock, would
cap the sale (docs/scale.md, "Hot reads"). Each Lambda container keeps its own copy and nothing is
written through it: a change made anywhere shows in every container at most ``seconds`` after it was
made (plus the lag of the eventually consistent read that fetched the copy). Things not found are not
kept, so something created is seen at once.

A dict with expiry times, not cachetools' ``TTLCache``: this is all the order steps need, and it adds no
package to the order functions' layer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """Values read within the last ``seconds`` (by ``clock``), at most ``size`` of them (when full, the
    oldest read makes room). Safe to share between threads (the offline stack runs a container's
    invocations on several)."""

    def __init__(self, seconds: float, size: int = 1000, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.size, self.clock = seconds, size, clock
        self._entries: dict[K, tuple[float, V]] = {}  # key -> (when it expires, value), oldest read first
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value read less than ``seconds`` ago, or None (never read, or expired: read it again)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self.clock():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: K, value: V) -> None:
        """Keep ``value``, just read, for ``seconds`` from now."""
        if self.seconds <= 0:
            return
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= self.size:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (self.clock() + self.seconds, value)
