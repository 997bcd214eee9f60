"""Analytics events (ids only), published after the transaction commits."""

from __future__ import annotations

from apps.common.events import Event


class SalesReportRequested(Event):
    name = "analytics.sales_report_requested"
    report_id: int
