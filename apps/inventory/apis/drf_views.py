"""v1: stock adjustments of one variant, recorded in the ledger."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog.selectors import product_get_for_user
from apps.catalog.services import variant_stock_adjust
from apps.common.limits import MAX_ID
from apps.inventory.models import MANUAL_REASONS
from apps.inventory.services import MAX_ADJUSTMENT
from apps.vendors.apis.permissions import IsVendorOrStaff


class StockAdjustApi(APIView):
    """Add or remove units on hand of one variant of the product; every change is a row
    in the stock ledger. Reserved units cannot be removed."""

    permission_classes = [IsVendorOrStaff]

    class InputSerializer(serializers.Serializer):
        variant_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        delta = serializers.IntegerField(
            min_value=-MAX_ADJUSTMENT,
            max_value=MAX_ADJUSTMENT,
            help_text="Signed change of units on hand.",
        )
        reason = serializers.ChoiceField(choices=MANUAL_REASONS)
        note = serializers.CharField(max_length=255, required=False, allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        movement_id = serializers.IntegerField(source="id")
        variant_id = serializers.IntegerField()
        delta = serializers.IntegerField(source="on_hand_delta")
        reason = serializers.CharField()
        note = serializers.CharField()
        on_hand = serializers.IntegerField(source="on_hand_after")
        reserved = serializers.IntegerField(source="reserved_after")
        available = serializers.SerializerMethodField()
        created_at = serializers.DateTimeField()

        def get_available(self, movement: Any) -> int:
            return int(movement.on_hand_after - movement.reserved_after)

    @extend_schema(
        request=InputSerializer, responses={201: OutputSerializer}, summary="Adjust stock"
    )
    def post(self, request: Request, product_id: int) -> Response:
        product = product_get_for_user(user=request.user, product_id=product_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        movement = variant_stock_adjust(
            actor=request.user,  # type: ignore[arg-type]
            product=product,
            variant_id=data["variant_id"],
            delta=data["delta"],
            reason=data["reason"],
            note=data.get("note", ""),
        )
        return Response(self.OutputSerializer(movement).data, status=201)
