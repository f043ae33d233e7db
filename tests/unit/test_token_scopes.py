"""Cognito groups → the access token's scopes and customer claim (orderflow.shared.roles, functions/token_scopes).

The property that matters: whatever scopes the app client allows, a user leaves with exactly the
``orderflow/*`` scopes their groups grant, and a self-signed-up user (no group) never with a staff one.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from orderflow.shared.access import Caller, Role
from orderflow.shared.roles import roles_of_groups, token_grant

REPO = Path(__file__).parents[2]
SAMPLE = json.loads((REPO / "events" / "samples" / "token_scopes_warehouse_user.json").read_text())
ALL = ["openid", "email", "orderflow/customer", "orderflow/warehouse", "orderflow/admin"]


def issued(scopes: list[str], grant) -> set[str]:
    """The scopes Cognito puts in the access token after the trigger's answer."""
    return (set(scopes) | set(grant.scopes_to_add)) - set(grant.scopes_to_suppress)


@pytest.mark.parametrize(("groups", "roles"), [
    ([], {Role.CUSTOMER}),
    (["warehouse"], {Role.CUSTOMER, Role.WAREHOUSE}),
    (["admin"], {Role.CUSTOMER, Role.ADMIN}),
    (["admin", "warehouse"], {Role.CUSTOMER, Role.ADMIN, Role.WAREHOUSE}),
    (["Admin", "admins", "orderflow/admin", "us-east-1_X_Google"], {Role.CUSTOMER}),
])
def test_only_the_known_groups_grant_staff_roles_and_everyone_is_a_customer(groups, roles):
    assert roles_of_groups(groups) == roles


@pytest.mark.parametrize("client_scopes", [ALL, ["openid", "orderflow/customer"], ["aws.cognito.signin.user.admin"]])
def test_a_user_in_no_group_never_leaves_with_a_staff_scope_whatever_the_client_allows(client_scopes):
    grant = token_grant([], client_scopes, {"email": "me@example.com"})
    assert {s for s in issued(client_scopes, grant) if s.startswith("orderflow/")} == {"orderflow/customer"}


def test_staff_scopes_are_added_when_the_client_did_not_ask_and_other_scopes_stay():
    grant = token_grant(["admin"], ["openid", "email", "orderflow/customer"], {})
    assert grant.scopes_to_add == ("orderflow/admin",) and grant.scopes_to_suppress == ()
    assert issued(["openid", "email", "orderflow/customer"], grant) == {"openid", "email", "orderflow/customer",
                                                                       "orderflow/admin"}
    warehouse = token_grant(["warehouse"], [*ALL, "other-api/read"], {})
    assert warehouse.scopes_to_suppress == ("orderflow/admin",)
    assert issued([*ALL, "other-api/read"], warehouse) == {"openid", "email", "other-api/read",
                                                           "orderflow/customer", "orderflow/warehouse"}


def test_the_customer_claim_comes_from_the_attribute_an_administrator_sets():
    assert token_grant([], ALL, {"custom:customer_id": "acme"}).claims == {"customer_id": "acme"}
    assert token_grant([], ALL, {"custom:customer_id": "acme"}, "shop_customer").claims == {"shop_customer": "acme"}
    assert token_grant([], ALL, {"custom:customer_id": "  "}).claims == {}
    # A user-writable standard attribute does not name the customer.
    assert token_grant([], ALL, {"email": "acme", "name": "acme"}).claims == {}
    # CustomerIdClaim=username: Cognito's own claim, which a trigger may not override, is left alone.
    assert token_grant([], ALL, {"custom:customer_id": "acme"}, "username").claims == {}


@pytest.fixture(scope="module")
def trigger():
    path = REPO / "functions" / "token_scopes" / "app.py"
    spec = importlib.util.spec_from_file_location("handler_token_scopes_app", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONTEXT = SimpleNamespace(function_name="TokenScopesFunction", memory_limit_in_mb=128, aws_request_id="req-1",
                          invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:TokenScopesFunction")


def run(trigger, event: dict) -> tuple[dict, Caller]:
    """The trigger's answer, and the caller the API would see from the token Cognito then issues."""
    answer = trigger.handler(copy.deepcopy(event), CONTEXT)
    access = answer["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    scopes = (set(event["request"]["scopes"]) | set(access["scopesToAdd"])) - set(access["scopesToSuppress"])
    claims = {"sub": event["userName"], "scope": " ".join(sorted(scopes)), **access["claimsToAddOrOverride"]}
    return answer, Caller.from_claims(claims)


def test_the_sample_warehouse_user_gets_warehouse_not_admin_through_the_console_client(trigger):
    answer, caller = run(trigger, SAMPLE)
    access = answer["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    assert access == {"scopesToAdd": [], "scopesToSuppress": ["orderflow/admin"], "claimsToAddOrOverride": {}}
    assert caller.roles == {Role.CUSTOMER, Role.WAREHOUSE} and caller.is_staff
    # Left out, the groups would be suppressed from the tokens: the trigger hands them back unchanged.
    groups = answer["response"]["claimsAndScopeOverrideDetails"]["groupOverrideDetails"]
    assert groups == SAMPLE["request"]["groupConfiguration"]
    assert answer["userName"] == SAMPLE["userName"] and answer["request"] == SAMPLE["request"]


def test_a_self_signed_up_customer_acts_only_for_the_customer_an_administrator_set(trigger):
    event = copy.deepcopy(SAMPLE)
    event["triggerSource"] = "TokenGeneration_RefreshTokens"
    event["request"]["groupConfiguration"]["groupsToOverride"] = []
    event["request"]["userAttributes"]["custom:customer_id"] = "acme"
    _, caller = run(trigger, event)
    assert caller.roles == {Role.CUSTOMER} and not caller.is_staff
    assert caller.may_act_for("acme") and not caller.may_act_for("globex")



def test_the_trigger_loads_without_pydantic_or_the_aws_sdk():
    """Cognito waits for the trigger on every sign-in (5 s at most): its cold start imports only what it uses."""
    code = "import sys, app; print(sorted(m for m in ('pydantic', 'boto3', 'orderflow.wiring') if m in sys.modules))"
    env = {**os.environ, "AWS_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO / "functions" / "token_scopes", env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
