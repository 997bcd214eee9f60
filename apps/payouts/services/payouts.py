"""Making payouts: a run pays every eligible store once per currency.

Exactly once, however runs are repeated, raced or cut short:

* a run is found by its unique ``period_key`` (a repeated or redelivered run is the same
  run, and a finished run does nothing more);
* each payout is made in one transaction that locks the store's balance, checks it, and
  debits the whole available amount with a ``payout:<id>`` entry — a racing run waits for
  the lock and then finds nothing available;
* the database refuses a second payout of the same run, store and currency, and a second
  open payout of a store and currency;
* the provider is asked to send it after the commit (the outbox), under the payout's own
  reference, which the provider uses to make one transfer of it whatever is repeated.
"""

from __future__ import annotations

from decimal import Decimal

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.authentication.models import User
from apps.common.errors import NotFound, ValidationFailed
from apps.common.events import publish
from apps.payouts.events import PayoutCreated, PayoutRunStarted
from apps.payouts.exceptions import PayoutNotRetryable
from apps.payouts.models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    DestinationStatus,
    EntryKind,
    Payout,
    PayoutDestination,
    PayoutHold,
    PayoutRun,
    RunStatus,
    StaffAction,
    StaffActionKind,
    StoreBalance,
)
from apps.payouts.services.ledger import balance_locked, entry_post

logger = structlog.get_logger(__name__)

PERIOD_KEY_MAX_LENGTH = 64
REASON_MAX_LENGTH = 255


def payout_minimum(currency: str) -> Decimal:
    """The smallest payout in ``currency`` (``PAYOUT_MINIMUMS``; ``*`` for any other)."""
    minimums: dict[str, Decimal] = settings.PAYOUT_MINIMUMS
    return minimums.get(currency.upper(), minimums.get("*", Decimal("0.01")))


def reason_clean(reason: str, field: str = "reason") -> str:
    """A staff reason: required, one line of at most 255 characters."""
    text = " ".join((reason or "").split())
    if not text:
        raise ValidationFailed.for_field(field, "Say why.", "required")
    if len(text) > REASON_MAX_LENGTH:
        raise ValidationFailed.for_field(
            field, f"At most {REASON_MAX_LENGTH} characters.", "max_length"
        )
    return text


def payout_run_start(*, period_key: str, actor: User | None = None) -> tuple[PayoutRun, bool]:
    """Start the payout run ``period_key`` (the scheduler's ``scheduled:<date>``, or a
    key staff choose); returns ``(run, created)``. The same key again is the same run,
    never a second one: ``created`` False. The run itself works in the background.
    Raises ``ValidationFailed`` (``period_key``)."""
    key = (period_key or "").strip()
    if not 1 <= len(key) <= PERIOD_KEY_MAX_LENGTH or not key.isprintable():
        raise ValidationFailed.for_field(
            "period_key", f"1 to {PERIOD_KEY_MAX_LENGTH} printable characters.", "length"
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = PayoutRun.objects.create(period_key=key, actor=actor)
        except IntegrityError:
            return PayoutRun.objects.get(period_key=key), False
        if actor is not None:
            StaffAction.objects.create(
                actor=actor, kind=StaffActionKind.RUN, run=run, reason=f"payout run {key}"
            )
        publish(PayoutRunStarted(run_id=run.pk))
    logger.info("payouts.run_started", run_id=run.pk, period_key=key)
    return run, True


def payout_run_execute(*, run_id: int) -> PayoutRun:
    """Pay every store with available money in each currency, one transaction per store
    and currency (``payout_create``). A store on hold, without a verified destination, or
    below the minimum is skipped and named in ``stores_skipped``. A run cut short and run
    again pays only the stores it had not paid yet; a finished run does nothing. Raises
    ``NotFound``."""
    run = PayoutRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound("Payout run not found.", code="payout_run_not_found")
    if run.status == RunStatus.DONE:
        return run
    candidates = list(
        StoreBalance.objects.filter(available__gt=0)
        .order_by("store_id", "currency")
        .values_list("store_id", "currency")
    )
    created = 0
    skipped: dict[str, str] = {}
    for store_id, currency in candidates:
        outcome = payout_create(store_id=store_id, currency=currency, run_id=run.pk)
        if isinstance(outcome, Payout):
            created += 1
        elif outcome != "already_in_run":
            skipped[f"{store_id}:{currency}"] = outcome
    PayoutRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        status=RunStatus.DONE,
        finished_at=timezone.now(),
        payouts_created=Payout.objects.filter(run_id=run.pk).count(),
        stores_skipped=skipped,
    )
    logger.info("payouts.run_done", run_id=run.pk, created=created, skipped=len(skipped))
    run.refresh_from_db()
    return run


