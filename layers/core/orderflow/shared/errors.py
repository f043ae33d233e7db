"""Domain errors. Workflow steps let them propagate: the ASL catches them by class name."""

from typing import Any


class OrderflowError(Exception):
    """Base: a business outcome with an HTTP status and a stable machine-readable code."""

    http_status = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(OrderflowError):
    http_status = 404
    code = "NOT_FOUND"


class Conflict(OrderflowError):
    """The request does not fit the current state (e.g. cancelling a shipped order)."""

    http_status = 409
    code = "CONFLICT"


class Unprocessable(OrderflowError):
    """Well-formed request that refers to things that do not exist or do not fit together."""

    http_status = 422
    code = "UNPROCESSABLE"


class TransactionLimitExceeded(Unprocessable):
    """The order's worst-case reservation would write more items than one DynamoDB transaction takes (100)."""

    code = "TRANSACTION_ITEM_LIMIT_EXCEEDED"


class InvalidOrder(Unprocessable):
    code = "INVALID_ORDER"


class CreditDenied(OrderflowError):
    http_status = 402
    code = "CREDIT_DENIED"


class OutOfStock(Conflict):
    code = "OUT_OF_STOCK"


class OrderCancelled(Conflict):
    """Raised by a workflow step that finds its order cancelled under it; the ASL ends the run."""

    code = "ORDER_CANCELLED"


class OrderSettled(Conflict):
    """Raised by a workflow step that finds its order settled (FAILED, or REJECTED past the step that
    rejects): a duplicate or late execution. The step changed nothing; the ASL ends the run."""

    code = "ORDER_SETTLED"


class TransientError(OrderflowError):
    """Throttling or a lost race worth retrying; the ASL retries it with backoff."""

    http_status = 503
    code = "TRY_AGAIN"


class ConditionFailed(Exception):
    """A conditional write did not land. ``reasons`` has one code (or None) per transaction item; ``items``,
    by position, the item as it was when its condition failed, for the writes that asked for it."""

    def __init__(self, reasons: list[str | None], items: dict[int, dict] | None = None):
        super().__init__(f"condition failed: {reasons}")
        self.reasons = reasons
        self.items = items or {}

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] not in (None, "None")
