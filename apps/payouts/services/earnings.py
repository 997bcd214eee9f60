"""What stores earn: a sale recorded when the order is paid (held), refunds taken back in
proportion, and the hold ended once the return window after delivery has passed."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from apps.common.errors import NotFound
from apps.orders.models import PAID_OR_LATER, Order, OrderLine, OrderStatus
from apps.orders.services.lifecycle import SHIPPING_STATUSES
from apps.payments.models import Refund, RefundStatus
from apps.payouts.models import Earning, EarningStatus, EntryKind, LedgerEntry, StoreBalance
from apps.payouts.rounding import apportion, half_up, minor_unit
from apps.payouts.services.ledger import balance_locked, balances_locked, entry_post, to_available
from apps.shipping.models import Shipment, ShipmentStatus

logger = structlog.get_logger(__name__)

PAID_STATUSES = PAID_OR_LATER


def hold_period() -> timedelta:
    return timedelta(days=int(settings.PAYOUT_HOLD_DAYS))


@transaction.atomic
def earnings_record(*, order_id: int) -> list[Earning]:
    """Record each store's part of a paid order: a ``sale`` of its lines' totals and its
    shipping, and its ``commission`` on the lines (both held). Running it again, or
    racing it, records nothing twice (the balance locks serialise it;
    ``earning_one_per_order_store`` and the entry keys refuse a second record). An order
    not paid yet records nothing. Raises ``NotFound``."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise NotFound("Order not found.", code="order_not_found")
    if order.status not in PAID_STATUSES or order.paid_at is None:
        return []
    parts = list(
        OrderLine.objects.filter(order_id=order.pk)
        .values("store_id")
        .annotate(gross=Sum("line_total"), commission=Sum("commission_amount"))
        .order_by("store_id")
    )
    # The shipping a store charged is the store's (it sends the parcel): part of its
    # gross, without commission, so the stores' parts add up to the order's total.
    shipping = dict(
        Shipment.objects.filter(order_id=order.pk, is_exchange=False).values_list(
            "store_id", "shipping_amount"
        )
    )
    for part in parts:
        part["gross"] += shipping.get(part["store_id"], Decimal("0.00"))
    balances = balances_locked((part["store_id"], order.currency) for part in parts)
    earnings = []
    for part in parts:
        earning, created = Earning.objects.get_or_create(
            order_id=order.pk,
            store_id=part["store_id"],
            defaults={
                "currency": order.currency,
                "gross": part["gross"],
                "commission": part["commission"],
            },
        )
        earnings.append(earning)
        if not created:
            continue
        balance = balances[(part["store_id"], order.currency)]
        links: dict[str, Any] = {"order_id": order.pk, "earning": earning}
        entry_post(
            balance,
            kind=EntryKind.SALE,
            key=f"sale:{earning.pk}",
            amount=earning.gross,
            pending=earning.gross,
            **links,
        )
        if earning.commission:
            entry_post(
                balance,
                kind=EntryKind.COMMISSION,
                key=f"commission:{earning.pk}",
                amount=-earning.commission,
                pending=-earning.commission,
                **links,
            )
        logger.info(
            "ledger.sale_recorded",
            order_id=order.pk,
            store_id=earning.store_id,
            gross=str(earning.gross),
            commission=str(earning.commission),
        )
    return earnings


def refund_record(*, refund_id: int) -> str:
    """Take a succeeded refund back from the stores of its order (from its store alone
    when it names one: a return), in proportion to what each still has of the order (so
    a full refund takes everything; commission is given back in the same proportion). A
    held part is reduced (and never becomes available if nothing is left); a released
    part comes out of the available balance, the rest as debt. Refunds of money that was
    never the order's (a payment flagged for refund) are ignored. Idempotent per refund
    (``refund:<refund>:<store>`` keys). Returns what it did: ``recorded``, ``already
    recorded``, ``not succeeded``, ``not revenue``."""
    refund = Refund.objects.select_related("payment").filter(pk=refund_id).first()
    if refund is None:
        raise NotFound("Refund not found.", code="refund_not_found")
    if refund.status != RefundStatus.SUCCEEDED:
        return "not succeeded"
    if refund.payment.needs_refund_reason:
        return "not revenue"
    order_id = refund.payment.order_id
    # The sale first, in case this runs before the order's own record (tasks race).
    earnings_record(order_id=order_id)
    with transaction.atomic():
        stores = list(
            Earning.objects.filter(order_id=order_id)
            .order_by("store_id")
            .values_list("store_id", "currency")
        )
        balances = balances_locked(stores)
        if LedgerEntry.objects.filter(key__startswith=f"refund:{refund.pk}:").exists():
            return "already recorded"
        earnings = list(
            Earning.objects.select_for_update().filter(order_id=order_id).order_by("store_id")
        )
        if not earnings:
            return "not revenue"
        unit = minor_unit(earnings[0].currency)
        # A refund for one store's part (a return) is that store's alone.
        left = [
            earning.gross - earning.refunded_gross
            if refund.store_id in (None, earning.store_id)
            else Decimal(0)
            for earning in earnings
        ]
        amount = min(refund.amount, sum(left, Decimal(0)))
        for earning, share in zip(earnings, apportion(amount, left, unit), strict=True):
            if share > 0:
                _take_back(earning, share, refund, balances[(earning.store_id, earning.currency)])
    logger.info("ledger.refund_recorded", refund_id=refund.pk, order_id=order_id)
    return "recorded"


