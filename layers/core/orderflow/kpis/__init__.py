"""KPIs: daily aggregates computed from the domain events, and the KPIs of a range of days.

Public surface for other areas: this module.
"""

from orderflow.kpis.service import KpiService

__all__ = ["KpiService"]
