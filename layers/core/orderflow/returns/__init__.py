"""Returns (RMA) and exchanges: the return aggregate, its rules, and the service.

Public surface for other areas: this module, and ``orderflow.returns.requests`` (the HTTP bodies).
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orderflow.returns.domain import Return, ReturnStatus
    from orderflow.returns.service import ReturnService

__all__ = ["Return", "ReturnService", "ReturnStatus"]


def __getattr__(name: str) -> object:
    """The models and the service load on first use, so the intake, which names only the request bodies at
    init, does not load the returns area until a request needs it (docs/decisions.md, "Cold start")."""
    if name in ("Return", "ReturnStatus"):
        from orderflow.returns import domain

        return getattr(domain, name)
    if name == "ReturnService":
        from orderflow.returns.service import ReturnService

        return ReturnService
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
