"""Reactions to analytics events: a requested report is computed in the background."""

from __future__ import annotations

from apps.analytics.events import SalesReportRequested
from apps.analytics.tasks import generate_sales_report
from apps.common.events import subscribe


@subscribe(SalesReportRequested)
def compute_sales_report(event: SalesReportRequested) -> None:
    generate_sales_report.enqueue(report_id=event.report_id)
