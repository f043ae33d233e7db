"""AWS clients, built once per process on first use (cold starts pay only for what they call)."""

from __future__ import annotations

import threading
from typing import Any

from orderflow.shared.errors import TransientError

_lock = threading.Lock()
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    if service not in _clients:
        with _lock:
            if service not in _clients:
                import boto3
                from botocore.config import Config

                _clients[service] = boto3.client(
                    service, config=Config(retries={"mode": "standard", "max_attempts": 4}))
    return _clients[service]


def reset() -> None:
    """Forget built clients (the offline stack calls this after pointing AWS_ENDPOINT_URL elsewhere)."""
    with _lock:
        _clients.clear()


def error_code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


_SQS_BUSY = {"ThrottlingException", "RequestThrottled", "ServiceUnavailable", "InternalError"}


def raise_if_sqs_busy(exc: Exception) -> None:
    """An SQS call refused for load (throttled, unavailable) becomes ``TransientError``: worth retrying."""
    if (code := error_code(exc)) in _SQS_BUSY:
        raise TransientError(f"SQS is busy ({code}); try again") from exc
