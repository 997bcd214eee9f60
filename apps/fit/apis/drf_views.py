"""v1: a vendor's size charts (their own store only; another store's chart is 404), and
for staff, the products whose fit stands out from their category."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog.models import SIZES
from apps.common.apis.drf_errors import flatten_errors
from apps.common.apis.drf_pagination import LimitOffsetPage, PageQuerySerializer, paginated
from apps.common.errors import ValidationFailed
from apps.common.limits import MAX_ID
from apps.fit.models import MEASUREMENTS, NAME_MAX_LENGTH, UNIT_NOTE_MAX_LENGTH, SizeChart
from apps.fit.selectors import fit_outliers, size_chart_data, size_chart_get, size_charts_for_store
from apps.fit.services import (
    MAX_CM,
    MAX_ROWS,
    size_chart_create,
    size_chart_delete,
    size_chart_errors,
    size_chart_update,
)
from apps.vendors.apis.permissions import IsMarketplaceStaff, IsVendor
from apps.vendors.models import Store
from apps.vendors.selectors import store_get_for_owner


def _store(request: Request) -> Store:
    return store_get_for_owner(user=request.user)


class SizeChartRowInputSerializer(serializers.Serializer):
    size = serializers.ChoiceField(choices=SIZES)
    measurements = serializers.DictField(
        child=serializers.DecimalField(
            max_digits=4, decimal_places=1, min_value=Decimal("0.1"), max_value=MAX_CM
        ),
        help_text=f"Centimetres by measurement name: {', '.join(MEASUREMENTS)}.",
    )


class SizeChartInputSerializer(serializers.Serializer):
    category_id = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text="Null or absent: the store's default chart.",
    )
    name = serializers.CharField(max_length=NAME_MAX_LENGTH, required=False, allow_blank=True)
    unit_note = serializers.CharField(
        max_length=UNIT_NOTE_MAX_LENGTH, required=False, allow_blank=True
    )
    rows = serializers.ListField(
        child=SizeChartRowInputSerializer(), min_length=1, max_length=MAX_ROWS
    )


class SizeChartPatchSerializer(SizeChartInputSerializer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial=True, **kwargs)


class MeasurementOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    cm = serializers.FloatField()
    inches = serializers.FloatField(help_text="cm / 2.54, one decimal.")


class SizeChartRowOutputSerializer(serializers.Serializer):
    size = serializers.CharField()
    measurements = MeasurementOutputSerializer(many=True)


class ShoeSizeOutputSerializer(serializers.Serializer):
    eu = serializers.CharField()
    uk = serializers.CharField()
    us_men = serializers.CharField()
    us_women = serializers.CharField()
    foot_length_cm = serializers.FloatField()
    foot_length_in = serializers.FloatField()


class SizeChartOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    category_id = serializers.IntegerField(allow_null=True)
    unit_note = serializers.CharField()
    measurements = serializers.ListField(child=serializers.CharField())
    rows = SizeChartRowOutputSerializer(many=True)
    shoe_sizes = ShoeSizeOutputSerializer(many=True, allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _valid_input(
    serializer: serializers.Serializer, store: Store, chart: SizeChart | None = None
) -> dict[str, Any]:
    """The input; when its format is wrong, one 422 that also names the rules it breaks
    (an unknown category or measurement, a size twice, a second chart for a category)."""
    if serializer.is_valid():
        return dict(serializer.validated_data)
    errors = flatten_errors(serializer.errors)
    reported = {error.field for error in errors}
    raw = serializer.initial_data if isinstance(serializer.initial_data, Mapping) else {}
    _, rules = size_chart_errors(store=store, data=raw, chart=chart)
    errors += [
        error
        for error in rules
        if (error.field.split(".")[0] in raw or not serializer.partial)
        and not any(
            error.field == field
            or error.field.startswith(f"{field}.")
            or field.startswith(f"{error.field}.")
            for field in reported
        )
    ]
    raise ValidationFailed(
        "; ".join(f"{error.field}: {error.message}" for error in errors[:5]),
        field_errors=errors,
    )


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    if "rows" in data:
        data["rows"] = [
            # A partial body does not make a row's fields optional: the service names them.
            {"size": row.get("size"), "measurements": dict(row.get("measurements") or {})}
            for row in data["rows"]
        ]
    return data


def _chart_response(store: Store, chart_id: int, code: int = 200) -> Response:
    chart = size_chart_get(store_id=store.pk, chart_id=chart_id)
    return Response(SizeChartOutputSerializer(size_chart_data(chart)).data, status=code)


class VendorSizeChartListApi(APIView):
    """The store's size charts (the default first), and adding one."""

    permission_classes = [IsVendor]

    @extend_schema(
        operation_id="vendor_size_charts_list",
        parameters=[PageQuerySerializer],
        responses=paginated(SizeChartOutputSerializer),
        summary="My size charts",
    )
    def get(self, request: Request) -> Response:
        charts = size_charts_for_store(store_id=_store(request).pk)
        paginator = LimitOffsetPage()
        page = paginator.paginate_queryset(charts, request, view=self)
        return paginator.get_paginated_response(
            SizeChartOutputSerializer([size_chart_data(chart) for chart in page], many=True).data
        )

    @extend_schema(
        operation_id="vendor_size_charts_create",
        request=SizeChartInputSerializer,
        responses={201: SizeChartOutputSerializer},
        summary="Add a size chart",
    )
    def post(self, request: Request) -> Response:
        store = _store(request)
        data = _valid_input(SizeChartInputSerializer(data=request.data), store)
        chart = size_chart_create(store=store, data=_plain(data))
        return _chart_response(store, chart.pk, status.HTTP_201_CREATED)


