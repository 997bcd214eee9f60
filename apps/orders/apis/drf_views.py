"""v1: vendors see and fulfil the order lines of their products (staff: all lines)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.apis.drf_pagination import LimitOffsetPage, PageQuerySerializer, paginated
from apps.orders.models import OrderLine, OrderStatus
from apps.orders.selectors import order_lines_for_store
from apps.orders.services import order_line_fulfil
from apps.vendors.apis.permissions import IsVendorOrStaff
from apps.vendors.models import Store
from apps.vendors.selectors import store_get_for_owner


class OrderLineOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    order_number = serializers.CharField(source="order.order_number")
    order_status = serializers.CharField(source="order.status")
    ordered_at = serializers.DateTimeField(source="order.created_at")
    delivery_address = serializers.CharField(source="order.delivery_address")
    shipping_address = serializers.JSONField(
        source="order.shipping_address",
        help_text="The structured address (recipient, phone, lines, city, region, postal "
        "code, country); empty for a one-text address.",
    )
    store_id = serializers.IntegerField()
    variant_id = serializers.IntegerField()
    product_name = serializers.CharField()
    sku = serializers.CharField()
    size = serializers.CharField()
    colour = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField(source="order.currency")
    fulfilled_at = serializers.DateTimeField(allow_null=True)


def _store_of(user: Any) -> Store | None:
    """The vendor's store; None for staff, who see every store's lines."""
    return None if user.is_marketplace_staff else store_get_for_owner(user=user)


class VendorOrderLineListApi(APIView):
    """The order lines of the vendor's products, newest order first."""

    permission_classes = [IsVendorOrStaff]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=OrderStatus.choices, required=False, help_text="The order's status."
        )
        fulfilled = serializers.BooleanField(required=False, allow_null=True, default=None)
        created_from = serializers.DateField(required=False)
        created_to = serializers.DateField(required=False)

    OutputSerializer = OrderLineOutputSerializer

    @extend_schema(
        parameters=[FilterSerializer, PageQuerySerializer],
        responses=paginated(OrderLineOutputSerializer),
        operation_id="vendor_order_lines_list",
        summary="My order lines",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        lines = order_lines_for_store(store=_store_of(request.user), **filters.validated_data)
        paginator = LimitOffsetPage()
        page = paginator.paginate_queryset(lines, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class VendorOrderLineFulfilApi(APIView):
    """Mark one line shipped. When every line of the order is, the order is fulfilled."""

    permission_classes = [IsVendorOrStaff]

    @extend_schema(
        request=None,
        responses={
            200: OrderLineOutputSerializer,
            409: OpenApiResponse(
                description="`line_already_fulfilled`, or `order_not_paid` (its order is not paid)."
            ),
        },
        summary="Fulfil a line",
    )
    def post(self, request: Request, line_id: int) -> Response:
        line = order_line_fulfil(line_id=line_id, store=_store_of(request.user))
        line = OrderLine.objects.select_related("order").get(pk=line.pk)
        return Response(OrderLineOutputSerializer(line).data)
