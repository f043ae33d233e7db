"""What a policy simulation is asked for and what it stores (numpy-free, for the API)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orderflow.replenishment.runs import RunStatus
from orderflow.shared.types import Identifier

# ------------------------------------------------------------------ policy simulations (docs/simulation.md)
SimulationPolicy = Literal["orderflow", "minmax", "rq"]
DEFAULT_SIMULATION_TARGETS = (0.80, 0.90, 0.95, 0.98, 0.99)  # target cycle service levels of the trade-off curve
DEFAULT_REFIT_EVERY = 26  # reviews between full forecast refits (26 weekly reviews: half a year)
MAX_SIMULATION_SKUS = 1000


class SimulationParameters(BaseModel):
    """What a simulation replays and compares (``orderflow.simulation.SimulationConfig``, which adds
    the check that the environment can run each policy; this one is numpy-free, for the API)."""

    model_config = ConfigDict(extra="forbid")

    days: Annotated[int, Field(ge=7, le=3650, description="days replayed: the last `days` of every history")]
    # Bounded as stored numbers must be (DynamoDB holds 38 digits and nothing under 1e-130): a seed of
    # 10**40 or a target of 1e-200 answered 500. Targets are service levels, as a product's (0.5 to 0.999).
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0
    policies: list[SimulationPolicy] = Field(default_factory=lambda: ["orderflow", "minmax", "rq"], min_length=1)
    targets: list[Annotated[float, Field(ge=0.5, le=0.999, allow_inf_nan=False)]] = Field(
        default_factory=lambda: list(DEFAULT_SIMULATION_TARGETS), max_length=20,
        description="target cycle service levels of the trade-off curve (empty: no curve)")
    refit_every: Annotated[int, Field(ge=1, le=520)] = Field(
        DEFAULT_REFIT_EVERY, description="reviews between full forecast refits; 1 refits on every review "
                                         "(exactly the scheduled run, slowest)")


class SimulationIn(SimulationParameters):
    """``POST /replenishment/simulations``: the replay's parameters and, optionally, the SKUs (default:
    every active product with replenishment parameters). ``rq`` needs stockpyl where it runs."""

    policies: list[SimulationPolicy] = Field(default_factory=lambda: ["orderflow", "minmax"], min_length=1)
    skus: list[Identifier] | None = Field(None, min_length=1, max_length=MAX_SIMULATION_SKUS)

    def parameters(self) -> SimulationParameters:
        return SimulationParameters.model_validate(self.model_dump(exclude={"skus"}))


class Simulation(BaseModel):
    """The ``SIM`` record of a simulation (``GET /replenishment/simulations/{id}``, without the per-SKU
    results, which are items of their own)."""

    simulation_id: str
    status: RunStatus
    requested_at: str
    finished_at: str | None = None
    config: SimulationIn
    history_end: str = Field(description="the last day of demand replayed (the day before the request)")
    summary: dict[str, Any] | None = Field(None, description="COMPLETED: totals, by_class and curve")
    skipped: list[dict[str, str]] = []
    error: str | None = None


