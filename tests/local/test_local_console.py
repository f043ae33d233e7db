"""The offline front serves the built console at /console: its files with their types, index.html for the
folder, and nothing outside console/dist."""

from __future__ import annotations

import json
from pathlib import Path

from orderflow_local.console import is_console, serve


def built(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir(parents=True)
    (tmp_path / "index.html").write_text("<!doctype html><title>Orderflow console</title>")
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path.parent / "secret.txt").write_text("not for the browser")
    return tmp_path


def test_the_folder_serves_index_html_and_assets_with_their_types(tmp_path):
    dist = built(tmp_path / "dist")
    status, headers, body = serve("GET", "/console/", dist)
    assert status == 200 and b"Orderflow console" in body
    assert dict(headers)["Content-Type"].startswith("text/html") and dict(headers)["Cache-Control"] == "no-cache"
    status, headers, _ = serve("GET", "/console/assets/index-abc.js", dist)
    assert status == 200 and dict(headers)["Content-Type"].startswith("text/javascript")
    assert "immutable" in dict(headers)["Cache-Control"]
    assert serve("GET", "/console", dist)[:2] == (308, [("Location", "/console/")])


def test_nothing_outside_the_build_and_no_writes(tmp_path):
    dist = built(tmp_path / "dist")
    assert serve("GET", "/console/../secret.txt", dist)[0] == 404
    assert serve("GET", "/console/%2e%2e/secret.txt", dist)[0] == 404
    assert serve("POST", "/console/index.html", dist)[0] == 405
    assert not is_console("/consoles") and is_console("/console") and is_console("/console/x")


def test_offline_the_config_says_sign_in_locally_unless_the_build_has_one(tmp_path):
    """A 404 here would be a failed request in the browser's log on every page load."""
    dist = built(tmp_path / "dist")
    status, headers, body = serve("GET", "/console/config.json", dist)
    assert status == 200 and json.loads(body) == {"auth": "local"}
    assert dict(headers)["Content-Type"] == "application/json" and dict(headers)["Cache-Control"] == "no-cache"
    (dist / "config.json").write_text('{"api": "https://api.example.com"}')
    assert json.loads(serve("GET", "/console/config.json", dist)[2]) == {"api": "https://api.example.com"}


def test_an_unbuilt_console_says_how_to_build_it(tmp_path):
    status, _, body = serve("GET", "/console/", tmp_path / "missing")
    assert status == 503 and b"make console" in body
