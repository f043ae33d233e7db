"""Who may call a route, for the hint the CLI prints with a 403.

The answer is read from template.yaml, the routes' ``AuthorizationScopes`` (what API Gateway checks
on AWS and the local stack checks offline), so the hint cannot drift from the API. The template is
the repository's, next to this package; a CLI installed without it prints a hint without the role.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from .client import ApiError

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
SCOPE_PREFIX = "orderflow/"
# The least powerful role first: the hint names the one a person most likely meant to use.
ROLE_ORDER = ("customer", "warehouse", "admin")


@functools.cache
def route_scopes(template: Path = TEMPLATE) -> tuple[tuple[str, str, re.Pattern[str], tuple[str, ...]], ...]:
    """``(method, path, pattern, scopes)`` of every route of the template's HTTP API."""
    from orderflow_local.http_api import build_routes
    from orderflow_local.template import load_template

    routes = build_routes(load_template(template))
    return tuple((r.method, r.path, r.pattern, r.scopes) for r in routes)


def roles_for(method: str, path: str, template: Path = TEMPLATE) -> tuple[str, list[str]] | None:
    """The route (``"POST /orders/{order_id}/ship"``) a request matches and the roles that may call it,
    least powerful first; None when the template is not there or no route matches."""
    try:
        routes = route_scopes(template)
    except (OSError, ImportError, ValueError):
        return None
    for route_method, route_path, pattern, scopes in routes:
        if route_method in (method.upper(), "ANY") and pattern.match(path):
            roles = [s.removeprefix(SCOPE_PREFIX) for s in scopes]
            ranked = sorted(roles, key=lambda r: ROLE_ORDER.index(r) if r in ROLE_ORDER else len(ROLE_ORDER))
            return f"{route_method} {route_path}", ranked
    return None


def forbidden_hint(method: str | None, path: str | None, template: Path = TEMPLATE) -> str:
    """What to do about a 403: the role the route needs and how to act as it."""
    found = roles_for(method, path, template) if method and path else None
    if not found or not found[1]:
        return "the token's role may not call this route (offline: --as admin, warehouse or customer:ID)"
    route, roles = found
    role = roles[0]
    how = "--as customer:ID" if role == "customer" else f"--as {role}"
    needs = " or ".join(filter(None, (", ".join(roles[:-1]), roles[-1])))
    return (f"{route} needs the {needs} role: {how} offline, or a token with the {SCOPE_PREFIX}{role} scope "
            "(docs/security.md)")


def error_line(exc: ApiError) -> str:
    """An API error as the one line the CLI prints: code, status and
    message, and what to do about a 401 or a 403."""
    line = f"{exc.code} ({exc.status}): {exc.message}"
    if exc.status == 403:
        line += f" - {forbidden_hint(exc.method, exc.path)}"
    elif exc.status == 401:
        line += " - the API did not accept the token (--token / ORDERFLOW_TOKEN; offline the CLI fetches one)"
    return line
