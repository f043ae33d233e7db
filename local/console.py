"""The operations console (``console/``, built by ``npm run build`` into ``console/dist``) served at ``/console``
by the offline HTTP front, beside the API, so the browser calls the API on the same origin (no CORS).

Offline ``config.json`` (written beside the files only when the console is published) is answered with
``{"auth": "local"}``: the console then signs in through the local issuer (``/_local/token``), and the browser
logs no failed request on every page load.
Deployed, the same files are on S3 behind CloudFront (docs/console.md).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

CONSOLE_PATH = "/console"
DIST = Path(__file__).resolve().parent.parent / "console" / "dist"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json"}
_HEADERS = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
            ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'")]
_NOT_BUILT = (b"<!doctype html><title>Console not built</title><h1>The console is not built</h1>"
              b"<p>Run <code>make console</code> (npm ci and npm run build in console/), then reload.</p>")

_LOCAL_CONFIG = b'{"auth": "local"}'
Answer = tuple[int, list[tuple[str, str]], bytes]


def content_type(name: str) -> str:
    return _TYPES.get(Path(name).suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def cache_control(relative: str) -> str:
    """Hashed assets never change; anything else (index.html, config.json) is re-checked, so a new build shows."""
    return "public, max-age=31536000, immutable" if relative.startswith("assets/") else "no-cache"


def is_console(raw_path: str) -> bool:
    return raw_path == CONSOLE_PATH or raw_path.startswith(CONSOLE_PATH + "/")


def serve(method: str, raw_path: str, dist: Path = DIST) -> Answer:
    """The file under ``dist`` that ``raw_path`` names (index.html for the folder); 404 for anything else,
    including a path that tries to leave ``dist``."""
    if method not in ("GET", "HEAD"):
        return 405, [("Content-Type", "text/plain"), ("Allow", "GET, HEAD")], b"GET only"
    if raw_path == CONSOLE_PATH:
        return 308, [("Location", CONSOLE_PATH + "/")], b""
    if not (dist / "index.html").is_file():
        return 503, [("Content-Type", "text/html; charset=utf-8")], _NOT_BUILT
    relative = raw_path[len(CONSOLE_PATH) + 1:] or "index.html"
    root = dist.resolve()
    wanted = (root / relative).resolve()
    if relative == "config.json" and not wanted.is_file():
        return 200, [("Content-Type", _TYPES[".json"]), ("Cache-Control", "no-cache"), *_HEADERS], _LOCAL_CONFIG
    if not wanted.is_relative_to(root) or not wanted.is_file():
        return 404, [("Content-Type", "text/plain")], b"not found"
    headers = [("Content-Type", content_type(wanted.name)), ("Cache-Control", cache_control(relative))]
    return 200, [*headers, *_HEADERS], wanted.read_bytes()
