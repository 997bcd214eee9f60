"""v1, vendors: the store's return inbox — approve, reject (with a reason), receive
(what came back sellable and damaged). Staff see every store's (``escalated`` filters
the ones stores left unanswered) and may act for a store. Another store's return is
404; a step out of order is 409."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.apis.drf_pagination import LimitOffsetPage, PageQuerySerializer, paginated
from apps.returns.models import ReturnStatus
from apps.returns.selectors import return_data, return_get_for_store, returns_for_store
from apps.returns.services import return_approve, return_receive, return_reject
from apps.vendors.apis.permissions import IsVendorOrStaff
from apps.vendors.models import Store
from apps.vendors.selectors import store_get_for_owner


def _store(request: Request) -> Store | None:
    """The vendor's store; None for staff, who see and act on every store's returns."""
    user: Any = request.user
    return None if user.is_marketplace_staff else store_get_for_owner(user=user)


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class ReturnLineOutputSerializer(serializers.Serializer):
    line_id = serializers.IntegerField()
    product_name = serializers.CharField()
    size = serializers.CharField()
    colour = serializers.CharField()
    quantity = serializers.IntegerField()
    reason = serializers.CharField()
    note = serializers.CharField()
    exchange_variant_id = serializers.IntegerField(allow_null=True)
    exchange_size = serializers.CharField(allow_null=True)
    received_sellable = serializers.IntegerField()
    received_damaged = serializers.IntegerField()
    refund_amount = _money()


class ReturnOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    order_number = serializers.CharField()
    shipment_id = serializers.IntegerField()
    store_id = serializers.IntegerField()
    store_name = serializers.CharField()
    status = serializers.CharField(help_text=", ".join(ReturnStatus.values))
    decision_reason = serializers.CharField()
    refund_amount = _money()
    currency = serializers.CharField()
    refund_status = serializers.CharField(allow_null=True)
    exchange_shipment_id = serializers.IntegerField(
        allow_null=True, help_text="Ship it with the shipment endpoints."
    )
    escalated = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    approved_at = serializers.DateTimeField(allow_null=True)
    rejected_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    received_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    lines = ReturnLineOutputSerializer(many=True)


def _answer(request: Request, return_id: int) -> Response:
    store = _store(request)
    found = return_get_for_store(store_id=store.pk if store else None, return_id=return_id)
    return Response(ReturnOutputSerializer(return_data(found)).data)


_CONFLICT = OpenApiResponse(description="`illegal_return_transition`: not in that state.")


class VendorReturnListApi(APIView):
    """The store's returns, oldest first (``status=requested``: waiting for a decision)."""

    permission_classes = [IsVendorOrStaff]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ReturnStatus.choices, required=False)
        escalated = serializers.BooleanField(required=False, allow_null=True, default=None)

    @extend_schema(
        operation_id="vendor_returns_list",
        parameters=[FilterSerializer, PageQuerySerializer],
        responses=paginated(ReturnOutputSerializer),
        summary="Return inbox",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        store = _store(request)
        requests = returns_for_store(store_id=store.pk if store else None, **filters.validated_data)
        paginator = LimitOffsetPage()
        page = paginator.paginate_queryset(requests, request, view=self)
        return paginator.get_paginated_response(
            ReturnOutputSerializer([return_data(r) for r in page], many=True).data
        )


class VendorReturnDetailApi(APIView):
    permission_classes = [IsVendorOrStaff]

    @extend_schema(
        operation_id="vendor_returns_get", responses=ReturnOutputSerializer, summary="A return"
    )
    def get(self, request: Request, return_id: int) -> Response:
        return _answer(request, return_id)


class VendorReturnApproveApi(APIView):
    """Accept: the customer sends the items back."""

    permission_classes = [IsVendorOrStaff]

    @extend_schema(
        operation_id="vendor_returns_approve",
        request=None,
        responses={200: ReturnOutputSerializer, 409: _CONFLICT},
        summary="Approve a return",
    )
    def post(self, request: Request, return_id: int) -> Response:
        return_approve(return_id=return_id, store=_store(request))
        return _answer(request, return_id)


class VendorReturnRejectApi(APIView):
    """Refuse, saying why (the customer is told)."""

    permission_classes = [IsVendorOrStaff]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=255)

    @extend_schema(
        operation_id="vendor_returns_reject",
        request=InputSerializer,
        responses={200: ReturnOutputSerializer, 409: _CONFLICT},
        summary="Reject a return",
    )
    def post(self, request: Request, return_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return_reject(return_id=return_id, store=_store(request), **serializer.validated_data)
        return _answer(request, return_id)


class ReceivedLineSerializer(serializers.Serializer):
    line_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    sellable = serializers.IntegerField(min_value=0, max_value=1000, default=0)
    damaged = serializers.IntegerField(min_value=0, max_value=1000, default=0)


class VendorReturnReceiveApi(APIView):
    """The items arrived: per line how many can be sold again (back on hand) and how many
    are damaged. The refund goes out and exchanges get their parcel."""

    permission_classes = [IsVendorOrStaff]

    class InputSerializer(serializers.Serializer):
        lines = serializers.ListField(child=ReceivedLineSerializer(), min_length=1, max_length=100)

    @extend_schema(
        operation_id="vendor_returns_receive",
        request=InputSerializer,
        responses={200: ReturnOutputSerializer, 409: _CONFLICT},
        summary="Receive returned items",
    )
    def post(self, request: Request, return_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return_receive(
            return_id=return_id,
            store=_store(request),
            lines=serializer.validated_data["lines"],
            actor=request.user,  # type: ignore[arg-type]
        )
        return _answer(request, return_id)
