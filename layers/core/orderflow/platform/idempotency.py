"""Idempotent HTTP requests: Powertools' idempotency utility on the stack's idempotency table, built by
the first request that needs it (a cold start that serves none does not pay for it).

A request is keyed by its ``scope`` and ``key`` (the route and the client's Idempotency-Key) and
checked against its ``body``: a retry returns the first response and changes nothing; the same key
with another body is refused (422); a retry while the first is still running is told to wait (409).
The record keeps the first response zlib-compressed: a submit's answer is the whole order, and the
record is written twice per request, billed per KB started (docs/decisions.md, "Cost per order").
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from orderflow.platform.aws import client
from orderflow.platform.dynamo import busy
from orderflow.platform.lambda_support import once
from orderflow.shared.errors import Conflict, TransientError, Unprocessable
from orderflow.shared.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig


class IdempotencyKeyReused(Unprocessable):
    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyInProgress(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"


Handler = Callable[..., dict]


def packed_response(response: Any) -> dict:
    """What the idempotency record keeps of a response: its JSON, compressed (``{"z": base64}``)."""
    from aws_lambda_powertools.shared.json_encoder import Encoder

    text = json.dumps(response, cls=Encoder, separators=(",", ":"), sort_keys=False)
    return {"z": base64.b64encode(zlib.compress(text.encode(), 9)).decode()}


def unpacked_response(stored: dict) -> Any:
    """The response a record kept (records written before compression kept it as it was)."""
    if isinstance(stored, dict) and set(stored) == {"z"}:
        return json.loads(zlib.decompress(base64.b64decode(stored["z"])))
    return stored


def idempotency(app: APIGatewayHttpResolver, settings: Settings) -> Callable[[Handler], Handler]:
    """A decorator: ``function(request=...)`` runs once per request scope and key (Powertools'
    ``idempotent_function``), for the handlers of ``app``."""

    @once
    def layer() -> tuple[IdempotencyConfig, DynamoDBPersistenceLayer]:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

        return (IdempotencyConfig(event_key_jmespath="[scope, key]", payload_validation_jmespath="body",
                                  expires_after_seconds=settings.idempotency_expiry_seconds),
                DynamoDBPersistenceLayer(table_name=settings.idempotency_table or "idempotency",
                                         boto3_client=client("dynamodb")))

    def idempotent(function: Callable[..., dict]) -> Callable[..., dict]:
        @once
        def built() -> tuple[IdempotencyConfig, Callable[..., dict]]:
            from aws_lambda_powertools.utilities.idempotency import idempotent_function
            from aws_lambda_powertools.utilities.idempotency.serialization.custom_dict import CustomDictSerializer

            config, persistence = layer()
            return config, idempotent_function(
                data_keyword_argument="request", config=config, persistence_store=persistence,
                output_serializer=CustomDictSerializer(to_dict=packed_response, from_dict=unpacked_response),
            )(function)

        @wraps(function)
        def once_per_key(*, request: dict) -> dict:
            from aws_lambda_powertools.utilities.idempotency.exceptions import (
                IdempotencyAlreadyInProgressError,
                IdempotencyPersistenceLayerError,
                IdempotencyValidationError,
            )

            config, call = built()
            config.register_lambda_context(app.lambda_context)
            try:
                return call(request=request)
            except IdempotencyValidationError:
                raise IdempotencyKeyReused("this Idempotency-Key was already used with a different body") from None
            except IdempotencyAlreadyInProgressError:
                raise IdempotencyInProgress("a request with this Idempotency-Key is still running; "
                                            "retry shortly") from None
            except IdempotencyPersistenceLayerError as failed:
                # The idempotency table throttled or conflicted: before the work (nothing done) or after it
                # (done; its record stays in progress until the invocation's deadline, then a retry finds the
                # work done). Either way the same request with the same key is the answer, as for any 503.
                if busy(failed.__cause__):
                    raise TransientError("the idempotency store is busy; retry with the same Idempotency-Key") \
                        from None
                raise

        return once_per_key

    return idempotent
