"""The JWT authorizer of the template's HTTP API, offline: a local issuer and API Gateway's checks.

On AWS, API Gateway verifies each request's bearer token against the issuer and audience in
``OrdersApi``'s ``Auth`` (template.yaml) and each route's ``AuthorizationScopes``, then hands the
claims to the function in ``requestContext.authorizer.jwt``. Offline the local stack is the issuer:
it signs tokens with a key made at start (RS256, as Cognito and most OIDC issuers sign), and the HTTP
front checks them the way API Gateway does:

- no token, or one that is not signed by the issuer, has another ``iss``, none of the audiences in
  ``aud`` (or ``client_id``, as Cognito's access tokens carry it), or is expired or not yet valid:
  **401** ``{"message": "Unauthorized"}``;
- a valid token without one of the route's scopes: **403** ``{"message": "Forbidden"}``.

Those two bodies are API Gateway's own (an HTTP API cannot change them); everything past the
authorizer answers with Orderflow's error body.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

LOCAL_ISSUER = "https://orderflow.local/issuer"
LOCAL_AUDIENCE = "orderflow"
ALGORITHM = "RS256"
LEEWAY_SECONDS = 0


class Unauthorized(Exception):
    """The request carries no token the authorizer accepts (401)."""


class Forbidden(Exception):
    """The token is valid but has none of the route's scopes (403)."""


@dataclass(frozen=True)
class Authorizer:
    """One JWT authorizer of the API: who may issue tokens for it and for which audiences."""

    name: str
    issuer: str
    audiences: tuple[str, ...]
    identity_source: str = "$request.header.Authorization"

    @property
    def header(self) -> str:
        return self.identity_source.rsplit(".", 1)[-1].lower()


class LocalIssuer:
    """Signs tokens for the offline stack; the key lives as long as the stack."""

    def __init__(self, issuer: str = LOCAL_ISSUER, audience: str = LOCAL_AUDIENCE):
        self.issuer, self.audience = issuer, audience
        self.key = RSAKey.generate_key(2048, parameters={"kid": f"local-{uuid.uuid4().hex[:8]}"})

    def token(self, scopes: Iterable[str], subject: str = "local-user", customer_id: str | None = None,
              ttl_seconds: int = 12 * 3600, **claims: Any) -> str:
        """A signed access token with ``scope`` (space-separated, as OAuth issuers write it)."""
        now = int(time.time())
        body: dict[str, Any] = {"iss": self.issuer, "aud": self.audience, "sub": subject, "iat": now, "nbf": now,
                                "exp": now + ttl_seconds, "scope": " ".join(scopes), "jti": uuid.uuid4().hex}
        if customer_id is not None:
            body["customer_id"] = customer_id
        body.update(claims)
        return jwt.encode({"alg": ALGORITHM, "kid": self.key.kid}, body, self.key, algorithms=[ALGORITHM])

    @functools.lru_cache(maxsize=1024)  # noqa: B019 - the issuer lives as long as its stack
    def _signed_claims(self, token: str) -> dict[str, Any]:
        """The claims of a token whose signature is this issuer's. Kept per token: the RSA check gives the
        same answer every time (a client sends one token many times), and the time checks below run on
        every request."""
        return jwt.decode(token, self.key, algorithms=[ALGORITHM]).claims

    def verify(self, token: str, authorizer: Authorizer) -> dict[str, Any]:
        """The claims of a token API Gateway would accept for ``authorizer``, else ``Unauthorized``."""
        try:
            claims = dict(self._signed_claims(token))
        except (JoseError, ValueError) as exc:
            raise Unauthorized(f"token not accepted: {exc}") from None
        if claims.get("iss") != authorizer.issuer:
            raise Unauthorized("token from another issuer")
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
        if claims.get("client_id"):
            audiences.append(claims["client_id"])
        if not set(audiences) & set(authorizer.audiences):
            raise Unauthorized("token for another audience")
        now = time.time()
        if not isinstance(claims.get("exp"), int | float) or claims["exp"] <= now - LEEWAY_SECONDS:
            raise Unauthorized("token expired")
        if isinstance(claims.get("nbf"), int | float) and claims["nbf"] > now + LEEWAY_SECONDS:
            raise Unauthorized("token not valid yet")
        return claims


def scopes_of(claims: Mapping[str, Any]) -> list[str]:
    value = claims.get("scope") or claims.get("scp") or []
    return value.split() if isinstance(value, str) else [str(v) for v in value]


def bearer(headers: Mapping[str, str], authorizer: Authorizer) -> str:
    """The token of the identity source header; ``Bearer `` is optional, as API Gateway takes both."""
    value = headers.get(authorizer.header, "").strip()
    if not value:
        raise Unauthorized("no token")
    return value[7:].strip() if value[:7].lower() == "bearer " else value


def authorize(issuer: LocalIssuer, authorizer: Authorizer, route_scopes: tuple[str, ...],
              headers: Mapping[str, str]) -> dict[str, Any]:
    """API Gateway's check of one request: the ``requestContext.authorizer`` the function receives, or
    ``Unauthorized`` / ``Forbidden``. Claims are passed on as strings, as API Gateway passes them."""
    claims = issuer.verify(bearer(headers, authorizer), authorizer)
    scopes = scopes_of(claims)
    if route_scopes and not set(scopes) & set(route_scopes):
        raise Forbidden(f"the route needs one of {', '.join(route_scopes)}; the token of {claims.get('sub', '?')} "
                        f"has {', '.join(scopes) or 'no scope'}")
    as_strings = {k: v if isinstance(v, str) else (" ".join(map(str, v)) if isinstance(v, list) else str(v))
                  for k, v in claims.items()}
    return {"jwt": {"claims": as_strings, "scopes": scopes or None}}
