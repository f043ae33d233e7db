"""Who may act for which customer, from a verified token's claims (orderflow.shared.access)."""

from __future__ import annotations

import pytest

from orderflow.shared.access import Caller, Forbidden, Role
from orderflow.shared.errors import NotFound


def test_roles_come_from_orderflow_scopes_in_the_scope_claim_or_the_authorizers_list():
    caller = Caller.from_claims({"sub": "u1", "scope": "openid orderflow/customer email"}, ["orderflow/warehouse"])
    assert caller.roles == {Role.CUSTOMER, Role.WAREHOUSE} and caller.subject == "u1"
    assert Caller.from_claims({"scp": ["orderflow/admin", "other/admin"]}).roles == {Role.ADMIN}
    assert Caller.from_claims({"scope": "orderflow/root orderflowadmin"}).roles == frozenset()


def test_a_customer_acts_only_for_the_customer_its_token_names():
    me = Caller.from_claims({"sub": "u1", "scope": "orderflow/customer", "customer_id": "C-1"})
    assert me.may_act_for("C-1") and not me.may_act_for("C-2") and not me.is_staff
    me.require_customer("C-1")
    with pytest.raises(Forbidden) as refused:
        me.require_customer("C-2")
    assert refused.value.http_status == 403 and refused.value.details == {"customer_id": "C-2"}
    with pytest.raises(NotFound, match="order ord-9 not found"):
        me.require_owner("C-2", "order ord-9")


def test_the_customer_claim_is_configurable_and_a_token_without_it_acts_for_nobody():
    cognito = Caller.from_claims({"sub": "abc-123", "scope": "orderflow/customer"}, customer_claim="sub")
    assert cognito.customer_id == "abc-123" and cognito.may_act_for("abc-123")
    nameless = Caller.from_claims({"sub": "abc-123", "scope": "orderflow/customer", "customer_id": ""})
    assert nameless.customer_id is None and not nameless.may_act_for("")


@pytest.mark.parametrize("scope", ["orderflow/warehouse", "orderflow/admin"])
def test_staff_act_for_every_customer(scope):
    staff = Caller.from_claims({"sub": "ops", "scope": scope})
    assert staff.is_staff and staff.may_act_for("C-1") and staff.may_act_for("C-2")


def test_no_authorizer_context_is_a_caller_with_no_rights():
    nobody = Caller.from_claims({})
    assert nobody.roles == frozenset() and not nobody.may_act_for("C-1")
