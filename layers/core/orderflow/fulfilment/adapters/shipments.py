"""Shipments table: one item per shipment (a fulfilment order of one location for one order).

The pick list is the ``by-location-status`` index: its partition key is ``<location_id>#<status>``, so
each location's RELEASED shipments are one Query, oldest first, and no partition takes every shipment
of a status across the network (a hot key would throttle the busiest status of every location at once).
Every status write carries the shipment lifecycle's sources in its condition, as the orders' do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orderflow.fulfilment.vocabulary import OPEN_SHIPMENT, ShipmentStatus
from orderflow.platform import dynamo
from orderflow.platform.dynamo import Read, Write
from orderflow.shared.types import utc_now

if TYPE_CHECKING:
    from orderflow.fulfilment.domain import Shipment

# The shipment models and lifecycle load with the first shipment read or written, not with the order service that
# holds this repository: taking and reading orders needs neither (docs/decisions.md, "Cold start").

PICK_LIST = "by-location-status"


def at_location(location_id: str, status: ShipmentStatus) -> str:
    return f"{location_id}#{status.value}"


class ShipmentsRepository:
    def __init__(self, table: str):
        self.table = table

    def get(self, shipment_id: str) -> Shipment | None:
        item = dynamo.get(self.table, {"shipment_id": shipment_id})
        return _shipment(item) if item else None

    def read_many(self, shipment_ids: list[str]) -> Read:
        """The shipments of ``shipment_ids`` that exist, in that order (strongly consistent)."""
        def parse(items: list[dict[str, Any]]) -> list[Shipment]:
            found = {item["shipment_id"]: _shipment(item) for item in items}
            return [found[i] for i in shipment_ids if i in found]

        return Read(self.table, [{"shipment_id": i} for i in shipment_ids], parse, consistent=True)

    def release(self, shipment: Shipment) -> Write:
        """The Put that hands a new shipment to its location (only if no shipment has its id)."""
        item = {**shipment.model_dump(mode="python", exclude_none=True),
                "at_location": at_location(shipment.location_id, shipment.status)}
        return Write("Put", self.table, item=item, condition="attribute_not_exists(shipment_id)")

    def move(self, shipment_id: str, location_id: str, target: ShipmentStatus, by: str, reason: str | None = None,
             extra: dict[str, Any] | None = None, version: int | None = None) -> Write:
        """The write that moves a shipment to ``target`` iff its lifecycle allows it from the stored status
        (and, given ``version``, nobody changed it since it was read). Without ``version`` it needs no read:
        the order's own write in the same transaction is what guards against a stale decision."""
        from orderflow.fulfilment.domain import ShipmentEntry
        from orderflow.fulfilment.lifecycle import SHIPMENT_LIFECYCLE

        now = utc_now()
        entry = ShipmentEntry(status=target, at=now, reason=reason, by=by).model_dump(exclude_none=True)
        allowed, values = SHIPMENT_LIFECYCLE.condition(target)
        sets = ["#status = :target", "at_location = :at", "version = version + :one", "updated_at = :now",
                "timeline = list_append(timeline, :entry)"]
        values.update({":target": target.value, ":at": at_location(location_id, target), ":one": 1, ":now": now,
                       ":entry": [entry]})
        for index, (name, value) in enumerate((extra or {}).items()):
            sets.append(f"{name} = :x{index}")
            values[f":x{index}"] = value
        condition = allowed
        if version is not None:
            condition += " AND version = :version"
            values[":version"] = version
        return Write("Update", self.table, key={"shipment_id": shipment_id}, update="SET " + ", ".join(sets),
                     condition=condition, names={"#status": "status"}, values=values)

    def shrink(self, shipment_id: str, lines: dict[str, int], gone: dict[str, int]) -> Write:
        """The write that leaves an open shipment (released, picked or packed) holding ``lines`` only: ``gone``
        (SKU → units) was cancelled from it, and is added to its ``cancelled``. Its status stays."""
        now = utc_now()
        statuses = sorted(s.value for s in OPEN_SHIPMENT)
        values: dict[str, Any] = {f":open{i}": status for i, status in enumerate(statuses)}
        values.update({":lines": [{"sku": sku, "quantity": units} for sku, units in lines.items()], ":one": 1,
                       ":now": now, ":none": [],
                       ":gone": [{"sku": sku, "quantity": units} for sku, units in gone.items()]})
        return Write("Update", self.table, key={"shipment_id": shipment_id},
                     update="SET #lines = :lines, version = version + :one, updated_at = :now, "
                            "cancelled = list_append(if_not_exists(cancelled, :none), :gone)",
                     condition=f"#status IN ({', '.join(f':open{i}' for i in range(len(statuses)))})",
                     names={"#status": "status", "#lines": "lines"}, values=values)

    def transition(self, shipment: Shipment, target: ShipmentStatus, by: str, reason: str | None = None,
                   extra: dict[str, Any] | None = None) -> tuple[Write, Shipment]:
        """``move`` of a shipment read before (checked against the lifecycle first: ForbiddenTransition,
        nothing written), and the shipment as it will be once the write lands."""
        from orderflow.fulfilment.domain import Shipment
        from orderflow.fulfilment.lifecycle import SHIPMENT_LIFECYCLE

        SHIPMENT_LIFECYCLE.check(shipment.status, target, f"shipment {shipment.shipment_id}")
        write = self.move(shipment.shipment_id, shipment.location_id, target, by, reason, extra, shipment.version)
        after = Shipment.model_validate({
            **shipment.model_dump(), **(extra or {}), "status": target, "version": shipment.version + 1,
            "updated_at": write.values[":now"],
            "timeline": [*shipment.model_dump()["timeline"], *write.values[":entry"]]})
        return write, after

    def at(self, location_id: str, status: ShipmentStatus, limit: int, cursor: str | None
           ) -> tuple[list[Shipment], str | None]:
        """A page of the location's shipments in ``status``, oldest first (the pick list for RELEASED)."""
        partition = at_location(location_id, status)
        kwargs: dict[str, Any] = {"IndexName": PICK_LIST, "KeyConditionExpression": "at_location = :p",
                                  "ExpressionAttributeValues": {":p": partition}, "Limit": limit}
        if cursor:
            kwargs["ExclusiveStartKey"] = dynamo.start_key_of(cursor, _CURSOR_KEYS, ("at_location", partition))
        items, last = dynamo.query(self.table, **kwargs)
        next_cursor = dynamo.cursor_of(last)
        return [_shipment(item) for item in items], next_cursor

    def late(self, location_id: str, now: str, released_before: str) -> list[str]:
        """The orders of the location's open shipments past their ``ship_by`` at ``now``, each once:
        a Query per open status of the pick list's index, over the shipments released before ``released_before``
        (a shipment is due its fulfilment timeout after its release, so the later ones need not be read), the
        ``ship_by`` checked on what was read. The orders' sweep acts on them (``orders/deadlines.py``)."""
        found: dict[str, None] = {}
        for status in sorted(OPEN_SHIPMENT, key=lambda s: s.value):
            page: dict[str, Any] = {}
            while True:
                items, last = dynamo.query(
                    self.table, IndexName=PICK_LIST, FilterExpression="ship_by <= :now",
                    KeyConditionExpression="at_location = :p AND created_at <= :before",
                    ExpressionAttributeValues={":p": at_location(location_id, status), ":before": released_before,
                                               ":now": now}, **page)
                found.update((item["order_id"], None) for item in items)
                if not last:
                    break
                page = {"ExclusiveStartKey": last}
        return list(found)


def _shipment(item: dict[str, Any]) -> Shipment:
    from orderflow.fulfilment.domain import Shipment

    return Shipment.model_validate({k: v for k, v in item.items() if k != "at_location"})


_CURSOR_KEYS = {"shipment_id", "at_location", "created_at"}  # the pick list index's key and the table's

