"""Analytics in the admin: the sales reports asked for, and the sales dashboard.

The dashboard computes its figures when the page is asked for, from the same selectors as
the reports (a fixed number of queries, the range bounded to three years like a report):
headline figures and a chart of net revenue per currency, the top products and stores,
and the vendor scorecards, sortable by any column (``?sort=``, ``-`` for descending).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, QueryDict
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html

from apps.analytics.charts import bar_chart
from apps.analytics.models import GroupBy, SalesDashboard, SalesReport
from apps.analytics.periods import ReportScope, marketplace_zone_name, range_errors
from apps.analytics.selectors import SORT_KEYS, sales_figures, sort_scorecards, store_scorecards
from apps.vendors.models import Store

DEFAULT_DAYS = 30
SCORECARD_COLUMNS = (
    ("store_name", "Store"),
    ("paid_orders", "Paid orders"),
    ("median_hours_to_fulfil", "Median hours to fulfil"),
    ("p90_hours_to_fulfil", "90th pct hours"),
    ("fulfilled_within_48h_share", "Within 48 h"),
    ("cancellation_rate", "Cancellation rate"),
    ("refund_rate", "Refund rate"),
)


@admin.register(SalesReport)
class SalesReportAdmin(admin.ModelAdmin[SalesReport]):
    list_display = (
        "id",
        "status",
        "start_date",
        "end_date",
        "group_by",
        "store",
        "requested_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "group_by")
    list_select_related = ("store", "requested_by")
    search_fields = ("requested_by__email", "store__name")
    date_hierarchy = "created_at"
    fields = (
        "status",
        "start_date",
        "end_date",
        "group_by",
        "store",
        "time_zone",
        "requested_by",
        "schedule_key",
        "created_at",
        "started_at",
        "finished_at",
        "error",
        "figures",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SalesReport | None = None) -> bool:
        return False

    @admin.display(description="Result")
    def figures(self, report: SalesReport) -> str:
        if report.result is None:
            return "—"
        return format_html("<pre>{}</pre>", json.dumps(report.result, indent=2))


class DashboardForm(forms.Form):
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    group_by = forms.ChoiceField(choices=GroupBy.choices)
    store = forms.ModelChoiceField(
        queryset=Store.objects.order_by("name", "id"), required=False, empty_label="All stores"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start_date") and data.get("end_date"):
            for error in range_errors(start_date=data["start_date"], end_date=data["end_date"]):
                self.add_error(error.field, error.message)
        return data


def _defaults() -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "start_date": (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        "end_date": today.isoformat(),
        "group_by": GroupBy.DAY,
    }


def _sort_links(query: QueryDict, current: str) -> list[dict[str, Any]]:
    """Each scorecard column's header: a link sorting by it (again: the other way)."""
    links = []
    for key, label in SCORECARD_COLUMNS:
        descending = current == key  # clicking the ascending column turns it around
        params = query.copy()
        params["sort"] = f"-{key}" if descending else key
        links.append(
            {
                "key": key,
                "label": label,
                "url": f"?{params.urlencode()}",
                "active": current.removeprefix("-") == key,
                "descending": current.startswith("-"),
            }
        )
    return links


@admin.register(SalesDashboard)
class SalesDashboardAdmin(admin.ModelAdmin[SalesDashboard]):
    """The dashboard page in place of a list: the index links to it."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: SalesDashboard | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: SalesDashboard | None = None
    ) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        query = request.GET.copy()
        for name, value in _defaults().items():
            query.setdefault(name, value)
        form = DashboardForm(query)
        sort = query.get("sort", "-paid_orders")
        if sort.removeprefix("-") not in SORT_KEYS:
            sort = "-paid_orders"
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Sales dashboard",
            "opts": self.model._meta,
            "form": form,
            "sort": sort,
            "time_zone": marketplace_zone_name(),
            **(extra_context or {}),
        }
        if form.is_valid():
            store = form.cleaned_data["store"]
            scope = ReportScope(
                start=form.cleaned_data["start_date"],
                end=form.cleaned_data["end_date"],
                store_id=store.pk if store else None,
                group_by=form.cleaned_data["group_by"],
                zone_name=marketplace_zone_name(),
            )
            sales = sales_figures(scope=scope)
            context.update(
                scope=scope,
                sales=[{**figures, "chart": bar_chart(figures["series"])} for figures in sales],
                scorecards=sort_scorecards(store_scorecards(scope=scope), sort),
                columns=_sort_links(query, sort),
            )
        return TemplateResponse(request, "admin/analytics/dashboard.html", context)
