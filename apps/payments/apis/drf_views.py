"""v1: staff refund payments."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.payments.services import payment_refund
from apps.vendors.apis.permissions import IsMarketplaceStaff


class RefundOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    payment_id = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField(source="payment.currency")
    status = serializers.CharField()
    provider_refund_id = serializers.CharField()
    reason = serializers.CharField()
    payment_status = serializers.CharField(source="payment.status")
    order_status = serializers.CharField(source="payment.order.status")
    created_at = serializers.DateTimeField()


class PaymentRefundApi(APIView):
    """Refund a payment in full (no ``amount``) or in part, through its provider."""

    permission_classes = [IsMarketplaceStaff]

    class InputSerializer(serializers.Serializer):
        amount = serializers.DecimalField(
            max_digits=12, decimal_places=2, min_value=Decimal("0.01"), required=False
        )
        reason = serializers.CharField(max_length=255, required=False, allow_blank=True)

    @extend_schema(
        request=InputSerializer, responses={201: RefundOutputSerializer}, summary="Refund"
    )
    def post(self, request: Request, payment_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refund = payment_refund(
            payment_id=payment_id,
            amount=serializer.validated_data.get("amount"),
            reason=serializer.validated_data.get("reason", ""),
            actor=request.user,  # type: ignore[arg-type]
        )
        refund.payment.refresh_from_db()
        refund.payment.order.refresh_from_db()
        return Response(RefundOutputSerializer(refund).data, status=status.HTTP_201_CREATED)
