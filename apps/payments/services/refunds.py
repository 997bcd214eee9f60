"""Refunds by staff, through the payment's provider, paid out at most once.

A refund is recorded, and its amount reserved on the payment under the payment's row
lock, before the provider is called, so two refunds at once cannot exceed what was paid.
Every call about one refund carries that refund's idempotency key. The answer decides:

* accepted (done, or queued by the provider) → ``succeeded``; ``PaymentRefunded`` is
  published;
* refused (a 4xx, or the provider reports the refund failed) → ``failed``, and only then
  is the amount released;
* no definite answer (timeout, connection error, 5xx, an answer that cannot be read) →
  it stays ``pending`` with the amount still reserved. It is asked about again — by the
  reconciler, or by staff — with the same key (Stripe and Square replay their first
  answer), or after looking for it among the payment's refunds (Paystack), never sent
  as a new refund.

Only one call per refund is out at a time (``next_attempt_at``, taken with a
conditional update), and after an unknown outcome the provider is left alone for
``RETRY_WAIT``: it may still be carrying the first request out.
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal
from typing import Literal

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from apps.authentication.models import User
from apps.common.errors import Conflict, NotFound, ValidationFailed
from apps.common.events import publish
from apps.orders.services import REFUNDABLE_ORDER_STATUSES, order_mark_refunded
from apps.payments.events import PaymentRefunded
from apps.payments.exceptions import ProviderRefused, RefundInProgress
from apps.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from apps.payments.money import to_minor
from apps.payments.providers.base import (
    PermanentProviderError,
    RefundResult,
    TransientProviderError,
)
from apps.payments.providers.registry import get_provider

logger = structlog.get_logger(__name__)

REFUNDABLE = {PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED}
# After a call with no definite answer, the provider may still be working on it: asking
# again at once could race it (Paystack's look-up would not see the refund yet).
RETRY_WAIT = timedelta(seconds=60)
# Stripe keeps an idempotency key for at least 24 hours; past that a repeat could be a
# second refund, so an older pending refund is left for a person to check.
KEY_WINDOW = timedelta(hours=24)

RefundOutcome = Literal["succeeded", "failed", "pending"]
SettleOutcome = Literal["succeeded", "failed", "pending", "not pending", "in progress", "review"]


def _call_lease() -> timedelta:
    """How long a call in progress keeps others off the refund: well past the HTTP
    timeout (which applies per connect / read / write), so a live call is never raced."""
    timeout = float(getattr(settings, "PAYMENT_HTTP_TIMEOUT", 10.0))
    return max(RETRY_WAIT, timedelta(seconds=6 * timeout))


def _claim(
    payment_id: int,
    amount: Decimal | None,
    reason: str,
    actor: User | None,
    *,
    calling: bool = True,
    store_id: int | None = None,
) -> Refund:
    """Reserve the amount on the payment (row lock) and record a pending refund whose
    first call is starting (``calling``; else no call is out yet), so two staff
    refunding at once cannot refund more than was paid."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
        if payment is None:
            raise NotFound("Payment not found.", code="payment_not_found")
        if payment.status not in REFUNDABLE:
            raise Conflict(
                "Only succeeded payments can be refunded.",
                code="payment_not_refundable",
                details={"payment_status": payment.status},
            )
        if payment.refundable_amount <= 0:
            raise Conflict(
                "The rest of this payment is already being refunded.",
                code="refund_pending",
                details={"pending_refund_ids": _pending_ids(payment)},
            )
        amount = payment.refundable_amount if amount is None else amount
        if amount <= 0 or amount > payment.refundable_amount:
            raise ValidationFailed.for_field(
                "amount",
                f"Between 0.01 and {payment.refundable_amount} {payment.currency}.",
                "out_of_range",
            )
        Payment.objects.filter(pk=payment.pk).update(refunded_amount=F("refunded_amount") + amount)
        return Refund.objects.create(
            payment=payment,
            amount=amount,
            reason=reason,
            actor=actor,
            store_id=store_id,
            attempts=1 if calling else 0,
            next_attempt_at=timezone.now() + _call_lease() if calling else None,
        )


