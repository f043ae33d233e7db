"""Alerts: domain events and periodic checks told to people, one readable message each, throttled.

Public surface for other areas: this module.
"""

from orderflow.alerts.domain import Alert
from orderflow.alerts.service import AlertService

__all__ = ["Alert", "AlertService"]
