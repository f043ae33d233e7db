"""``orderflow alerts``: what the stack told people (the alerts topic's messages), read from ``GET /alerts``;
``--follow`` keeps printing new ones, offline and deployed alike (docs/alerts.md)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import typer

POLL_SECONDS = 2.0
_DURATION = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def since_moment(text: str, now: datetime | None = None) -> str:
    """``30m``, ``2h``, ``1d`` before now, or an ISO 8601 moment, as the API's UTC form."""
    match = _DURATION.match(text.strip())
    if match:
        moment = (now or datetime.now(UTC)) - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise typer.BadParameter(f"{text!r}: write 30m, 2h, 1d or an ISO 8601 time", param_hint="--since") \
                from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def text(alert: dict[str, Any]) -> str:
    """One alert as a person reads it: when and what, then what happened, what to do, where to look."""
    lines = [f"{alert['at']}  {alert['title']}", f"  {alert['what']}", f"  What to do: {alert['action']}"]
    if alert.get("link"):
        lines.append(f"  Look: {alert['link']}")
    return "\n".join(lines)


def follow_alerts(fetch: Callable[[str | None], dict], since: str | None, show: Callable[[dict], None],
                  follow: bool, sleep: Callable[[float], None] = time.sleep) -> int:
    """Show every alert after ``since``; with ``follow``, poll for new ones until interrupted. Returns how many."""
    shown = 0
    while True:
        page = fetch(since)
        for alert in page["alerts"]:
            show(alert)
            shown += 1
        since = page.get("next_since") or since
        if not follow:
            return shown
        if not page["alerts"]:
            sleep(POLL_SECONDS)
