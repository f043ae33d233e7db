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