def _moves(balance: StoreBalance, amount: Decimal, *, held: bool) -> dict[str, Decimal]:
    """Where a signed amount of a part goes: the held bucket while the part is held,
    else the available balance (and debt)."""
    if held:
        return {"pending": amount}
    available, debt = to_available(balance, amount)
    return {"available": available, "debt": debt}


def _take_back(earning: Earning, share: Decimal, refund: Refund, balance: StoreBalance) -> None:
    unit = minor_unit(earning.currency)
    refunded = earning.refunded_gross + share
    # Commission is given back in the proportion refunded so far, rounded once: a part
    # refunded in full gives back exactly its commission.
    commission_back = half_up(earning.commission * refunded / earning.gross, unit)
    commission_back -= earning.refunded_commission
    links: dict[str, Any] = {"order_id": earning.order_id, "earning": earning, "refund": refund}
    key = f"{refund.pk}:{earning.store_id}"
    held = earning.status == EarningStatus.HELD
    # The commission first: the refund then never takes a bucket below zero on its way.
    if commission_back:
        entry_post(
            balance,
            kind=EntryKind.COMMISSION_REFUND,
            key=f"commission_refund:{key}",
            amount=commission_back,
            **_moves(balance, commission_back, held=held),
            **links,
        )
    entry_post(
        balance,
        kind=EntryKind.REFUND,
        key=f"refund:{key}",
        amount=-share,
        **_moves(balance, -share, held=held),
        **links,
    )
    earning.refunded_gross = refunded
    earning.refunded_commission += commission_back
    if held and earning.net_remaining == 0:
        earning.status = EarningStatus.REVERSED
    earning.save(update_fields=["refunded_gross", "refunded_commission", "status", "updated_at"])


def _delivered_before(cutoff: datetime) -> Q:
    """The store's parcel of the order arrived before ``cutoff`` (and the order was not
    refunded meanwhile); an order from before shipments existed counts as a whole."""
    parcel = Shipment.objects.filter(
        is_exchange=False,
        order_id=OuterRef("order_id"),
        store_id=OuterRef("store_id"),
        status=ShipmentStatus.DELIVERED,
        delivered_at__lte=cutoff,
    )
    any_parcel = Shipment.objects.filter(order_id=OuterRef("order_id"))
    legacy = Q(order__status=OrderStatus.DELIVERED, order__delivered_at__lte=cutoff) & ~Exists(
        any_parcel
    )
    return Q(order__status__in=SHIPPING_STATUSES) & (Exists(parcel) | legacy)


def earnings_release_due(*, now: datetime | None = None) -> int:
    """End the hold of every part whose parcel was delivered more than
    ``PAYOUT_HOLD_DAYS`` ago: what is left of it after refunds becomes available (paying
    back any debt first). One transaction per store and currency; running it twice, or
    on two workers at once, releases each part once. Returns how many parts were released."""
    moment = now or timezone.now()
    cutoff = moment - hold_period()
    due = (
        Earning.objects.filter(_delivered_before(cutoff), status=EarningStatus.HELD)
        .order_by("store_id", "currency")
        .values_list("store_id", "currency")
        .distinct()
    )
    return sum(_release(store_id, currency, cutoff, moment) for store_id, currency in list(due))


@transaction.atomic
def _release(store_id: int, currency: str, cutoff: datetime, now: datetime) -> int:
    balance = balance_locked(store_id, currency)
    earnings = list(
        Earning.objects.select_for_update(of=("self",))
        .filter(
            _delivered_before(cutoff),
            store_id=store_id,
            currency=currency,
            status=EarningStatus.HELD,
        )
        .order_by("id")
    )
    for earning in earnings:
        net = earning.net_remaining
        if net > 0:
            available, debt = to_available(balance, net)
            entry_post(
                balance,
                kind=EntryKind.RELEASE,
                key=f"release:{earning.pk}",
                amount=Decimal("0.00"),
                pending=-net,
                available=available,
                debt=debt,
                order_id=earning.order_id,
                earning=earning,
            )
        earning.status = EarningStatus.RELEASED
        earning.released_at = now
        earning.save(update_fields=["status", "released_at", "updated_at"])
    if earnings:
        logger.info("ledger.released", store_id=store_id, currency=currency, parts=len(earnings))
    return len(earnings)
