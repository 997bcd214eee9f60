"""v1, vendors: their shipping methods, and the shipments of their part of each order —
pack, ship (carrier and tracking), report delivered or returned. Another store's method
or shipment is 404; a step out of order is 409."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.apis.drf_pagination import LimitOffsetPage, PageQuerySerializer, paginated
from apps.shipping.models import Shipment, ShipmentStatus
from apps.shipping.selectors import (
    shipment_get_for_store,
    shipment_line_ids,
    shipments_for_store,
    shipping_method_get,
    shipping_methods_for_store,
)
from apps.shipping.services import (
    shipment_pack,
    shipment_report_delivered,
    shipment_report_returned,
    shipment_ship,
    shipping_method_create,
    shipping_method_delete,
    shipping_method_update,
)
from apps.shipping.services.methods import MAX_DAYS
from apps.shipping.services.shipments import CARRIER_MAX, TRACKING_MAX
from apps.vendors.apis.permissions import IsVendor
from apps.vendors.models import Store
from apps.vendors.selectors import store_get_for_owner


def _store(request: Request) -> Store:
    return store_get_for_owner(user=request.user)


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class ShippingMethodOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    price = _money()
    currency = serializers.CharField()
    free_above = _money(allow_null=True, help_text="Free from this subtotal of the store's items.")
    min_days = serializers.IntegerField()
    max_days = serializers.IntegerField()
    countries = serializers.ListField(
        child=serializers.CharField(), help_text="ISO 3166-1 alpha-2; empty: every country."
    )
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ShippingMethodInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    price = _money(min_value=0, max_value=999999)
    free_above = _money(min_value=0, max_value=999999, required=False, allow_null=True)
    min_days = serializers.IntegerField(min_value=0, max_value=MAX_DAYS)
    max_days = serializers.IntegerField(min_value=0, max_value=MAX_DAYS)
    countries = serializers.ListField(
        child=serializers.CharField(min_length=2, max_length=2),
        max_length=60,
        required=False,
        help_text="ISO 3166-1 alpha-2 codes served; empty or absent: every country.",
    )
    is_active = serializers.BooleanField(required=False, default=True)


class ShippingMethodPatchSerializer(ShippingMethodInputSerializer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial=True, **kwargs)


class VendorShippingMethodListApi(APIView):
    """The store's shipping methods (cheapest first), and adding one. A store without
    active methods offers the marketplace's defaults."""

    permission_classes = [IsVendor]

    @extend_schema(
        operation_id="vendor_shipping_methods_list",
        parameters=[PageQuerySerializer],
        responses=paginated(ShippingMethodOutputSerializer),
        summary="My shipping methods",
    )
    def get(self, request: Request) -> Response:
        methods = shipping_methods_for_store(store_id=_store(request).pk)
        paginator = LimitOffsetPage()
        page = paginator.paginate_queryset(methods, request, view=self)
        return paginator.get_paginated_response(
            ShippingMethodOutputSerializer(page, many=True).data
        )

    @extend_schema(
        operation_id="vendor_shipping_methods_create",
        request=ShippingMethodInputSerializer,
        responses={
            201: ShippingMethodOutputSerializer,
            409: OpenApiResponse(description="`too_many_shipping_methods` (20 per store)."),
        },
        summary="Add a shipping method",
    )
    def post(self, request: Request) -> Response:
        serializer = ShippingMethodInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        method = shipping_method_create(store=_store(request), data=serializer.validated_data)
        return Response(ShippingMethodOutputSerializer(method).data, status=status.HTTP_201_CREATED)


