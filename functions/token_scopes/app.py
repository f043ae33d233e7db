"""Cognito's pre-token-generation trigger (event V2_0) → the access token's Orderflow scopes and customer claim.

Thin: ``orderflow.shared.roles.token_grant`` decides; this writes its answer where Cognito reads it. The
``orderflow/*`` scopes become exactly those the user's groups grant (``scopesToSuppress`` takes away what the
app client allowed beyond them), and a customer's token names the customer an administrator set on the user
(docs/security.md, "Staff in the Cognito pool"). It imports no pydantic and no AWS SDK: Cognito waits for it
on every sign-in and token refresh.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.cognito_user_pool_event import PreTokenGenerationV2TriggerEvent

from orderflow.platform.lambda_support import observability
from orderflow.shared.roles import token_grant

logger, tracer, metrics = observability("token_scopes")
CUSTOMER_ID_CLAIM = os.environ.get("CUSTOMER_ID_CLAIM", "customer_id")


@logger.inject_lambda_context
@event_source(data_class=PreTokenGenerationV2TriggerEvent)
def handler(event: PreTokenGenerationV2TriggerEvent, context: Any) -> dict:
    request = event.request
    grant = token_grant(request.group_configuration.groups_to_override, request.scopes,
                        request.user_attributes, CUSTOMER_ID_CLAIM)
    details = event.response.claims_scope_override_details
    details.group_configuration = dict(request.group_configuration.raw_event)  # cognito:groups stay as they are
    access = details.access_token_generation
    access.scopes_to_add = list(grant.scopes_to_add)
    access.scopes_to_suppress = list(grant.scopes_to_suppress)
    access.claims_to_add_or_override = dict(grant.claims)
    logger.info("token scopes set", extra={"trigger": event.trigger_source, "client_id": event.caller_context.client_id,
                                           "added": grant.scopes_to_add, "suppressed": grant.scopes_to_suppress,
                                           "customer_claim": bool(grant.claims)})
    return event.raw_event
