"""Reads on sales reports: who may see which, what a report covers, its figures, its CSV."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from apps.analytics.models import ReportStatus, SalesReport
from apps.analytics.periods import ReportScope, marketplace_zone_name, range_check
from apps.analytics.selectors.sales import sales_figures
from apps.analytics.selectors.scorecards import store_scorecards
from apps.authentication.models import User
from apps.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from apps.common.limits import MAX_ID
from apps.vendors.models import Store

CSV_HEADER = (
    "period_start",
    "period_end",
    "currency",
    "orders",
    "units_sold",
    "gross_revenue",
    "refunds",
    "net_revenue",
    "commission",
    "vendor_net",
)


def report_store_for_user(*, user: User, store_id: int | None) -> int | None:
    """The store a report or scorecard of ``user`` covers: a vendor's own store whatever
    they asked for; for staff the store asked for, or every store (None). Raises
    ``PermissionDenied`` (not a vendor with a store, nor staff) and ``ValidationFailed``
    (``store_id``: no such store)."""
    if user.is_marketplace_staff:
        if store_id is None:
            return None
        if not 0 < store_id <= MAX_ID or not Store.objects.filter(pk=store_id).exists():
            raise ValidationFailed.for_field("store_id", "No such store.", "not_found")
        return store_id
    own = (
        Store.objects.filter(owner_id=user.pk).values_list("pk", flat=True).first()
        if user.is_vendor
        else None
    )
    if own is None:
        raise PermissionDenied("Only vendors with a store and staff read sales.")
    return own


def sales_report_get_for_user(*, user: User, report_id: int) -> SalesReport:
    """A report ``user`` asked for (staff: also the scheduled ones); any other id is
    ``NotFound``, never a hint that it exists."""
    visible = Q(requested_by_id=user.pk)
    if user.is_marketplace_staff:
        visible |= Q(requested_by__isnull=True)
    report = (
        SalesReport.objects.filter(visible, pk=report_id).first()
        if 0 < report_id <= MAX_ID
        else None
    )
    if report is None:
        raise NotFound("Report not found.", code="report_not_found")
    return report


def report_scope(report: SalesReport) -> ReportScope:
    return ReportScope(
        start=report.start_date,
        end=report.end_date,
        store_id=report.store_id,
        group_by=report.group_by,
        zone_name=report.time_zone,
    )


def sales_report_data(*, scope: ReportScope, now: datetime | None = None) -> dict[str, Any]:
    """Everything a report holds: its parameters, the sales per currency and the store
    scorecards. A fixed number of queries (docs/analytics.md)."""
    moment = now or timezone.now()
    return {
        "parameters": {
            "start_date": scope.start.isoformat(),
            "end_date": scope.end.isoformat(),
            "group_by": scope.group_by,
            "store_id": scope.store_id,
            "time_zone": scope.zone_name,
        },
        "generated_at": moment.isoformat(),
        "sales": sales_figures(scope=scope),
        "scorecards": store_scorecards(scope=scope, now=moment),
    }


def store_scorecards_for_user(
    *, user: User, start_date: date, end_date: date, store_id: int | None = None
) -> dict[str, Any]:
    """The scorecards ``user`` may read over a range of local days, computed now: a
    vendor's own store; for staff ``store_id``'s, or every store's. Raises
    ``ValidationFailed`` (``start_date``, ``end_date``, ``store_id``) and
    ``PermissionDenied``."""
    range_check(start_date=start_date, end_date=end_date)
    store = report_store_for_user(user=user, store_id=store_id)
    zone = marketplace_zone_name()
    scope = ReportScope(start=start_date, end=end_date, store_id=store, zone_name=zone)
    return {
        "start_date": start_date,
        "end_date": end_date,
        "store_id": store,
        "time_zone": zone,
        "scorecards": store_scorecards(scope=scope),
    }


def sales_report_csv_rows(*, report: SalesReport) -> list[tuple[str, ...]]:
    """The report's series as CSV rows: the header, then one row per period (and
    currency, when it sold in several). Raises ``Conflict`` until the report is done."""
    if report.status != ReportStatus.DONE or not report.result:
        raise Conflict(
            "The report is not ready yet.",
            code="report_not_ready",
            details={"status": report.status},
        )
    rows = [
        (
            point["period"],
            point["period_end"],
            sales["currency"],
            str(point["orders"]),
            str(point["units_sold"]),
            point["gross_revenue"],
            point["refunds"],
            point["net_revenue"],
            # Reports computed before these columns existed have none.
            point.get("commission", ""),
            point.get("vendor_net", ""),
        )
        for sales in report.result["sales"]
        for point in sales["series"]
    ]
    rows.sort(key=lambda row: (row[0], row[2]))
    return [CSV_HEADER, *rows]


def sales_report_filename(report: SalesReport) -> str:
    scope = f"-store-{report.store_id}" if report.store_id else ""
    return f"sales-{report.start_date}-to-{report.end_date}-by-{report.group_by}{scope}.csv"
