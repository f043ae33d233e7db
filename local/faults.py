"""Harshness: AWS behaviours the offline stack can switch on, with the rates as parameters.

moto is kinder than AWS: it refuses a second Express execution with the same name, never conflicts
two transactions (the stack serialises DynamoDB requests), never throttles, delivers a table's stream
inside the write that made it, and delivers an SQS message once. Code that is correct only under those
kindnesses passes every offline test and fails in production. :class:`Faults` turns AWS's behaviour
back on, each part on its own; everything is off by default, so the ordinary suites see the stack
they always saw.

``ORDERFLOW_LOCAL_FAULTS`` sets it for a stack built without ``faults=``: ``harsh`` (the rates of
:meth:`Faults.harsh`), or ``name=value`` pairs separated by commas, after an optional ``harsh``::

    ORDERFLOW_LOCAL_FAULTS="duplicate_executions=0.2,transaction_conflicts=0.3,throttles=0.1,sqs_duplicates=0.1"
    ORDERFLOW_LOCAL_FAULTS="harsh,seed=7"

Every random choice is drawn from one ``random.Random(seed)``; with the same seed and the same order
of requests the same faults are injected (threads interleave as they will, so a concurrent run
repeats its rates, not its exact sequence). docs/offline-stack.md describes each behaviour and its
AWS source.
"""

from __future__ import annotations

import dataclasses
import os
import random
import threading
from dataclasses import dataclass
from typing import Any

ENV = "ORDERFLOW_LOCAL_FAULTS"


@dataclass(frozen=True)
class Faults:
    """What the offline stack does as AWS does rather than as moto does (see the module's docstring).

    Rates are probabilities per opportunity, 0 to 1.
    """

    # Step Functions, asynchronous Express starts (at-least-once on AWS).
    express_name_reuse: bool = False
    """A start with the name of an earlier Express execution runs again (AWS checks no names for
    Express), instead of moto's ``ExecutionAlreadyExists`` or its idempotent answer."""
    duplicate_executions: float = 0.0
    """Per Express start: the execution runs twice, concurrently, with the same name and input."""

    # DynamoDB transactions.
    transaction_conflicts: float = 0.0
    """Per ``TransactWriteItems``: cancelled with ``TransactionConflict`` on one of its items."""
    transaction_window: float | None = None
    """Seconds a transaction holds its items between its checks and its writes (``None``: no
    modelled conflicts). While held, another transaction naming one of them is cancelled with
    ``TransactionConflict``, and a ``PutItem``/``UpdateItem``/``DeleteItem`` of one fails with
    ``TransactionConflictException``, as on AWS."""

    # DynamoDB throughput.
    throttles: float = 0.0
    """Per item request: ``ProvisionedThroughputExceededException``."""
    write_units_per_key: float | None = None
    """Write capacity units a second one partition key value serves (AWS: 1,000); ``None``: no limit."""
    read_units_per_key: float | None = None
    """Read capacity units a second one partition key value serves (AWS: 3,000); ``None``: no limit."""

    # DynamoDB Streams.
    stream_poller: bool = False
    """Streams read by a poller thread per event-source mapping, in batches, after the write returned
    (bisect on error, retries, on-failure destination), instead of by moto inside the write."""
    stream_poll_seconds: float = 0.1
    """How long a poller waits when its stream has nothing new (AWS polls a shard four times a second)."""

    # SQS.
    sqs_duplicates: float = 0.0
    """Per message an SQS event source handled: not deleted, so it is delivered again after the
    visibility timeout (AWS: a copy on a server that missed the delete)."""

    seed: int = 0

    @classmethod
    def harsh(cls, **overrides: Any) -> Faults:
        """Every behaviour on, at issue 20's soak rates, with AWS's per-key throughput."""
        rates: dict[str, Any] = dict(
            express_name_reuse=True, duplicate_executions=0.2, transaction_conflicts=0.3,
            transaction_window=0.005, throttles=0.1, write_units_per_key=1000.0, read_units_per_key=3000.0,
            stream_poller=True, sqs_duplicates=0.1,
        )
        rates.update(overrides)
        return cls(**rates)

    @classmethod
    def parse(cls, text: str) -> Faults:
        """``harsh``, ``name=value,...``, or ``harsh,name=value,...``; ``""`` is everything off."""
        parts = [p.strip() for p in text.split(",") if p.strip()]
        base: dict[str, Any] = {}
        if parts and parts[0] == "harsh":
            base = {f.name: getattr(cls.harsh(), f.name) for f in dataclasses.fields(cls)}
            parts = parts[1:]
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        for part in parts:
            name, sep, value = part.partition("=")
            name = name.strip()
            if not sep or name not in types:
                raise ValueError(f"{ENV}: {part!r} is not name=value with a name of {sorted(types)}")
            base[name] = _value(str(types[name]), value.strip(), name)
        faults = cls(**base)
        faults.check()
        return faults

    @classmethod
    def from_env(cls) -> Faults:
        return cls.parse(os.environ.get(ENV, ""))

    def check(self) -> None:
        for name in ("duplicate_executions", "transaction_conflicts", "throttles", "sqs_duplicates"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} is a probability, 0 to 1; got {rate}")
        for name in ("transaction_window", "write_units_per_key", "read_units_per_key"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative; got {value}")

    @property
    def any(self) -> bool:
        return self != Faults(seed=self.seed, stream_poll_seconds=self.stream_poll_seconds)


def _value(kind: str, text: str, name: str) -> Any:
    if "bool" in kind:
        if text.lower() not in ("true", "false", "1", "0", "on", "off"):
            raise ValueError(f"{ENV}: {name} is true or false; got {text!r}")
        return text.lower() in ("true", "1", "on")
    if "None" in kind and text.lower() in ("none", "off", ""):
        return None
    if "int" in kind and "float" not in kind:
        return int(text)
    return float(text)


class Dice:
    """The stack's one source of injected faults: ``random.Random(seed)`` behind a lock."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {}

    def roll(self, rate: float, what: str) -> bool:
        """True with probability ``rate`` (counted in :attr:`injected` under ``what``)."""
        if rate <= 0:
            return False
        with self._lock:
            hit = self._random.random() < rate
            if hit:
                self.injected[what] = self.injected.get(what, 0) + 1
        return hit

    def choice(self, items: list[Any]) -> Any:
        with self._lock:
            return self._random.choice(items)


_current: tuple[Faults, Dice] = (Faults(), Dice(0))


def configure(faults: Faults) -> Dice:
    """Make ``faults`` the process's settings (the stack calls this at start, and with ``Faults()`` at stop)."""
    global _current
    faults.check()
    dice = Dice(faults.seed)
    _current = (faults, dice)
    return dice


def current() -> tuple[Faults, Dice]:
    return _current
