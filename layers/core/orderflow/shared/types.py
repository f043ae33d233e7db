"""Value types every area shares: money, quantities, identifiers, the strict model base, time."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2),
    PlainSerializer(float, return_type=float, when_used="json"),
]
MAX_MONEY = Decimal("999999999999.99")  # the most Money holds (14 digits, 2 after the point)
SignedMoney = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
Quantity = Annotated[int, Field(gt=0, le=1_000_000, strict=True)]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")



class Model(BaseModel):
    """Base of every model here: pydantic builds a model's validator on its first use, not at import
    (a cold start pays only for the models its first request touches)."""

    model_config = ConfigDict(defer_build=True)


class Strict(Model):
    model_config = ConfigDict(extra="forbid", defer_build=True)


MAIN_LOCATION = "main"  # always exists: stock, receipts and returns that name no location land here


# An order's timeline entry as stored: one string "STATUS|at|by|reason" (by and reason may be empty), not a
# map of four named attributes: the order item is billed by its size at every write (docs/decisions.md,
# "DynamoDB calls per order"), and the timeline is most of it. ``by`` never holds "|"; the reason may.
def packed_entry(status: str, at: str, by: str | None = None, reason: str | None = None) -> str:
    return f"{status}|{at}|{by or ''}|{reason or ''}"


def unpacked_entry(stored: object) -> dict[str, str]:
    """A timeline entry as a map (``status``, ``at``, and ``by``/``reason`` when there), stored packed or not."""
    if not isinstance(stored, str):
        return dict(stored) if isinstance(stored, dict) else {}
    status, at, by, reason = [*stored.split("|", 3), "", "", ""][:4]
    return {"status": status, "at": at, **({"by": by} if by else {}), **({"reason": reason} if reason else {})}


# An order line as stored: "sku|quantity|unit_price|name" (SKUs are identifiers, never holding "|"; the name
# is last and may). Same reason as the timeline's: the four attribute names were a quarter of each line.
def packed_line(sku: str, quantity: int, unit_price: object, name: str | None = None) -> str:
    return f"{sku}|{quantity}|{unit_price}|{name or ''}"


def unpacked_line(stored: object) -> dict:
    """An order line as a map (``sku``, ``quantity``, ``unit_price``, and ``name`` when there), stored
    packed or not."""
    if not isinstance(stored, str):
        return dict(stored) if isinstance(stored, dict) else {}
    sku, quantity, unit_price, name = [*stored.split("|", 3), "", "", ""][:4]
    line = {"sku": sku, "quantity": int(quantity), "unit_price": Decimal(unit_price)}
    return {**line, "name": name} if name else line


# One of an order's shipments as stored in the order: "shipment_id|location_id|state|lines|shipped|deadline", the
# units as "sku=units,sku=units" (identifiers hold none of "|", ",", "="), ``shipped`` empty unless less than
# ``lines`` left, ``deadline`` empty once there is none or the shipment is no longer open. As a map its attribute
# names and per-SKU maps were about half of it. A shipment that holds the whole order, each line at its quantity (an
# order from one location), stores its lines as ``WHOLE_ORDER`` instead of the order's SKUs again: read back with
# the order's lines.
WHOLE_ORDER = "*"


def packed_ref(shipment_id: str, location_id: str, state: str, lines: dict[str, int],
               shipped: dict[str, int] | None = None, deadline: str | None = None,
               order_units: dict[str, int] | None = None) -> str:
    """``order_units``: the order's lines (SKU → quantity); ``lines`` equal to them are stored as ``WHOLE_ORDER``.
    The deadline only while the shipment is open: nothing reads it after."""
    return "|".join((shipment_id, location_id, state, WHOLE_ORDER if lines == order_units else _packed_units(lines),
                     "" if shipped is None else _packed_units(shipped) or "=",
                     (deadline or "") if state == "open" else ""))


def unpacked_ref(stored: object, order_lines: object = ()) -> dict:
    """A shipment ref as a map (``shipment_id``, ``location_id``, ``state``, ``lines``, and ``shipped`` and
    ``deadline`` when there), stored packed or not; ``order_lines``, the order's lines as stored, for a ref that
    holds the whole order."""
    if not isinstance(stored, str):
        return dict(stored) if isinstance(stored, dict) else {}
    shipment_id, location_id, state, lines, shipped, deadline = [*stored.split("|", 5), "", "", "", "", ""][:6]
    ref: dict = {"shipment_id": shipment_id, "location_id": location_id, "state": state,
                 "lines": units_of(order_lines) if lines == WHOLE_ORDER else _unpacked_units(lines)}
    if shipped:
        ref["shipped"] = _unpacked_units(shipped)
    if deadline:
        ref["deadline"] = deadline
    return ref


def units_of(lines: object) -> dict[str, int]:
    """SKU → quantity of an order's lines, stored packed or as maps (or read: anything with ``sku`` and
    ``quantity``)."""
    units: dict[str, int] = {}
    for line in lines or ():  # type: ignore[attr-defined]
        found = unpacked_line(line) if isinstance(line, str | dict) else {"sku": line.sku, "quantity": line.quantity}
        units[found["sku"]] = int(found["quantity"])
    return units


def _packed_units(units: dict[str, int]) -> str:
    return ",".join(f"{sku}={int(quantity)}" for sku, quantity in units.items())


def _unpacked_units(packed: str) -> dict[str, int]:
    return {sku: int(quantity) for sku, _, quantity in (part.partition("=") for part in packed.split(",")) if sku}
