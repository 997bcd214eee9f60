"""Vendor-money test data: orders placed, paid, fulfilled and delivered through the real
services, refunds recorded as the refund service leaves them, destinations registered at
the provider sandbox."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx

from apps.catalog.models import Variant
from apps.orders.models import Order, OrderLine
from apps.orders.services import order_line_fulfil, order_mark_delivered, order_mark_paid
from apps.orders.tests.factories import make_variant, place_order
from apps.payments.models import Payment, PaymentStatus, Provider, Refund, RefundStatus
from apps.payouts.models import PayoutDestination
from apps.payouts.services import earnings_record, payout_destination_register
from apps.vendors.models import Store
from apps.vendors.tests.factories import StoreFactory
from tools.sandbox import SandboxServer


def store(rate: str = "10.00", **fields: Any) -> Store:
    made: Store = StoreFactory.create(commission_rate=Decimal(rate), **fields)
    return made


def variant(of: Store, price: str = "1000.00", stock: int = 100) -> Variant:
    return make_variant(store=of, price=price, stock=stock)


def paid(items: list[tuple[Variant, int]], **fields: Any) -> Order:
    """An order of ``items``, paid, its stores' parts recorded in the ledger (as the
    ``OrderPaid`` handler does)."""
    order = place_order(items=items, **fields)
    order_mark_paid(order_id=order.pk)
    Payment.objects.create(
        order=order,
        provider=Provider.PAYSTACK,
        reference=f"T-{uuid.uuid4().hex[:20]}",
        amount=order.total_amount,
        currency=order.currency,
        status=PaymentStatus.SUCCEEDED,
    )
    earnings_record(order_id=order.pk)
    order.refresh_from_db()
    return order


def delivered(order: Order) -> Order:
    """Every line fulfilled by its vendor, then the delivery recorded (as staff do)."""
    for line in OrderLine.objects.filter(order=order, fulfilled_at__isnull=True):
        order_line_fulfil(line_id=line.pk, store=None)
    order_mark_delivered(order_id=order.pk)
    order.refresh_from_db()
    return order


def refunded(order: Order, amount: str | Decimal, *, flagged: str = "") -> Refund:
    """A succeeded refund of ``amount`` of the order's payment (``flagged``: a payment
    the order could not take)."""
    payment = Payment.objects.filter(order=order).order_by("id").first()
    if payment is None or flagged:
        payment = Payment.objects.create(
            order=order,
            provider=Provider.PAYSTACK,
            reference=f"T-{uuid.uuid4().hex[:20]}",
            amount=order.total_amount,
            currency=order.currency,
            status=PaymentStatus.SUCCEEDED,
            needs_refund_reason=flagged,
        )
    value = Decimal(str(amount))
    Payment.objects.filter(pk=payment.pk).update(refunded_amount=payment.refunded_amount + value)
    return Refund.objects.create(payment=payment, amount=value, status=RefundStatus.SUCCEEDED)


def recipient(sandbox: SandboxServer, name: str = "Adire House", currency: str = "NGN") -> str:
    """A Paystack transfer recipient created at the sandbox; its code."""
    response = httpx.post(
        f"{sandbox.url}/paystack/transferrecipient",
        json={
            "type": "nuban",
            "name": name,
            "account_number": "0123456789",
            "bank_code": "058",
            "currency": currency,
        },
        headers={"Authorization": f"Bearer {sandbox.sandbox.secrets.paystack_secret_key}"},
    )
    response.raise_for_status()
    code: str = response.json()["data"]["recipient_code"]
    return code


def connected_account(sandbox: SandboxServer, *, transfers: bool = True) -> str:
    """A Stripe connected account created at the sandbox; its id."""
    form = {"type": "express", "business_profile[name]": "Bella Shoes"}
    if transfers:
        form["capabilities[transfers][requested]"] = "true"
    response = httpx.post(
        f"{sandbox.url}/stripe/v1/accounts",
        data=form,
        headers={"Authorization": f"Bearer {sandbox.sandbox.secrets.stripe_secret_key}"},
    )
    response.raise_for_status()
    account: str = response.json()["id"]
    return account


def destination(sandbox: SandboxServer, of: Store, provider: str = "paystack") -> PayoutDestination:
    """A verified payout destination of ``of`` at the sandbox."""
    code = recipient(sandbox) if provider == "paystack" else connected_account(sandbox)
    return payout_destination_register(store=of, provider=provider, account_code=code, actor=None)
