"""Suppliers table: per supplier one ``PROFILE`` item and one ``CYCLE#<cycle>`` item per replenishment
cycle in which it was ordered from, holding the capacity it has ``remaining`` that cycle."""

from __future__ import annotations

from orderflow.platform import dynamo
from orderflow.platform.dynamo import Write
from orderflow.purchasing.domain import Supplier, SupplierIn

PROFILE = "PROFILE"
CYCLE = "CYCLE#"


class SuppliersRepository:
    def __init__(self, table: str):
        self.table = table

    def get(self, supplier_id: str) -> Supplier | None:
        item = dynamo.get(self.table, {"supplier_id": supplier_id, "record": PROFILE})
        return Supplier.model_validate(item) if item else None

    def put(self, supplier_id: str, data: SupplierIn, queue_url: str) -> Supplier:
        supplier = Supplier(supplier_id=supplier_id, queue_url=queue_url, **data.model_dump())
        item = {**supplier.model_dump(mode="python", exclude_none=True, exclude={"reply_queue_url"}),
                "record": PROFILE}
        dynamo.apply(Write("Put", self.table, item=item))
        return supplier

    def capacity_write(self, supplier_id: str, cycle: str, capacity: int, quantity: int) -> Write:
        """Take ``quantity`` off what the supplier can still take this cycle (starting from ``capacity``
        on its first order of the cycle), under the condition that enough is left."""
        return Write("Update", self.table, key={"supplier_id": supplier_id, "record": f"{CYCLE}{cycle}"},
                     update="SET remaining = if_not_exists(remaining, :cap) - :q",
                     condition="(attribute_not_exists(remaining) AND :cap >= :q) OR remaining >= :q",
                     values={":cap": capacity, ":q": quantity})

    def remaining(self, supplier_id: str, cycle: str, capacity: int | None) -> int | None:
        """Units the supplier can still take in ``cycle``; None when its capacity is unlimited."""
        if capacity is None:
            return None
        item = dynamo.get(self.table, {"supplier_id": supplier_id, "record": f"{CYCLE}{cycle}"})
        return int(item["remaining"]) if item and "remaining" in item else capacity