class VendorShippingMethodDetailApi(APIView):
    """One of the store's methods: read, change (orders already placed keep what they
    were charged), delete."""

    permission_classes = [IsVendor]

    @extend_schema(
        operation_id="vendor_shipping_methods_get",
        responses=ShippingMethodOutputSerializer,
        summary="A shipping method",
    )
    def get(self, request: Request, method_id: int) -> Response:
        method = shipping_method_get(store_id=_store(request).pk, method_id=method_id)
        return Response(ShippingMethodOutputSerializer(method).data)

    @extend_schema(
        operation_id="vendor_shipping_methods_update",
        request=ShippingMethodPatchSerializer,
        responses=ShippingMethodOutputSerializer,
        summary="Change a shipping method",
    )
    def patch(self, request: Request, method_id: int) -> Response:
        serializer = ShippingMethodPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        method = shipping_method_update(
            store=_store(request), method_id=method_id, data=serializer.validated_data
        )
        return Response(ShippingMethodOutputSerializer(method).data)

    @extend_schema(
        operation_id="vendor_shipping_methods_delete",
        responses={204: None},
        summary="Delete a shipping method",
    )
    def delete(self, request: Request, method_id: int) -> Response:
        shipping_method_delete(store=_store(request), method_id=method_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ShipmentChangeOutputSerializer(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    by = serializers.CharField(source="source", help_text="vendor, customer, staff or automatic")
    reason = serializers.CharField()
    at = serializers.DateTimeField(help_text="When it changed.")


class ShipmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    order_number = serializers.CharField(source="order.order_number")
    order_status = serializers.CharField(source="order.status")
    shipping_address = serializers.JSONField(
        source="order.shipping_address", help_text="Structured; empty for one-text addresses."
    )
    delivery_address = serializers.CharField(source="order.delivery_address")
    status = serializers.CharField(help_text=", ".join(ShipmentStatus.values))
    method_name = serializers.CharField()
    shipping_amount = _money()
    currency = serializers.CharField(source="order.currency")
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    tracking_url = serializers.CharField()
    line_ids = serializers.SerializerMethodField()
    packed_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    returned_at = serializers.DateTimeField(allow_null=True)
    delivery_confirmed_by = serializers.CharField()
    changes = ShipmentChangeOutputSerializer(many=True)

    def get_line_ids(self, shipment: Shipment) -> list[int]:
        return shipment_line_ids(shipment)


def _shipment_response(store: Store, shipment_id: int, code: int = 200) -> Response:
    shipment = shipment_get_for_store(store_id=store.pk, shipment_id=shipment_id)
    return Response(ShipmentOutputSerializer(shipment).data, status=code)


_CONFLICTS = OpenApiResponse(
    description="`illegal_shipment_transition`, `shipment_already_in_status`, or `order_not_paid`."
)


class VendorShipmentListApi(APIView):
    """The store's shipments, newest order first (``status`` filters: ``awaiting`` is
    what is still to pack); and packing the store's lines of one paid order into its
    parcel (every line of the store in that order, optionally with carrier and
    tracking)."""

    permission_classes = [IsVendor]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ShipmentStatus.choices, required=False)

    class PackSerializer(serializers.Serializer):
        line_ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
            min_length=1,
            max_length=100,
        )
        carrier = serializers.CharField(max_length=CARRIER_MAX, required=False, allow_blank=True)
        tracking_number = serializers.CharField(
            max_length=TRACKING_MAX, required=False, allow_blank=True
        )

    @extend_schema(
        operation_id="vendor_shipments_list",
        parameters=[FilterSerializer, PageQuerySerializer],
        responses=paginated(ShipmentOutputSerializer),
        summary="My shipments",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        shipments = shipments_for_store(store_id=_store(request).pk, **filters.validated_data)
        paginator = LimitOffsetPage()
        page = paginator.paginate_queryset(shipments, request, view=self)
        return paginator.get_paginated_response(ShipmentOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="vendor_shipments_pack",
        request=PackSerializer,
        responses={
            201: ShipmentOutputSerializer,
            404: OpenApiResponse(
                description="A line that is not the store's (`order_line_not_found`)."
            ),
            409: _CONFLICTS,
        },
        summary="Pack lines into their shipment",
    )
    def post(self, request: Request) -> Response:
        serializer = self.PackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        store = _store(request)
        shipment = shipment_pack(store=store, **serializer.validated_data)
        return _shipment_response(store, shipment.pk, status.HTTP_201_CREATED)


class VendorShipmentDetailApi(APIView):
    """One of the store's shipments with its lines and history."""

    permission_classes = [IsVendor]

    @extend_schema(
        operation_id="vendor_shipments_get",
        responses=ShipmentOutputSerializer,
        summary="A shipment",
    )
    def get(self, request: Request, shipment_id: int) -> Response:
        return _shipment_response(_store(request), shipment_id)


class VendorShipmentShipApi(APIView):
    """The parcel left: the carrier and its tracking number (the tracking page is linked
    for known carriers). Its lines count as fulfilled and the customer is emailed."""

    permission_classes = [IsVendor]

    class InputSerializer(serializers.Serializer):
        carrier = serializers.CharField(max_length=CARRIER_MAX)
        tracking_number = serializers.CharField(max_length=TRACKING_MAX)

    @extend_schema(
        operation_id="vendor_shipments_ship",
        request=InputSerializer,
        responses={200: ShipmentOutputSerializer, 409: _CONFLICTS},
        summary="Mark a shipment shipped",
    )
    def post(self, request: Request, shipment_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        store = _store(request)
        shipment_ship(shipment_id=shipment_id, store=store, **serializer.validated_data)
        return _shipment_response(store, shipment_id)


class VendorShipmentDeliveredApi(APIView):
    """The carrier confirmed delivery of a shipped parcel."""

    permission_classes = [IsVendor]

    @extend_schema(
        operation_id="vendor_shipments_delivered",
        request=None,
        responses={200: ShipmentOutputSerializer, 409: _CONFLICTS},
        summary="Mark a shipment delivered",
    )
    def post(self, request: Request, shipment_id: int) -> Response:
        store = _store(request)
        shipment_report_delivered(shipment_id=shipment_id, store=store)
        return _shipment_response(store, shipment_id)


class VendorShipmentReturnedApi(APIView):
    """A shipped parcel came back to the store (refused, undeliverable)."""

    permission_classes = [IsVendor]

    @extend_schema(
        operation_id="vendor_shipments_returned",
        request=None,
        responses={200: ShipmentOutputSerializer, 409: _CONFLICTS},
        summary="Mark a shipment returned to sender",
    )
    def post(self, request: Request, shipment_id: int) -> Response:
        store = _store(request)
        shipment_report_returned(shipment_id=shipment_id, store=store)
        return _shipment_response(store, shipment_id)
