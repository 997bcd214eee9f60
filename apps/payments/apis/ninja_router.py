"""v2 payments (async): start a payment, check it, and the providers' webhooks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status

from apps.authentication.apis.ninja_auth import bearer_auth
from apps.authentication.tokens import AccessPrincipal
from apps.common.apis.ninja_schemas import Problem
from apps.common.db import in_thread
from apps.payments.models import Payment
from apps.payments.selectors import payment_data, payment_get_for_customer
from apps.payments.services import payment_check, payment_start, webhook_receive

router = Router(tags=["payments"])

PROVIDER_MAX_LENGTH: int = Payment._meta.get_field("provider").max_length or 16


class PaymentStartIn(Schema):
    provider: Literal["paystack", "stripe", "square"]


class PaymentOut(Schema):
    id: int
    order_id: int
    provider: str
    reference: str
    status: str
    amount: Decimal
    currency: str
    authorization_url: str | None = Field(description="Send the customer here to pay.")
    client_secret: str | None = Field(description="Stripe: confirm the intent client-side.")
    provider_payment_id: str | None
    refunded_amount: Decimal
    needs_refund: bool
    created_at: datetime


class PaymentCheckOut(Schema):
    outcome: str
    payment: PaymentOut


class WebhookOut(Schema):
    received: bool
    duplicate: bool
    event_id: str


def _customer_id(request: HttpRequest) -> int:
    principal: AccessPrincipal = request.auth  # type: ignore[attr-defined]
    return principal.user_id


@router.post(
    "/orders/{order_id}/payments/",
    response={
        200: PaymentOut,
        201: PaymentOut,
        404: Problem,
        409: Problem,
        422: Problem,
        502: Problem,
        503: Problem,
    },
    auth=bearer_auth,
    summary="Start paying an order",
    operation_id="payment_start",
)
async def start_payment(request: HttpRequest, order_id: int, payload: PaymentStartIn) -> Status:
    """Creates a pending payment with the provider and returns what the client needs:
    ``authorization_url`` (Paystack, Square: a hosted page) or ``client_secret``
    (Stripe). Repeating it for the same order and provider returns the same pending
    payment (200). Only the order's owner, only while it awaits payment (else 409)."""

    def start() -> tuple[bool, dict[str, Any]]:
        payment, created = payment_start(
            customer_id=_customer_id(request), order_id=order_id, provider=payload.provider
        )
        return created, payment_data(payment)

    created, data = await in_thread(start)
    return Status(201 if created else 200, data)


@router.post(
    "/orders/{order_id}/payments/{payment_id}/verify/",
    response={200: PaymentCheckOut, 404: Problem, 502: Problem, 503: Problem},
    auth=bearer_auth,
    summary="Check a payment now",
    operation_id="payment_verify",
)
async def verify_payment(request: HttpRequest, order_id: int, payment_id: int) -> dict[str, Any]:
    """Ask the provider right away (the client returns from the hosted page before the
    webhook arrives). Safe to race with the webhook: the order is paid once."""

    def check() -> dict[str, Any]:
        payment = payment_get_for_customer(
            customer_id=_customer_id(request), order_id=order_id, payment_id=payment_id
        )
        outcome = payment_check(payment_id=payment.pk)
        payment.refresh_from_db()
        return {"outcome": outcome, "payment": payment_data(payment)}

    return await in_thread(check)


@router.post(
    "/webhooks/{provider}/",
    response={200: WebhookOut, 400: Problem, 404: Problem, 422: Problem},
    auth=None,
    throttle=[],  # providers send from few addresses; the signature is the gate
    summary="Provider webhook",
    operation_id="webhook_receive",
)
async def provider_webhook(
    request: HttpRequest, provider: str = Path(..., max_length=PROVIDER_MAX_LENGTH)
) -> dict[str, Any]:
    """Paystack (``x-paystack-signature``), Stripe (``Stripe-Signature``), Square
    (``x-square-hmacsha256-signature``). The signature over the raw body is checked
    first (400 when it does not verify, nothing stored); each provider event is stored
    once per provider and event id (a redelivery answers ``duplicate: true``) and
    confirmed in the background. An event id longer than 255 characters is 422; so is,
    before the signature is checked, a body the database cannot store (NUL, a lone
    surrogate, ``NaN``) or JSON nested too deep to read (the input guard)."""
    receipt = await in_thread(
        webhook_receive, provider=provider, headers=dict(request.headers), body=request.body
    )
    return {"received": True, "duplicate": receipt.duplicate, "event_id": receipt.event_id}