def _pending_ids(payment: Payment) -> list[int]:
    pending = payment.refunds.filter(status=RefundStatus.PENDING).order_by("id")
    return list(pending.values_list("pk", flat=True))


def _take_attempt(refund_id: int, payment_id: int | None) -> Refund:
    """Start another call for a pending refund. One conditional UPDATE: of two retries
    at once, only one reaches the provider."""
    refund = Refund.objects.filter(pk=refund_id).first()
    if refund is None or (payment_id is not None and refund.payment_id != payment_id):
        raise NotFound("Refund not found.", code="refund_not_found")
    if refund.status != RefundStatus.PENDING:
        raise Conflict(
            "Only pending refunds are asked about again.",
            code="refund_not_pending",
            details={"refund_status": refund.status},
        )
    now = timezone.now()
    if refund.created_at < now - KEY_WINDOW:
        raise Conflict(
            "This refund is older than the provider keeps its key: check it with the "
            "provider before doing anything else.",
            code="refund_needs_review",
        )
    taken = (
        Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(attempts=F("attempts") + 1, next_attempt_at=now + _call_lease())
    )
    if not taken:
        refund.refresh_from_db()
        if refund.status != RefundStatus.PENDING:
            raise Conflict(
                "Only pending refunds are asked about again.",
                code="refund_not_pending",
                details={"refund_status": refund.status},
            )
        wait = (refund.next_attempt_at or now) - now
        raise RefundInProgress(
            "The provider may still be working on this refund; ask again later.",
            retry_after=max(1, math.ceil(wait.total_seconds())),
            details={"next_attempt_at": refund.next_attempt_at},
        )
    return Refund.objects.select_related("payment").get(pk=refund.pk)


def _ask(refund: Refund) -> RefundOutcome:
    """One call to the provider about ``refund`` (its attempt already taken), and what
    the answer does to it. A refund asked about before is looked for first where the
    provider has no keys (Paystack)."""
    payment = refund.payment
    try:
        result = get_provider(payment.provider).refund(
            reference=payment.reference,
            provider_payment_id=payment.provider_payment_id,
            amount_minor=to_minor(refund.amount, payment.currency),
            currency=payment.currency,
            idempotency_key=str(refund.idempotency_key),
            look_up_first=refund.attempts > 1,
        )
    except TransientProviderError as error:
        _leave_pending(refund, str(error))
        return "pending"
    except PermanentProviderError as error:
        _release(refund, str(error))
        return "failed"
    if result.state == "failed":
        _release(refund, "refused by the provider")
        return "failed"
    _succeed(refund, result)
    return "succeeded"


def _leave_pending(refund: Refund, error: str) -> None:
    Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
        next_attempt_at=timezone.now() + RETRY_WAIT, last_error=error[:255]
    )
    logger.warning(
        "refund.outcome_unknown",
        refund_id=refund.pk,
        payment_id=refund.payment_id,
        attempts=refund.attempts,
        error=error,
    )


def _release(refund: Refund, failure: str) -> None:
    """The provider said no: the refund failed and its amount is free again (once)."""
    with transaction.atomic():
        Payment.objects.select_for_update().filter(pk=refund.payment_id).first()
        failed = Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            status=RefundStatus.FAILED, failure_reason=failure[:255], next_attempt_at=None
        )
        if failed:
            Payment.objects.filter(pk=refund.payment_id).update(
                refunded_amount=F("refunded_amount") - refund.amount
            )
    if failed:
        logger.warning(
            "refund.failed", refund_id=refund.pk, payment_id=refund.payment_id, reason=failure
        )


