"""Replenishment: the nightly run (forecast → inventory policy → purchase orders), the demand history
it reads, and policy simulations that replay that history.

Public surface for other areas: this module. ``orderflow.forecasting`` is an area of its own (pure
numerics, no ports); the inventory policy is ``orderflow.replenishment.policy``.
"""

from orderflow.replenishment.runs import Decision, ReplenishmentRun, RunStatus
from orderflow.replenishment.service import ReplenishmentService

__all__ = ["Decision", "ReplenishmentRun", "ReplenishmentService", "RunStatus"]
