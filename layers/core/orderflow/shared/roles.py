"""The API's roles, their OAuth scopes, and which Cognito user pool groups grant them.

Pure (no pydantic, no AWS SDK): the pre-token-generation trigger (functions/token_scopes) imports only this
module, and ``orderflow.shared.access`` reads the same roles back from a verified token.

Cognito puts every scope an app client allows into the token of every user who signs in through it. The
trigger makes the access token's ``orderflow/*`` scopes exactly the ones the user's groups grant: it adds
those the client did not put in and removes every other one, so a user in no group (anyone who signed up
by themselves) holds ``orderflow/customer`` and nothing more, whatever the client allows
(docs/security.md, "Staff in the Cognito pool").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import NamedTuple

SCOPE_PREFIX = "orderflow/"


class Role(StrEnum):
    CUSTOMER = "customer"
    WAREHOUSE = "warehouse"
    ADMIN = "admin"

    @property
    def scope(self) -> str:
        return SCOPE_PREFIX + self.value


# Every user, in a group or not. Only an administrator puts a user into a group (AdminAddUserToGroup);
# the group names are the template's user pool groups (StaffGroupAdmin, StaffGroupWarehouse).
EVERYONE = Role.CUSTOMER
GROUP_ROLES: Mapping[str, Role] = {"admin": Role.ADMIN, "warehouse": Role.WAREHOUSE}

# The user attribute an administrator sets to the customer id a user acts for (custom attributes are
# "custom:"-prefixed in Cognito). No app client may write it, so a user cannot choose whose orders to see.
CUSTOMER_ID_ATTRIBUTE = "custom:customer_id"

# Claims Cognito writes itself and a trigger may not override: with CustomerIdClaim naming one of them
# (e.g. "username"), the token already carries it and the trigger leaves it alone.
COGNITO_CLAIMS = frozenset({"sub", "username", "client_id", "scope", "token_use", "iss", "aud", "exp", "iat",
                            "auth_time", "jti", "origin_jti", "event_id", "cognito:groups", "version"})


class TokenGrant(NamedTuple):
    """What the trigger changes in an access token."""

    scopes_to_add: tuple[str, ...]
    scopes_to_suppress: tuple[str, ...]
    claims: Mapping[str, str]


def roles_of_groups(groups: Iterable[str]) -> frozenset[Role]:
    """The roles a user's groups grant; a group Orderflow does not know grants nothing."""
    return frozenset({EVERYONE} | {GROUP_ROLES[g] for g in groups if g in GROUP_ROLES})


def token_grant(groups: Iterable[str], scopes: Iterable[str], attributes: Mapping[str, str],
                customer_claim: str = "customer_id") -> TokenGrant:
    """The access token's ``orderflow/*`` scopes become exactly those of the user's groups (``scopes`` is
    what Cognito was about to issue: the requested scopes the client allows); other scopes (``openid``,
    ``email``, other APIs') are left as they are. The customer claim comes from the attribute only an
    administrator sets."""
    granted = {role.scope for role in roles_of_groups(groups)}
    present = set(scopes)
    add = tuple(sorted(granted - present))
    suppress = tuple(sorted(s for s in present if s.startswith(SCOPE_PREFIX) and s not in granted))
    customer = (attributes.get(CUSTOMER_ID_ATTRIBUTE) or "").strip()
    claims = {customer_claim: customer} if customer and customer_claim not in COGNITO_CLAIMS else {}
    return TokenGrant(add, suppress, claims)
