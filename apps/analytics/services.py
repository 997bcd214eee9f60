"""Writes on sales reports: asking for one, computing it, the scheduled daily report."""

from __future__ import annotations

from datetime import date, timedelta

import structlog
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.analytics.events import SalesReportRequested
from apps.analytics.models import GroupBy, ReportStatus, SalesReport
from apps.analytics.periods import group_by_check, marketplace_zone_name, range_check
from apps.analytics.selectors import report_scope, report_store_for_user, sales_report_data
from apps.authentication.models import User
from apps.common.events import publish

logger = structlog.get_logger(__name__)

# An identical request by the same user within this window gets the report already
# asked for (unless it failed) instead of a second computation.
REUSE_WINDOW = timedelta(seconds=60)
ERROR_LENGTH = 2000


@transaction.atomic
def sales_report_request(
    *,
    user: User,
    start_date: date,
    end_date: date,
    group_by: str = GroupBy.DAY,
    store_id: int | None = None,
) -> tuple[SalesReport, bool]:
    """Ask for a sales report, computed in the background on the ``analytics`` queue.
    A vendor's report covers their own store whatever ``store_id`` says; staff name any
    store or none (every store). Returns ``(report, created)``: ``created`` is False when
    the same user asked for the same report less than ``REUSE_WINDOW`` ago and it has not
    failed — that report is returned. Raises ``ValidationFailed`` (``group_by``,
    ``start_date``, ``end_date``, ``store_id``) and ``PermissionDenied``."""
    group_by_check(group_by)
    range_check(start_date=start_date, end_date=end_date)
    store = report_store_for_user(user=user, store_id=store_id)
    # Holding the requester's row serialises their requests: two identical ones at once
    # give one report.
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    same_store = Q(store_id=store) if store is not None else Q(store__isnull=True)
    recent = (
        SalesReport.objects.filter(
            same_store,
            requested_by=user,
            start_date=start_date,
            end_date=end_date,
            group_by=group_by,
            created_at__gte=timezone.now() - REUSE_WINDOW,
        )
        .exclude(status=ReportStatus.FAILED)
        .order_by("-created_at", "-id")
        .first()
    )
    if recent is not None:
        return recent, False
    report = SalesReport.objects.create(
        requested_by=user,
        store_id=store,
        start_date=start_date,
        end_date=end_date,
        group_by=group_by,
        time_zone=marketplace_zone_name(),
    )
    publish(SalesReportRequested(report_id=report.pk))
    logger.info("sales_report.requested", report_id=report.pk, store_id=store)
    return report, True


def sales_report_generate(*, report_id: int) -> SalesReport:
    """Compute a report's figures: ``running``, then ``done`` with its result. A done
    report is left as it is (a repeated run changes nothing). A failure is recorded on
    the report (``failed``, with the error) and raised again, so that the task's retry
    policy applies; a later successful attempt makes it ``done``. Raises
    ``SalesReport.DoesNotExist``."""
    report = SalesReport.objects.get(pk=report_id)
    if report.status == ReportStatus.DONE:
        return report
    started = timezone.now()
    SalesReport.objects.filter(pk=report_id).exclude(status=ReportStatus.DONE).update(
        status=ReportStatus.RUNNING, started_at=started, error="", updated_at=started
    )
    try:
        result = sales_report_data(scope=report_scope(report))
    except Exception as error:
        SalesReport.objects.filter(pk=report_id).exclude(status=ReportStatus.DONE).update(
            status=ReportStatus.FAILED,
            error=f"{type(error).__name__}: {error}"[:ERROR_LENGTH],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        raise
    finished = timezone.now()
    SalesReport.objects.filter(pk=report_id).update(
        status=ReportStatus.DONE,
        result=result,
        error="",
        finished_at=finished,
        updated_at=finished,
    )
    logger.info(
        "sales_report.done",
        report_id=report_id,
        seconds=round((finished - started).total_seconds(), 3),
    )
    report.refresh_from_db()
    return report


@transaction.atomic
def sales_report_schedule_daily(*, day: date) -> tuple[SalesReport, bool]:
    """The marketplace-wide report of one local ``day``, asked for once however often the
    daily job runs for it. Returns ``(report, created)``."""
    report, created = SalesReport.objects.get_or_create(
        schedule_key=f"daily:{day.isoformat()}",
        defaults={
            "start_date": day,
            "end_date": day,
            "group_by": GroupBy.DAY,
            "time_zone": marketplace_zone_name(),
        },
    )
    if created:
        publish(SalesReportRequested(report_id=report.pk))
        logger.info("sales_report.scheduled", report_id=report.pk, day=day.isoformat())
    return report, created
