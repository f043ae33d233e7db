"""The README's HTTP API table against template.yaml: every route the stack serves is in the table, with
the roles whose scopes it takes, and the table names no route the template lacks. The README's layout
names every function and state machine folder."""

from __future__ import annotations

import re
from pathlib import Path

from orderflow_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ROUTE = re.compile(r"`(GET|PUT|POST|PATCH|DELETE) (/[^`?\s]*)")
ROLE_ORDER = ("customer", "warehouse", "admin")


def template_routes() -> dict[tuple[str, str], str]:
    """``(method, path)`` → the README's "who" for it: the roles of its scopes, or anyone without a token."""
    routes = {}
    for function in load_template(ROOT / "template.yaml").functions:
        for event in function.http_events:
            roles = sorted((s.removeprefix("orderflow/") for s in event.scopes), key=ROLE_ORDER.index)
            routes[(event.method, event.path)] = ", ".join(roles) if event.authorizer else "anyone (no token)"
    return routes


def readme_routes() -> dict[tuple[str, str], str]:
    table = README[README.index("| method and path | who |"):]
    table = table[:table.index("\n\n")]
    routes = {}
    for row in table.splitlines()[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        for method, path in ROUTE.findall(cells[0]):
            assert (method, path) not in routes, f"{method} {path} is in the README's table twice"
            routes[(method, path)] = cells[1]
    return routes


def test_the_readme_route_table_is_the_templates_routes_with_their_roles() -> None:
    ours, served = readme_routes(), template_routes()
    assert sorted(set(served) - set(ours)) == [], "routes the stack serves that the README does not list"
    assert sorted(set(ours) - set(served)) == [], "routes the README lists that template.yaml does not declare"
    assert {k: ours[k] for k in served} == served


def test_the_readme_layout_names_every_function_and_state_machine() -> None:
    layout = README[README.index("## Layout"):]
    layout = layout[:layout.index("\n## ", 1)]
    for folder in sorted(p.name for p in (ROOT / "functions").iterdir() if any(p.glob("*.py"))):
        assert f"functions/{folder}/" in layout, folder
    for machine in sorted(p.name for p in (ROOT / "statemachines").glob("*.asl.json")):
        assert machine in layout, machine