def _succeed(refund: Refund, result: RefundResult) -> None:
    """The provider accepted the refund: mark it, the payment and (when all of it is
    refunded) the order, and publish ``PaymentRefunded`` — once."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update().select_related("order").get(pk=refund.payment_id)
        )
        done = Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            status=RefundStatus.SUCCEEDED,
            provider_refund_id=result.provider_refund_id,
            next_attempt_at=None,
            last_error="",
        )
        if not done:
            return
        # Refunds still pending are reserved in refunded_amount but not yet paid out.
        settled = payment.refunds.filter(status=RefundStatus.SUCCEEDED).aggregate(
            total=Sum("amount")
        )["total"] or Decimal("0")
        full = settled >= payment.amount
        payment.status = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
        if full:
            payment.needs_refund = False
        payment.save(update_fields=["status", "needs_refund", "updated_at"])
        if full and payment.order.status in REFUNDABLE_ORDER_STATUSES:
            order_mark_refunded(order_id=payment.order_id)
        publish(PaymentRefunded(payment_id=payment.pk, refund_id=refund.pk, full=full))
    logger.info(
        "payment.refunded",
        payment_id=payment.pk,
        refund_id=refund.pk,
        full=full,
        attempts=refund.attempts,
    )


def _finish(refund: Refund, outcome: RefundOutcome) -> Refund:
    refund.refresh_from_db()
    if outcome == "failed":
        raise ProviderRefused(
            "The provider refused the refund; nothing was refunded.",
            details={"refund_id": refund.pk, "reason": refund.failure_reason},
        )
    return refund


def payment_refund(
    *, payment_id: int, amount: Decimal | None, reason: str = "", actor: User | None
) -> Refund:
    """Refund all (``amount`` None) or part of a payment. A full refund of a paid order
    makes it ``refunded``. Returns the refund: ``succeeded``, or ``pending`` when the
    provider gave no definite answer (the amount stays reserved; the reconciler settles
    it). Raises ``NotFound``, ``Conflict`` (not refundable, or the rest is being
    refunded), ``ValidationFailed`` (``amount``), ``ProviderRefused`` (nothing refunded,
    the amount released)."""
    refund = _claim(payment_id, amount, reason, actor)
    return _finish(refund, _ask(refund))


def refund_record(
    *,
    payment_id: int,
    amount: Decimal,
    reason: str,
    store_id: int | None = None,
    actor: User | None = None,
) -> Refund:
    """Record a refund to be sent later, in the caller's transaction (its amount reserved
    on the payment like any refund): commit it together with what it is for, then send
    it with ``refund_retry`` — or the reconciler will. Being recorded before any call,
    it is sent once: the first call takes its attempt with a conditional update.
    ``store_id`` names the store whose part it gives back. Raises like
    ``payment_refund``."""
    return _claim(payment_id, amount, reason, actor, calling=False, store_id=store_id)


def refund_retry(*, refund_id: int, payment_id: int | None = None, actor: User | None) -> Refund:
    """Ask the provider again about a pending refund (staff): the same idempotency key,
    or for Paystack a look-up among the transaction's refunds first — never a second
    refund. Returns the refund, ``succeeded`` or still ``pending``. Raises ``NotFound``
    (no such refund, or not of ``payment_id``), ``Conflict`` (``refund_not_pending``,
    ``refund_in_progress`` while a call is out or just timed out,
    ``refund_needs_review`` past the key window), ``ProviderRefused`` (the provider
    says it failed; the amount is released)."""
    refund = _take_attempt(refund_id, payment_id)
    logger.info(
        "refund.retry",
        refund_id=refund.pk,
        attempts=refund.attempts,
        actor_id=actor.pk if actor else None,
    )
    return _finish(refund, _ask(refund))


def refund_settle(*, refund_id: int) -> SettleOutcome:
    """What the reconciler runs for a pending refund: ask the provider again (as
    ``refund_retry``) and answer how it stands instead of raising: ``succeeded``,
    ``failed`` (amount released), ``pending`` (still unknown), or why nothing was asked
    (``not pending``, ``in progress``, ``review``)."""
    try:
        refund = _take_attempt(refund_id, None)
    except Conflict as error:
        if error.code == "refund_needs_review":
            logger.error("refund.needs_review", alert=True, refund_id=refund_id)
            return "review"
        return "in progress" if error.code == "refund_in_progress" else "not pending"
    return _ask(refund)
