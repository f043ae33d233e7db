"""Shipping addresses on the command line, and the sample one the demo and the tests ship to."""

from __future__ import annotations

from typing import Any

# The demo shop's customers ship here (and so do the tests' orders, unless a test is about addresses).
SAMPLE_ADDRESS: dict[str, Any] = {"name": "Acme Ltd", "line1": "1 Dock Road", "city": "Leeds",
                                  "postal_code": "LS1 4AP", "country": "GB"}
FIELDS = ("name", "line1", "city", "postal_code", "country")


def parse_address(text: str) -> dict[str, Any]:
    """``"Acme Ltd, 1 Dock Road, Leeds, LS1 4AP, GB"``: name, line 1, city, postal code, country, comma
    separated (the API checks each field; this only splits them)."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != len(FIELDS):
        raise ValueError(f"--ship-to wants {len(FIELDS)} comma-separated fields ({', '.join(FIELDS)}), "
                         f"got {len(parts)}: {text!r}")
    return dict(zip(FIELDS, parts, strict=True))
