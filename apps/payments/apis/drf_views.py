"""v1: staff refund payments."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.payments.models import Refund, RefundStatus
from apps.payments.services import payment_refund, refund_retry
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
        request=InputSerializer,
        responses={
            201: RefundOutputSerializer,
            202: RefundOutputSerializer,
            409: OpenApiResponse(description="Nothing left to refund, or `refund_pending`."),
            502: OpenApiResponse(description="The provider refused the refund."),
        },
        summary="Refund",
        description="201: refunded. 202: the provider gave no definite answer; the refund "
        "is `pending`, its amount stays reserved, and it is settled automatically (or "
        "retried at `…/refunds/{refund_id}/retry/`) — never by posting it again.",
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
        return _refund_response(refund, status.HTTP_201_CREATED)


class RefundRetryApi(APIView):
    """Ask the provider again about a pending refund, with the same idempotency key
    (Paystack: looked for first): never a second refund."""

    permission_classes = [IsMarketplaceStaff]

    @extend_schema(
        request=None,
        responses={
            200: RefundOutputSerializer,
            202: RefundOutputSerializer,
            409: OpenApiResponse(description="Not pending, in progress, or needs review."),
            502: OpenApiResponse(description="The provider says the refund failed."),
        },
        summary="Retry a pending refund",
        description="200: refunded. 202: still no definite answer (`pending`). 502: the "
        "provider says it failed (the amount is released). 409: not pending; a call is out "
        "or just had no answer (`Retry-After`, `next_attempt_at`); or past the key window.",
    )
    def post(self, request: Request, payment_id: int, refund_id: int) -> Response:
        refund = refund_retry(
            refund_id=refund_id,
            payment_id=payment_id,
            actor=request.user,  # type: ignore[arg-type]
        )
        return _refund_response(refund, status.HTTP_200_OK)


def _refund_response(refund: Refund, settled_status: int) -> Response:
    refund.payment.refresh_from_db()
    refund.payment.order.refresh_from_db()
    code = settled_status if refund.status == RefundStatus.SUCCEEDED else status.HTTP_202_ACCEPTED
    return Response(RefundOutputSerializer(refund).data, status=code)
