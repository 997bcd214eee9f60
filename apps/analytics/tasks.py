"""Analytics background work, on the low-priority ``analytics`` queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

from django.utils import timezone

from apps.analytics.services import sales_report_generate, sales_report_schedule_daily
from apps.common.background import PermanentTaskError, background_task


@background_task(queue="analytics")
def generate_sales_report(*, report_id: int) -> str:
    """Compute sales report ``report_id``; returns its status. Running it again for a
    done report changes nothing; a missing report or an unknown time zone is a permanent
    failure (no retry)."""
    try:
        return str(sales_report_generate(report_id=report_id).status)
    except ZoneInfoNotFoundError as error:
        raise PermanentTaskError(f"unknown time zone: {error}") from error


@background_task(queue="analytics", retries=1, backoff=(300,))
def daily_sales_report(*, scheduled_tick: int | None = None) -> int:
    """Ask for the marketplace-wide report of the last full local day before the tick
    (the scheduler's moment, or now); returns the report id. One report per day however
    often it runs."""
    moment = datetime.fromtimestamp(scheduled_tick, tz=UTC) if scheduled_tick is not None else None
    day = timezone.localdate(moment or timezone.now()) - timedelta(days=1)
    report, _ = sales_report_schedule_daily(day=day)
    return report.pk
