"""Reads on vendor money: balances, ledger entries, payouts, runs, the monthly statement."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet, Sum

from apps.common.errors import NotFound
from apps.common.limits import MAX_ID
from apps.payouts.models import (
    BUCKETS,
    OPEN_STATUSES,
    ZERO,
    LedgerEntry,
    Payout,
    PayoutDestination,
    PayoutHold,
    PayoutRun,
    StoreBalance,
)

STATEMENT_HEADER = (
    "date",
    "currency",
    "type",
    "description",
    "order_number",
    "payout_reference",
    "amount",
    "pending_change",
    "available_change",
    "debt_change",
    "paid_out_change",
    "pending",
    "available",
    "debt",
    "paid_out",
)


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=_zone())


def store_balances(*, store_id: int, currency: str | None = None) -> dict[str, Any]:
    """The store's balance per currency (or in ``currency``), with what is on its way
    (open payouts), and whether its payouts are held."""
    balances = StoreBalance.objects.filter(store_id=store_id).order_by("currency")
    payouts = Payout.objects.filter(store_id=store_id, status__in=OPEN_STATUSES)
    if currency:
        balances = balances.filter(currency=currency.upper())
        payouts = payouts.filter(currency=currency.upper())
    in_transit = dict(
        payouts.order_by()
        .values_list("currency")
        .annotate(total=Sum("amount"))
        .values_list("currency", "total")
    )
    return {
        "store_id": store_id,
        "payouts_on_hold": PayoutHold.objects.filter(store_id=store_id).exists(),
        "balances": [
            {
                "currency": balance.currency,
                **{bucket: getattr(balance, bucket) for bucket in BUCKETS},
                "in_transit": in_transit.get(balance.currency, ZERO),
                "updated_at": balance.updated_at,
            }
            for balance in balances
        ],
    }


def ledger_entries_for_store(
    *,
    store_id: int,
    kind: str | None = None,
    currency: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[LedgerEntry]:
    """The store's entries, newest first; dates are local days (``TIME_ZONE``),
    ``date_to`` inclusive."""
    entries = LedgerEntry.objects.filter(store_id=store_id).select_related("order", "payout")
    if kind:
        entries = entries.filter(kind=kind)
    if currency:
        entries = entries.filter(currency=currency.upper())
    if date_from:
        entries = entries.filter(created_at__gte=_day_start(date_from))
    if date_to:
        next_day = date.fromordinal(date_to.toordinal() + 1)
        entries = entries.filter(created_at__lt=_day_start(next_day))
    return entries.order_by("-id")


def payouts_for_store(*, store_id: int, status: str | None = None) -> QuerySet[Payout]:
    payouts = Payout.objects.filter(store_id=store_id).select_related("destination")
    if status:
        payouts = payouts.filter(status=status)
    return payouts.order_by("-created_at", "-id")


def payout_get_for_store(*, store_id: int, payout_id: int) -> Payout:
    """One of the store's payouts; any other id is ``NotFound``."""
    payout = (
        payouts_for_store(store_id=store_id).filter(pk=payout_id).first()
        if 0 < payout_id <= MAX_ID
        else None
    )
    if payout is None:
        raise NotFound("Payout not found.", code="payout_not_found")
    return payout


def payout_destination_active(*, store_id: int) -> PayoutDestination:
    destination = PayoutDestination.objects.filter(store_id=store_id, is_active=True).first()
    if destination is None:
        raise NotFound("No payout destination yet.", code="destination_not_found")
    return destination


def payout_run_get(*, run_id: int) -> PayoutRun:
    run = PayoutRun.objects.filter(pk=run_id).first() if 0 < run_id <= MAX_ID else None
    if run is None:
        raise NotFound("Payout run not found.", code="payout_run_not_found")
    return run


def balances_for_staff(
    *, store_id: int | None = None, currency: str | None = None, on_hold: bool | None = None
) -> QuerySet[StoreBalance]:
    """Every store's balances (filtered), largest available first, annotated with the
    store's name and ``payouts_on_hold``."""
    balances = StoreBalance.objects.select_related("store").annotate(
        payouts_on_hold=Exists(PayoutHold.objects.filter(store_id=OuterRef("store_id")))
    )
    if store_id is not None:
        balances = balances.filter(store_id=store_id)
    if currency:
        balances = balances.filter(currency=currency.upper())
    if on_hold is not None:
        balances = balances.filter(payouts_on_hold=on_hold)
    return balances.order_by("-available", "store_id", "currency")


def _description(entry: LedgerEntry) -> str:
    if entry.reason:
        return entry.reason
    label = entry.get_kind_display()
    if entry.order_id:
        return f"{label}, order {entry.order.order_number}"  # type: ignore[union-attr]
    if entry.payout_id:
        return f"{label} {entry.payout.reference}"  # type: ignore[union-attr]
    return str(label)


def statement_rows(*, store_id: int, month: date) -> list[tuple[str, ...]]:
    """The store's statement of ``month`` (local time) as CSV rows: the header, then per
    currency an opening balance, every entry of the month in order, and a closing
    balance. Amounts are strings with two decimals."""
    start = _day_start(month.replace(day=1))
    last = calendar.monthrange(month.year, month.month)[1]
    end = _day_start(date.fromordinal(month.replace(day=last).toordinal() + 1))
    currencies = list(
        LedgerEntry.objects.filter(store_id=store_id, created_at__lt=end)
        .order_by("currency")
        .values_list("currency", flat=True)
        .distinct()
    )
    rows: list[tuple[str, ...]] = [STATEMENT_HEADER]
    for currency in currencies:
        entries = LedgerEntry.objects.filter(store_id=store_id, currency=currency)
        before = entries.filter(created_at__lt=start).order_by("-id").first()
        opening = [getattr(before, f"{b}_after") if before else ZERO for b in BUCKETS]
        rows.append(_balance_row(start, currency, "opening_balance", opening))
        closing = opening
        for entry in (
            entries.filter(created_at__gte=start, created_at__lt=end)
            .select_related("order", "payout")
            .order_by("id")
        ):
            closing = [getattr(entry, f"{b}_after") for b in BUCKETS]
            rows.append(
                (
                    entry.created_at.astimezone(_zone()).isoformat(timespec="seconds"),
                    currency,
                    entry.kind,
                    _description(entry),
                    entry.order.order_number if entry.order_id else "",  # type: ignore[union-attr]
                    entry.payout.reference if entry.payout_id else "",  # type: ignore[union-attr]
                    _money(entry.amount),
                    *(_money(getattr(entry, b)) for b in BUCKETS),
                    *(_money(value) for value in closing),
                )
            )
        rows.append(_balance_row(end, currency, "closing_balance", closing))
    return rows


def _balance_row(
    moment: datetime, currency: str, kind: str, values: list[Decimal]
) -> tuple[str, ...]:
    return (
        moment.isoformat(timespec="seconds"),
        currency,
        kind,
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        *(_money(value) for value in values),
    )


def _money(value: Decimal) -> str:
    return format(Decimal(value).quantize(Decimal("0.01")), "f")
