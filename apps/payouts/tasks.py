"""Vendor money in the background: the ledger and payouts on ``critical``, the scheduled
jobs, and the payout emails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from django.db.models import Q
from django.utils import timezone

from apps.common.background import background_task
from apps.common.emails import send_templated_email
from apps.payouts.models import (
    DestinationStatus,
    Payout,
    PayoutDestination,
    PayoutStatus,
)
from apps.payouts.services import (
    earnings_record,
    earnings_release_due,
    payout_destination_verify,
    payout_run_execute,
    payout_run_start,
    payout_send,
    payout_settle,
    payout_settle_reported,
    refund_record,
)

logger = structlog.get_logger(__name__)

# A payout accepted by the provider but not settled by a webhook after this is asked about.
IN_TRANSIT_CHECK_AFTER = timedelta(minutes=10)


@background_task(queue="critical")
def record_order_earnings(*, order_id: int) -> int:
    """Record each store's part of a paid order in the ledger (held). Idempotent."""
    return len(earnings_record(order_id=order_id))


@background_task(queue="critical")
def record_refund(*, refund_id: int) -> str:
    """Take a succeeded refund back from the stores' ledgers. Idempotent."""
    return refund_record(refund_id=refund_id)


@background_task(queue="critical", retries=0)
def release_held_earnings(*, scheduled_tick: int | None = None) -> int:
    """End the hold of parts delivered more than ``PAYOUT_HOLD_DAYS`` ago (hourly)."""
    return earnings_release_due()


@background_task(queue="critical", retries=0)
def run_scheduled_payouts(*, scheduled_tick: int | None = None) -> int:
    """The weekly payout run, keyed by the tick's date: a redelivered tick is the same
    run. Returns the run's id."""
    moment = (
        datetime.fromtimestamp(scheduled_tick, UTC) if scheduled_tick is not None else None
    ) or timezone.now()
    run, _ = payout_run_start(period_key=f"scheduled:{moment.date().isoformat()}")
    return run.pk


@background_task(queue="critical")
def execute_payout_run(*, run_id: int) -> int:
    """Make the run's payouts (one transaction per store and currency, a few milliseconds
    each); a retry after a crash or a time-out pays only the stores not paid yet. Returns
    how many payouts the run holds."""
    return payout_run_execute(run_id=run_id).payouts_created


@background_task(queue="critical")
def send_payout(*, payout_id: int) -> str:
    """Ask the provider to transfer a payout (same reference on every attempt)."""
    return payout_send(payout_id=payout_id)


@background_task(queue="critical")
def settle_payout(*, payout_id: int) -> str:
    """Ask the provider how a payout stands and apply it."""
    return payout_settle(payout_id=payout_id)


@background_task(queue="critical")
def settle_reported_payout(*, provider: str, reference: str) -> str:
    """A provider's webhook named a transfer: settle that payout."""
    return payout_settle_reported(provider=provider, reference=reference)


@background_task(queue="critical")
def verify_payout_destination(*, destination_id: int) -> str:
    return payout_destination_verify(destination_id=destination_id)


@background_task(queue="critical", retries=0)
def reconcile_payouts(*, scheduled_tick: int | None = None) -> int:
    """Every five minutes: send pending payouts that are due (a lost answer is looked up
    first), ask about payouts long in transit (a lost webhook), and verify destinations
    the provider had not answered about. Returns how many tasks it enqueued."""
    now = timezone.now()
    due = list(
        Payout.objects.filter(status=PayoutStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("id")
        .values_list("pk", flat=True)[:500]
    )
    for payout_id in due:
        send_payout.enqueue(payout_id=payout_id)
    waiting = list(
        Payout.objects.filter(
            status=PayoutStatus.IN_TRANSIT, sent_at__lte=now - IN_TRANSIT_CHECK_AFTER
        )
        .order_by("id")
        .values_list("pk", flat=True)[:500]
    )
    for payout_id in waiting:
        settle_payout.enqueue(payout_id=payout_id)
    unverified = list(
        PayoutDestination.objects.filter(status=DestinationStatus.UNVERIFIED, is_active=True)
        .order_by("id")
        .values_list("pk", flat=True)[:100]
    )
    for destination_id in unverified:
        verify_payout_destination.enqueue(destination_id=destination_id)
    if due or waiting:
        logger.info("payouts.reconciling", sending=len(due), settling=len(waiting))
    return len(due) + len(waiting) + len(unverified)


@background_task(queue="emails")
def send_payout_notice(*, payout_id: int) -> str:
    """Tell the vendor a payout was paid, or failed (the amount is back in the balance)."""
    payout = Payout.objects.select_related("store__owner", "destination").get(pk=payout_id)
    if payout.status == PayoutStatus.PAID:
        template = "payouts/sent"
    elif payout.status in (PayoutStatus.FAILED, PayoutStatus.REVERSED):
        template = "payouts/failed"
    else:
        return "not settled"
    send_templated_email(
        to=payout.store.owner.email,
        template=template,
        context={
            "full_name": payout.store.owner.full_name,
            "store_name": payout.store.name,
            "amount": payout.amount,
            "currency": payout.currency,
            "reference": payout.reference,
            "provider": payout.destination.get_provider_display(),
            "account_name": payout.destination.account_name,
            "reversed": payout.status == PayoutStatus.REVERSED,
            "reason": payout.failure_reason,
        },
    )
    return "sent"