def _destination(store_id: int, currency: str) -> PayoutDestination | str:
    destination = PayoutDestination.objects.filter(store_id=store_id, is_active=True).first()
    if destination is None or destination.status != DestinationStatus.VERIFIED:
        return "no_verified_destination"
    if destination.currency and destination.currency != currency:
        return "destination_currency_differs"
    return destination


@transaction.atomic
def payout_create(
    *,
    store_id: int,
    currency: str,
    run_id: int | None = None,
    retry_of: Payout | None = None,
    actor: User | None = None,
) -> Payout | str:
    """Pay a store its whole available balance in ``currency``: lock the balance, check
    the store may be paid, record the payout and debit it (``payout`` entry) in one
    transaction; it is sent once this commits. Returns the payout, or why not:
    ``on_hold``, ``no_verified_destination``, ``destination_currency_differs``,
    ``below_minimum``, ``already_in_run``, ``payout_open``."""
    balance = balance_locked(store_id, currency)
    if (
        run_id is not None
        and Payout.objects.filter(run_id=run_id, store_id=store_id, currency=currency).exists()
    ):
        return "already_in_run"
    if PayoutHold.objects.filter(store_id=store_id).exists():
        return "on_hold"
    destination = _destination(store_id, currency)
    if isinstance(destination, str):
        return destination
    amount = balance.available
    if amount <= 0 or amount < payout_minimum(currency):
        return "below_minimum"
    if Payout.objects.filter(
        store_id=store_id, currency=currency, status__in=OPEN_STATUSES
    ).exists():
        return "payout_open"
    payout = Payout.objects.create(
        store_id=store_id,
        currency=currency,
        amount=amount,
        provider=destination.provider,
        destination=destination,
        run_id=run_id,
        retry_of=retry_of,
        actor=actor,
    )
    entry_post(
        balance,
        kind=EntryKind.PAYOUT,
        key=f"payout:{payout.pk}",
        amount=-amount,
        available=-amount,
        paid_out=amount,
        payout=payout,
        actor=actor,
    )
    publish(PayoutCreated(payout_id=payout.pk))
    logger.info(
        "payouts.created",
        payout_id=payout.pk,
        store_id=store_id,
        currency=currency,
        amount=str(amount),
        provider=payout.provider,
        run_id=run_id,
    )
    return payout


def payout_retry(*, payout_id: int, reason: str, actor: User | None) -> Payout:
    """Staff try again after a failed or reversed payout: a new payout of the store's
    available balance in that currency (which holds the failed amount again), to its
    current destination. One retry per failed payout (``retry_of`` is unique). Raises
    ``NotFound``, ``ValidationFailed`` (``reason``) and ``PayoutNotRetryable`` (not
    failed, already retried, or the store cannot be paid now: the reason says why)."""
    why = reason_clean(reason)
    failed = Payout.objects.filter(pk=payout_id).first()
    if failed is None:
        raise NotFound("Payout not found.", code="payout_not_found")
    if failed.status not in FINAL_STATUSES:
        raise PayoutNotRetryable(
            "Only failed or reversed payouts are retried.", details={"status": failed.status}
        )
    if Payout.objects.filter(retry_of=failed).exists():
        raise PayoutNotRetryable("This payout was already retried.")
    try:
        with transaction.atomic():
            outcome = payout_create(
                store_id=failed.store_id, currency=failed.currency, retry_of=failed, actor=actor
            )
            if isinstance(outcome, str):
                raise PayoutNotRetryable(
                    f"The store cannot be paid now ({outcome}).", details={"reason": outcome}
                )
            StaffAction.objects.create(
                actor=actor,
                kind=StaffActionKind.RETRY,
                store_id=failed.store_id,
                payout=outcome,
                reason=why,
                details={"failed_payout_id": failed.pk},
            )
    except IntegrityError as error:
        raise PayoutNotRetryable("This payout was already retried.") from error
    return outcome