class VendorSizeChartDetailApi(APIView):
    """One of the store's charts: read, change (``rows`` replace every row), delete."""

    permission_classes = [IsVendor]

    @extend_schema(
        operation_id="vendor_size_charts_get",
        responses=SizeChartOutputSerializer,
        summary="A size chart",
    )
    def get(self, request: Request, size_chart_id: int) -> Response:
        return _chart_response(_store(request), size_chart_id)

    @extend_schema(
        operation_id="vendor_size_charts_update",
        request=SizeChartPatchSerializer,
        responses=SizeChartOutputSerializer,
        summary="Change a size chart",
    )
    def patch(self, request: Request, size_chart_id: int) -> Response:
        store = _store(request)
        chart = size_chart_get(store_id=store.pk, chart_id=size_chart_id)
        data = _valid_input(SizeChartPatchSerializer(data=request.data), store, chart)
        size_chart_update(store=store, chart_id=size_chart_id, data=_plain(data))
        return _chart_response(store, size_chart_id)

    @extend_schema(
        operation_id="vendor_size_charts_delete",
        responses={204: None},
        summary="Delete a size chart",
    )
    def delete(self, request: Request, size_chart_id: int) -> Response:
        size_chart_delete(store=_store(request), chart_id=size_chart_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FitOutlierOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    product_name = serializers.CharField()
    store_id = serializers.IntegerField()
    store_name = serializers.CharField()
    category_id = serializers.IntegerField()
    category_name = serializers.CharField()
    answers = serializers.IntegerField()
    runs_small = serializers.IntegerField()
    true_to_size = serializers.IntegerField()
    runs_large = serializers.IntegerField()
    size_share = serializers.FloatField(help_text="% of answers runs_small or runs_large.")
    category_size_share = serializers.FloatField(help_text="The same share for its category.")
    excess = serializers.FloatField(help_text="size_share - category_size_share, points.")


class StaffFitOutlierListApi(APIView):
    """Products whose share of size answers (runs small + runs large, from customers and
    size-related returns) is far above their category's, the largest excess first."""

    permission_classes = [IsMarketplaceStaff]

    class FilterSerializer(serializers.Serializer):
        min_answers = serializers.IntegerField(
            min_value=1,
            max_value=100_000,
            required=False,
            help_text="Products with at least this many answers (default FIT_SIGNAL_MIN_ANSWERS).",
        )
        min_excess = serializers.IntegerField(
            min_value=0,
            max_value=100,
            required=False,
            help_text="Percentage points above the category's share (default 15).",
        )

    @extend_schema(
        operation_id="staff_fit_outliers_list",
        parameters=[FilterSerializer, PageQuerySerializer],
        responses=paginated(FitOutlierOutputSerializer),
        summary="Products whose fit stands out",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        items = fit_outliers(**filters.validated_data)
        paginator = LimitOffsetPage()
        page = paginator.paginate_queryset(items, request, view=self)
        return paginator.get_paginated_response(FitOutlierOutputSerializer(page, many=True).data)
