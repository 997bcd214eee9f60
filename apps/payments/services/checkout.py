"""Starting a payment: one pending Payment per order and provider, reused on repeat."""

from __future__ import annotations

import secrets

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction

from apps.authentication.models import User
from apps.common.errors import Conflict, NotFound, ValidationFailed
from apps.orders.models import Order, OrderStatus
from apps.payments.exceptions import ProviderRefused, ProviderUnavailable
from apps.payments.models import Payment, PaymentStatus, Provider
from apps.payments.money import to_minor
from apps.payments.providers.base import PermanentProviderError, TransientProviderError
from apps.payments.providers.registry import get_provider

logger = structlog.get_logger(__name__)


def _reference(order: Order) -> str:
    return f"{order.order_number}-{secrets.token_hex(4).upper()}"


def _pending_payment(*, customer_id: int, order_id: int, provider: str) -> tuple[Payment, bool]:
    with transaction.atomic():
        order = (
            Order.objects.select_for_update().filter(pk=order_id, customer_id=customer_id).first()
        )
        if order is None:
            raise NotFound("Order not found.", code="order_not_found")
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise Conflict(
                "Only orders awaiting payment can be paid.",
                code="order_not_payable",
                details={"order_status": order.status},
            )
        existing = Payment.objects.filter(
            order=order, provider=provider, status=PaymentStatus.PENDING
        ).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    order=order,
                    provider=provider,
                    reference=_reference(order),
                    amount=order.total_amount,
                    currency=order.currency,
                )
        except IntegrityError:  # the order row lock makes this unreachable in practice
            raise Conflict("A payment is being started.", code="payment_in_progress") from None
    return payment, True


def payment_start(*, customer_id: int, order_id: int, provider: str) -> tuple[Payment, bool]:
    """Start (or resume) paying ``order_id`` with ``provider``; returns ``(payment,
    created)``. The provider call happens outside the database transaction, so no row
    lock is held while waiting on the network. Raises ``ValidationFailed``
    (``provider``), ``NotFound`` (not the customer's order), ``Conflict`` (not awaiting
    payment), ``ProviderUnavailable`` / ``ProviderRefused``.
    """
    enabled = [name for name in Provider.values if name in settings.PAYMENT_PROVIDERS]
    if provider not in enabled:
        raise ValidationFailed.for_field(
            "provider", f"One of: {', '.join(enabled)}.", "invalid_choice"
        )
    payment, created = _pending_payment(
        customer_id=customer_id, order_id=order_id, provider=provider
    )
    if payment.provider_payment_id:
        return payment, created
    customer = User.objects.get(pk=customer_id)
    try:
        checkout = get_provider(provider).initialise(
            reference=payment.reference,
            amount_minor=to_minor(payment.amount, payment.currency),
            currency=payment.currency,
            email=customer.email,
            metadata={"order_number": payment.order.order_number, "reference": payment.reference},
        )
    except TransientProviderError as error:
        logger.warning("payment.start_unavailable", payment_id=payment.pk, error=str(error))
        if provider == Provider.PAYSTACK:
            # A timed-out initialise may still have created the transaction, and Paystack
            # refuses a reference twice: the next attempt gets a fresh one.
            Payment.objects.filter(pk=payment.pk).update(reference=_reference(payment.order))
        raise ProviderUnavailable("The payment provider did not answer; try again.") from error
    except PermanentProviderError as error:
        logger.error("payment.start_refused", payment_id=payment.pk, error=str(error))
        raise ProviderRefused(str(error)) from error
    Payment.objects.filter(pk=payment.pk).update(
        provider_payment_id=checkout.provider_payment_id,
        authorization_url=checkout.authorization_url or "",
        client_secret=checkout.client_secret or "",
    )
    payment.refresh_from_db()
    logger.info("payment.started", payment_id=payment.pk, provider=provider)
    return payment, created
