"""Sales reports: what was asked for (a local date range, a grouping, a store or all),
how far the background run got, and its figures."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.common.models import BaseModel


class GroupBy(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "Week (from Monday)"
    MONTH = "month", "Month"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class SalesReport(BaseModel):
    """One sales report. ``requested_by`` is empty for the scheduled daily report, whose
    ``schedule_key`` (``daily:<date>``) makes a repeated run of the job find it again."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sales_reports",
    )
    store = models.ForeignKey(
        "vendors.Store",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sales_reports",
        help_text="Empty: every store.",
    )
    start_date = models.DateField()
    end_date = models.DateField(help_text="Inclusive.")
    group_by = models.CharField(max_length=8, choices=GroupBy.choices, default=GroupBy.DAY)
    time_zone = models.CharField(
        max_length=64, help_text="The zone the dates are days of (the marketplace's)."
    )
    status = models.CharField(
        max_length=8, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    schedule_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["requested_by", "-created_at"], name="salesreport_requester_idx"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="salesreport_range_ordered"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReportStatus.values), name="salesreport_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(group_by__in=GroupBy.values), name="salesreport_group_by_valid"
            ),
        ]

    def __str__(self) -> str:
        scope = f"store {self.store_id}" if self.store_id else "all stores"
        return f"Sales {self.start_date} to {self.end_date} by {self.group_by}, {scope}"


class SalesDashboard(SalesReport):
    """The admin's sales dashboard: a link on the admin index, no data of its own."""

    class Meta:
        proxy = True
        verbose_name = "sales dashboard"
        verbose_name_plural = "sales dashboard"
