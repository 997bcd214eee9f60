"""v1: sales reports (asked for, polled, downloaded as CSV) and vendor scorecards, for
vendors (their own store) and staff (any store, or all)."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.analytics.models import GroupBy, SalesReport
from apps.analytics.selectors import (
    sales_report_csv_rows,
    sales_report_filename,
    sales_report_get_for_user,
    store_scorecards_for_user,
)
from apps.analytics.services import sales_report_request
from apps.common.apis.drf_csv import CsvOnly, CsvRenderer
from apps.common.limits import MAX_ID
from apps.vendors.apis.permissions import IsVendorOrStaff


class SalesReportOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="queued, running, done or failed.")
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    group_by = serializers.CharField()
    store_id = serializers.IntegerField(allow_null=True, help_text="Null: every store.")
    time_zone = serializers.CharField(help_text="The zone the dates are days of.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(help_text="Why it failed (empty unless failed).")
    result = serializers.JSONField(
        allow_null=True, help_text="The figures once done (docs/analytics.md)."
    )
    csv_url = serializers.SerializerMethodField()

    def get_csv_url(self, report: SalesReport) -> str:
        return reverse("sales-report-csv", args=[report.pk])


def _detail_url(request: Request, report: SalesReport) -> str:
    return request.build_absolute_uri(reverse("sales-report-detail", args=[report.pk]))


class SalesReportCreateApi(APIView):
    """Ask for a sales report; it is computed in the background (poll the ``Location``)."""

    permission_classes = [IsVendorOrStaff]

    class InputSerializer(serializers.Serializer):
        start_date = serializers.DateField(help_text="First local day (YYYY-MM-DD).")
        end_date = serializers.DateField(help_text="Last local day, inclusive.")
        group_by = serializers.ChoiceField(choices=GroupBy.choices, default=GroupBy.DAY)
        store_id = serializers.IntegerField(
            min_value=1,
            max_value=MAX_ID,
            required=False,
            allow_null=True,
            help_text="Staff: one store (default every store). Vendors: always their own.",
        )

    @extend_schema(
        operation_id="sales_report_create",
        request=InputSerializer,
        responses={
            202: SalesReportOutputSerializer,
            200: OpenApiResponse(
                SalesReportOutputSerializer,
                description="The same request by the same user less than 60 s ago: that "
                "report (unless it failed).",
            ),
        },
        summary="Request a sales report",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report, created = sales_report_request(
            user=request.user,  # type: ignore[arg-type]
            **serializer.validated_data,
        )
        return Response(
            SalesReportOutputSerializer(report).data,
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
            headers={"Location": _detail_url(request, report)},
        )


class SalesReportDetailApi(APIView):
    """A report's status and, once done, its figures. Only its requester reads it (staff
    also the scheduled daily reports); any other id is 404."""

    permission_classes = [IsVendorOrStaff]

    @extend_schema(
        operation_id="sales_report_get",
        responses=SalesReportOutputSerializer,
        summary="A sales report",
    )
    def get(self, request: Request, report_id: int) -> Response:
        report = sales_report_get_for_user(user=request.user, report_id=report_id)  # type: ignore[arg-type]
        return Response(SalesReportOutputSerializer(report).data)


class SalesReportCsvApi(APIView):
    """A done report's series as CSV: a header row, then one row per period."""

    permission_classes = [IsVendorOrStaff]
    renderer_classes = [CsvRenderer]
    content_negotiation_class = CsvOnly

    @extend_schema(
        operation_id="sales_report_csv",
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="period_start, period_end, currency, orders, units_sold, "
                "gross_revenue, refunds, net_revenue.",
            ),
            409: OpenApiResponse(description="Not done yet (`report_not_ready`)."),
        },
        summary="A sales report as CSV",
    )
    def get(self, request: Request, report_id: int) -> HttpResponse:
        report = sales_report_get_for_user(user=request.user, report_id=report_id)  # type: ignore[arg-type]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(sales_report_csv_rows(report=report))
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{sales_report_filename(report)}"'
        return response


class ScorecardOutputSerializer(serializers.Serializer):
    store_id = serializers.IntegerField()
    store_name = serializers.CharField()
    paid_orders = serializers.IntegerField(help_text="The store's parts of orders paid.")
    fulfilled_orders = serializers.IntegerField(help_text="Of them, all lines fulfilled.")
    median_hours_to_fulfil = serializers.FloatField(allow_null=True)
    p90_hours_to_fulfil = serializers.FloatField(allow_null=True)
    due_orders = serializers.IntegerField(help_text="Fulfilled, or open 48 h after payment.")
    fulfilled_within_48h = serializers.IntegerField()
    fulfilled_within_48h_share = serializers.FloatField(allow_null=True)
    placed_orders = serializers.IntegerField(help_text="Orders placed in the range.")
    cancelled_orders = serializers.IntegerField()
    cancellation_rate = serializers.FloatField(allow_null=True)
    refunded_orders = serializers.IntegerField()
    refund_rate = serializers.FloatField(allow_null=True)
    refunded = serializers.DictField(
        child=serializers.CharField(), help_text='Per currency: {"NGN": "1500.00"}.'
    )


class ScorecardListApi(APIView):
    """Vendor scorecards over a range of local days, computed now: the vendor's own
    store, or for staff one store or every store."""

    permission_classes = [IsVendorOrStaff]

    class FilterSerializer(serializers.Serializer):
        start_date = serializers.DateField(help_text="First local day (YYYY-MM-DD).")
        end_date = serializers.DateField(help_text="Last local day, inclusive.")
        store_id = serializers.IntegerField(
            min_value=1,
            max_value=MAX_ID,
            required=False,
            allow_null=True,
            help_text="Staff: one store (default every store). Vendors: always their own.",
        )

    class OutputSerializer(serializers.Serializer):
        start_date = serializers.DateField()
        end_date = serializers.DateField()
        store_id = serializers.IntegerField(allow_null=True)
        time_zone = serializers.CharField()
        scorecards = ScorecardOutputSerializer(many=True)

    @extend_schema(
        operation_id="scorecard_list",
        parameters=[FilterSerializer],
        responses=OutputSerializer,
        summary="Vendor scorecards",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = store_scorecards_for_user(
            user=request.user,  # type: ignore[arg-type]
            **filters.validated_data,
        )
        return Response(self.OutputSerializer(data).data)
