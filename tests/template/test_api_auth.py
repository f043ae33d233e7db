"""Every route of the HTTP API is behind the JWT authorizer with the scopes of who may call it
(docs/security.md); only the OpenAPI document is public. Reads template.yaml only."""

from __future__ import annotations

from pathlib import Path

from orderflow.shared.roles import CUSTOMER_ID_ATTRIBUTE, GROUP_ROLES
from orderflow_local.template import load_template, read_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
CUSTOMER, WAREHOUSE, ADMIN = "orderflow/customer", "orderflow/warehouse", "orderflow/admin"
PUBLIC = {("GET", "/swagger"), ("GET", "/openapi.json")}
# What only staff may do (issue #6: warehouse routes ship/deliver, admin routes products, stock, suppliers).
WAREHOUSE_ROUTES = {("POST", "/orders/{order_id}/ship"), ("POST", "/orders/{order_id}/deliver"),
                    ("POST", "/returns/{return_id}/receive"),
                    ("POST", "/stock/{sku}/adjustments"),  # receipts; a count down (write-off) is admin's only
                    *(("POST", f"/shipments/{{shipment_id}}/{verb}") for verb in ("pick", "pack", "ship", "deliver"))}
# Staff reads: where stock is held and ships from (the warehouse works from it; customers never see it).
STAFF_READS = {("GET", "/locations"), ("GET", "/locations/{location_id}"),
               ("GET", "/locations/{location_id}/shipments")}
CUSTOMER_ACTIONS = {("POST", "/orders"), ("POST", "/orders/{order_id}/cancel"), ("POST", "/orders/{order_id}/returns")}


def routes() -> dict[tuple[str, str], tuple[str | None, tuple[str, ...]]]:
    template = load_template(TEMPLATE)
    return {(e.method, e.path): (e.authorizer, e.scopes) for fn in template.functions for e in fn.http_events}


def test_the_api_has_a_jwt_authorizer_by_default_on_the_authorization_header():
    api = read_template(TEMPLATE)["Resources"]["OrdersApi"]["Properties"]["Auth"]
    assert api["DefaultAuthorizer"] == "OrderflowJwt"
    assert api["Authorizers"]["OrderflowJwt"]["IdentitySource"] == "$request.header.Authorization"
    assert set(api["Authorizers"]["OrderflowJwt"]["JwtConfiguration"]) == {"issuer", "audience"}


def test_every_route_but_the_openapi_page_needs_a_token_with_a_scope():
    for route, (authorizer, scopes) in routes().items():
        if route in PUBLIC:
            assert authorizer is None, route
            continue
        assert authorizer == "OrderflowJwt" and scopes, route
        assert set(scopes) <= {CUSTOMER, WAREHOUSE, ADMIN}, route
        assert ADMIN in scopes, route  # operators may do anything


def test_customers_reach_only_customer_routes_and_the_warehouse_only_its_own():
    found = routes()
    for route, (_, scopes) in found.items():
        if route in PUBLIC:
            continue
        method, path = route
        customer_may = CUSTOMER in scopes
        if route in CUSTOMER_ACTIONS:
            assert customer_may and WAREHOUSE not in scopes, route
        elif route in WAREHOUSE_ROUTES or route in STAFF_READS:
            assert WAREHOUSE in scopes and not customer_may, route
        elif route == ("GET", "/customers/{customer_id}"):  # a customer's account: credit, exposure, payments
            assert customer_may and WAREHOUSE not in scopes, route
        elif method == "GET" and path.split("/")[1] in {"orders", "returns", "products", "stock", "shipments"}:
            assert customer_may and WAREHOUSE in scopes, route  # reads of what customers own or may see
        else:
            assert scopes == (ADMIN,), route  # catalogue, credit, stock adjustments, purchasing
    assert set(found) >= WAREHOUSE_ROUTES | CUSTOMER_ACTIONS | PUBLIC


def test_offline_the_authorizer_trusts_the_local_issuer_and_deployed_a_parameter_or_the_created_pool():
    offline = load_template(TEMPLATE).authorizers["OrderflowJwt"]
    assert offline.issuer == "https://orderflow.local/issuer" and offline.audiences == ("orderflow",)
    other = load_template(TEMPLATE, {"JwtIssuer": "https://id.example.com/", "JwtAudience": "shop,erp"})
    assert other.authorizers["OrderflowJwt"].issuer == "https://id.example.com/"
    assert other.authorizers["OrderflowJwt"].audiences == ("shop", "erp")
    resources = read_template(TEMPLATE)["Resources"]
    assert {k for k, v in resources.items() if v.get("Condition") == "CreateUserPool"} == {
        "UserPool", "UserPoolDomain", "OrderflowScopes", "OperatorsClient", "CustomersClient", "ConsoleClient",
        "StaffGroupAdmin", "StaffGroupWarehouse", "TokenScopesFunction", "TokenScopesPermission",
        "TokenScopesFunctionLogGroup", "TokenScopesFunctionErrorsAlarm"}


def test_the_created_pool_grants_staff_scopes_by_group_and_no_user_can_pick_their_customer():
    resources = read_template(TEMPLATE)["Resources"]
    pool = resources["UserPool"]["Properties"]
    # V2_0 is the event that can add and remove access-token scopes; it needs the Essentials or Plus plan.
    assert pool["LambdaConfig"] == {"PreTokenGenerationConfig": {
        "LambdaArn": {"Fn::GetAtt": ["TokenScopesFunction", "Arn"]}, "LambdaVersion": "V2_0"}}
    assert pool["UserPoolTier"] in {"ESSENTIALS", "PLUS"}
    permission = resources["TokenScopesPermission"]["Properties"]
    assert permission["Principal"] == "cognito-idp.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["UserPool", "Arn"]}
    groups = {v["Properties"]["GroupName"] for v in resources.values() if v["Type"] == "AWS::Cognito::UserPoolGroup"}
    assert groups == set(GROUP_ROLES)
    # The customer a token acts for is custom:customer_id, which only an administrator writes.
    assert {a["Name"] for a in pool["Schema"]} == {CUSTOMER_ID_ATTRIBUTE.removeprefix("custom:")}
    for name in ("CustomersClient", "ConsoleClient"):
        assert CUSTOMER_ID_ATTRIBUTE not in resources[name]["Properties"]["WriteAttributes"], name
