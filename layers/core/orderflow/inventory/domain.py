"""Stock: a SKU's counters, the lines that move them, and the message saying stock of a SKU arrived."""


from typing import NamedTuple, Protocol, Self

from pydantic import Field, PrivateAttr

from orderflow.shared.types import Model

COUNTERS = ("on_hand", "reserved", "available", "on_order", "backordered")


class StockLevel(Model):
    """A SKU's counters: at one location (``location_id``), or summed over every location (None)."""

    sku: str
    location_id: str | None = None
    on_hand: int = 0
    reserved: int = 0
    available: int = 0
    on_order: int = 0
    backordered: int = 0


class StockPosition(StockLevel):
    """A SKU's totals, with the level at each location that holds it (``GET /stock/{sku}``). The totals are
    the sums over ``locations``."""

    locations: list[StockLevel] = Field(default_factory=list)
    # location → (cycle, purchase order id): the nightly run's mark that it ordered the SKU there in that
    # cycle (docs/replenishment.md, "Once a cycle"); not part of the API's answer
    _ordered: dict[str, tuple[str, str | None]] = PrivateAttr(default_factory=dict)
    # location → the cycle the nightly run last decided the SKU there without ordering (``reviewed_in``)
    _reviewed: dict[str, str] = PrivateAttr(default_factory=dict)

    @classmethod
    def of(cls, sku: str, levels: list[StockLevel]) -> Self:
        totals = {c: sum(getattr(level, c) for level in levels) for c in COUNTERS}
        return cls(sku=sku, locations=sorted(levels, key=lambda level: level.location_id or ""), **totals)

    def ordered_in(self, location_id: str) -> tuple[str, str | None] | None:
        """The cycle in which the nightly run last ordered the SKU for ``location_id``, and that order's id."""
        return self._ordered.get(location_id)

    def last_review(self, location_id: str) -> str | None:
        """The cycle in which the nightly run last reviewed the SKU for ``location_id``: the later of its order's
        mark (``ordered_in``) and its review mark (``reviewed_in``; docs/replenishment.md, "Review period")."""
        ordered = self._ordered.get(location_id)
        return max([cycle for cycle in (ordered[0] if ordered else None, self._reviewed.get(location_id)) if cycle],
                   default=None)

    def at(self, location_id: str) -> StockLevel:
        return next((level for level in self.locations if level.location_id == location_id),
                    StockLevel(sku=self.sku, location_id=location_id))


class Line(Protocol):
    """What moves stock: so many units of a SKU (an order line, a return line)."""

    @property
    def sku(self) -> str: ...

    @property
    def quantity(self) -> int: ...


class Units(NamedTuple):
    """So many units of a SKU: a line as stock sees it (an allocation at one location, say). A named tuple,
    not a frozen dataclass: every order function loads it, and a tuple class costs a tenth to create."""

    sku: str
    quantity: int


def by_sku(holds: list[tuple[str, Units]]) -> dict[str, dict[str, int]]:
    """(location, units) holds as SKU → location → units: what one write per SKU records of a shipment
    that left several locations."""
    found: dict[str, dict[str, int]] = {}
    for location, units in holds:
        at = found.setdefault(units.sku, {})
        at[location] = at.get(location, 0) + units.quantity
    return found


class StockArrival(Model):
    """Stock of a SKU arrived (a receipt, a return put back, a supplier's delivery): the message on which
    the backordered orders waiting for it are woken."""

    sku: str
