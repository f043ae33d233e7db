"""Returns (RMA) and exchanges: the return aggregate, its rules, and the service.

Public surface for other areas: this module.
"""

from orderflow.returns.domain import Return, ReturnStatus
from orderflow.returns.service import ReturnService

__all__ = ["Return", "ReturnService", "ReturnStatus"]
