"""Who is calling, and what they may see: customers act only for themselves, staff for anyone.

The HTTP API's JWT authorizer (template.yaml) has already checked the token and that its scopes allow
the route: ``orderflow/customer`` routes are open to customers and staff, ``orderflow/warehouse``
routes (ship, deliver, receive returns) to the warehouse and admins, everything that changes the
catalogue, credit, stock or purchasing to ``orderflow/admin`` only. What a route table cannot say is
*whose* order a customer may touch; that is decided here, from the token's claims (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from orderflow.shared.errors import NotFound, OrderflowError
from orderflow.shared.roles import SCOPE_PREFIX, Role

__all__ = ["SCOPE_PREFIX", "Caller", "Forbidden", "Role"]

class Forbidden(OrderflowError):
    http_status = 403
    code = "FORBIDDEN"

class Caller(BaseModel):
    """The authenticated caller: the token's subject, its Orderflow roles and, for a customer, the
    customer id the token speaks for."""

    # Built on first use like every model in orderflow.models: the staff-only routes never need it.
    model_config = ConfigDict(frozen=True, defer_build=True)

    subject: str | None = None
    roles: frozenset[Role] = frozenset()
    customer_id: str | None = None

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], scopes: Iterable[str] = (), customer_claim: str = "customer_id"
                    ) -> Caller:
        """From a verified token's claims (``scope``/``scp`` space-separated, as OAuth issuers write them)
        and any scopes the authorizer listed separately."""
        granted = set(scopes or ())
        for name in ("scope", "scp"):
            value = claims.get(name)
            if isinstance(value, str):
                granted.update(value.split())
            elif isinstance(value, list | tuple):
                granted.update(str(v) for v in value)
        roles = frozenset(Role(s.removeprefix(SCOPE_PREFIX)) for s in granted
                          if s.startswith(SCOPE_PREFIX) and s.removeprefix(SCOPE_PREFIX) in Role.__members__.values())
        customer = claims.get(customer_claim)
        subject = claims.get("sub")
        return cls(subject=str(subject) if subject is not None else None, roles=roles,
                   customer_id=str(customer) if customer not in (None, "") else None)

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & {Role.WAREHOUSE, Role.ADMIN})

    @property
    def actor(self) -> str:
        """Who acted, as a timeline names them: ``admin`` or ``warehouse`` for staff, else ``customer``."""
        return next((role.value for role in (Role.ADMIN, Role.WAREHOUSE) if role in self.roles), Role.CUSTOMER.value)

    def may_act_for(self, customer_id: str) -> bool:
        return self.is_staff or (self.customer_id is not None and self.customer_id == customer_id)

    def require_customer(self, customer_id: str) -> None:
        """For requests that name the customer (submit, list, credit): another customer's is refused."""
        if not self.may_act_for(customer_id):
            raise Forbidden(f"this token may not act for customer {customer_id}", {"customer_id": customer_id})

    def require_role(self, role: Role, what: str, unless: bool = False) -> None:
        """For a route open to several scopes where some requests need one of them (``unless``: this one
        does not)."""
        if not unless and role not in self.roles:
            raise Forbidden(f"{what} needs the {SCOPE_PREFIX}{role.value} scope", {"scope": f"{SCOPE_PREFIX}{role}"})

    def require_owner(self, customer_id: str, what: str) -> None:
        """For things found by their id (an order, a return): another customer's is not found, so ids
        cannot be probed."""
        if not self.may_act_for(customer_id):
            raise NotFound(f"{what} not found")
