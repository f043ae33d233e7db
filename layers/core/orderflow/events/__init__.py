"""Domain events: what each committed change of a table announces on the bus (pure).

Public surface for other areas: this module.
"""

from orderflow.events.demand import Shipped, shipped
from orderflow.events.derive import PRODUCED, SCHEMA_VERSION, SOURCE, DomainEvent, Table, events_for

__all__ = ["PRODUCED", "SCHEMA_VERSION", "SOURCE", "DomainEvent", "Shipped", "Table", "events_for", "shipped"]
