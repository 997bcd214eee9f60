"""Sending payouts through the providers and settling them from what the providers say.

Every call about a payout carries its ``reference``; an attempt that got no definite
answer is followed by a look-up before any new request (Paystack ``GET
/transfer/verify/{reference}``, Stripe transfers listed by ``transfer_group``), and the
provider refuses or replays a repeated reference, so one payout is at most one transfer.
Only one call per payout is out at a time (``next_attempt_at``, taken with a conditional
update). What the provider says is applied under the balance and payout row locks, so a
webhook and the reconciler settling the same payout at once change it once.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.common.errors import NotFound
from apps.common.events import publish
from apps.payments.money import to_minor
from apps.payments.providers.base import (
    PermanentProviderError,
    TransferResult,
    TransientProviderError,
)
from apps.payments.providers.registry import get_transfer_provider
from apps.payouts.events import PayoutFailed, PayoutPaid
from apps.payouts.models import OPEN_STATUSES, EntryKind, Payout, PayoutStatus
from apps.payouts.services.ledger import balance_locked, entry_post, to_available

logger = structlog.get_logger(__name__)

# After a call with no definite answer the provider may still be carrying it out.
RETRY_WAIT = timedelta(seconds=60)


def _call_lease() -> timedelta:
    """How long a call in progress keeps others off the payout: well past the HTTP
    timeout, so a live call is never raced."""
    timeout = float(getattr(settings, "PAYMENT_HTTP_TIMEOUT", 10.0))
    return max(RETRY_WAIT, timedelta(seconds=6 * timeout))


def _take_attempt(payout_id: int) -> Payout | None:
    """Start a call for a pending payout; None when it is not pending or a call is out
    (of racing senders, one goes through)."""
    now = timezone.now()
    taken = (
        Payout.objects.filter(pk=payout_id, status=PayoutStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(attempts=F("attempts") + 1, next_attempt_at=now + _call_lease())
    )
    if not taken:
        return None
    return Payout.objects.select_related("destination").get(pk=payout_id)


def payout_send(*, payout_id: int) -> str:
    """Ask the provider to transfer a pending payout. Returns how it stands: ``paid``
    (Stripe), ``in_transit`` (Paystack queued it), ``failed`` (refused: the amount is
    back in the balance), ``pending`` (no definite answer: asked again later with the same
    reference), or ``not due`` (not pending, or a call about it is out)."""
    payout = _take_attempt(payout_id)
    if payout is None:
        if not Payout.objects.filter(pk=payout_id).exists():
            raise NotFound("Payout not found.", code="payout_not_found")
        return "not due"
    try:
        result = get_transfer_provider(payout.provider).transfer(
            reference=payout.reference,
            amount_minor=to_minor(payout.amount, payout.currency),
            currency=payout.currency,
            account_code=payout.destination.account_code,
            reason=f"FASHIONISTAR payout {payout.reference}",
            look_up_first=payout.attempts > 1,
        )
    except TransientProviderError as error:
        Payout.objects.filter(pk=payout.pk, status=PayoutStatus.PENDING).update(
            next_attempt_at=timezone.now() + RETRY_WAIT, last_error=str(error)[:255]
        )
        logger.warning(
            "payout.outcome_unknown",
            payout_id=payout.pk,
            attempts=payout.attempts,
            error=str(error),
        )
        return "pending"
    except PermanentProviderError as error:
        result = TransferResult(state="failed", transfer_id="", failure_reason=str(error))
    return payout_apply(payout_id=payout.pk, result=result)


def payout_settle(*, payout_id: int) -> str:
    """Ask the provider how an open payout stands and apply it (what a webhook and the
    reconciler run). A pending payout the provider has no transfer of is left for the
    next send. Returns the payout's status after it, or ``unknown``."""
    payout = Payout.objects.filter(pk=payout_id).first()
    if payout is None:
        raise NotFound("Payout not found.", code="payout_not_found")
    if payout.status in (PayoutStatus.FAILED, PayoutStatus.REVERSED):
        return str(payout.status)
    try:
        result = get_transfer_provider(payout.provider).transfer_status(
            reference=payout.reference, transfer_id=payout.provider_transfer_id
        )
    except TransientProviderError as error:
        logger.warning("payout.status_unknown", payout_id=payout.pk, error=str(error))
        return "unknown"
    if result is None:
        if payout.status != PayoutStatus.PENDING:
            logger.error("payout.transfer_missing", alert=True, payout_id=payout.pk)
        return "unknown"
    return payout_apply(payout_id=payout.pk, result=result)


def payout_settle_reported(*, provider: str, reference: str) -> str:
    """A provider's webhook named the transfer ``reference``: settle that payout (asking
    the provider, never trusting the webhook's content). ``unknown payout`` when the
    reference is not one of ours."""
    payout_id = (
        Payout.objects.filter(reference=reference, provider=provider)
        .values_list("pk", flat=True)
        .first()
    )
    if payout_id is None:
        logger.warning("payout.unknown_reference", provider=provider, reference=reference)
        return "unknown payout"
    return payout_settle(payout_id=payout_id)


def payout_apply(*, payout_id: int, result: TransferResult) -> str:
    """Apply the provider's account of a payout, once: ``pending`` → in transit;
    ``succeeded`` → paid (``PayoutPaid``); ``failed`` → failed, ``reversed`` → reversed,
    and for both the amount goes back to the store (``payout_reversal`` entry, paying any
    debt first) and ``PayoutFailed`` is published. Anything else leaves it as it is.
    Returns the status after it."""
    store_id, currency = (
        Payout.objects.filter(pk=payout_id).values_list("store_id", "currency").get()
    )
    with transaction.atomic():
        # The balance before the payout row: the order every writer locks in.
        balance = balance_locked(store_id, currency)
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        now = timezone.now()
        before = payout.status
        if result.transfer_id and not payout.provider_transfer_id:
            payout.provider_transfer_id = result.transfer_id[:128]
        if result.state == "pending" and before == PayoutStatus.PENDING:
            payout.status = PayoutStatus.IN_TRANSIT
            payout.sent_at = now
        elif result.state == "succeeded" and before in OPEN_STATUSES:
            payout.status = PayoutStatus.PAID
            payout.sent_at = payout.sent_at or now
            payout.paid_at = now
            publish(PayoutPaid(payout_id=payout.pk))
        elif (result.state == "failed" and before in OPEN_STATUSES) or (
            result.state == "reversed" and before in (*OPEN_STATUSES, PayoutStatus.PAID)
        ):
            reversed_ = result.state == "reversed"
            payout.status = PayoutStatus.REVERSED if reversed_ else PayoutStatus.FAILED
            payout.failed_at = now
            payout.failure_reason = (result.failure_reason or result.state)[:255]
            available, debt = to_available(balance, payout.amount)
            entry_post(
                balance,
                kind=EntryKind.PAYOUT_REVERSAL,
                key=f"payout_reversal:{payout.pk}",
                amount=payout.amount,
                available=available,
                debt=debt,
                paid_out=-payout.amount,
                payout=payout,
            )
            publish(PayoutFailed(payout_id=payout.pk, reversed=reversed_))
        if payout.status not in OPEN_STATUSES or payout.status != before:
            payout.next_attempt_at = None
        payout.last_error = "" if payout.status != PayoutStatus.PENDING else payout.last_error
        payout.save()
    if payout.status != before:
        log = (
            logger.info
            if payout.status in OPEN_STATUSES or payout.status == "paid"
            else logger.warning
        )
        log("payout.status_changed", payout_id=payout.pk, status=payout.status, before=before)
    return str(payout.status)
