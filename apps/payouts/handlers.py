"""Reactions: a paid order and a refund reach the ledger; runs and payouts are carried out
in the background after the commit that recorded them; vendors hear how payouts went."""

from __future__ import annotations

from apps.common.events import subscribe
from apps.orders.events import OrderPaid
from apps.payments.events import PaymentRefunded, TransferEventReceived
from apps.payouts.events import PayoutCreated, PayoutFailed, PayoutPaid, PayoutRunStarted
from apps.payouts.tasks import (
    execute_payout_run,
    record_order_earnings,
    record_refund,
    send_payout,
    send_payout_notice,
    settle_reported_payout,
)


@subscribe(OrderPaid)
def record_sale(event: OrderPaid) -> None:
    record_order_earnings.enqueue(order_id=event.order_id)


@subscribe(PaymentRefunded)
def take_back_refund(event: PaymentRefunded) -> None:
    record_refund.enqueue(refund_id=event.refund_id)


@subscribe(TransferEventReceived)
def settle_reported_transfer(event: TransferEventReceived) -> None:
    settle_reported_payout.enqueue(provider=event.provider, reference=event.reference)


@subscribe(PayoutRunStarted)
def execute_run(event: PayoutRunStarted) -> None:
    execute_payout_run.enqueue(run_id=event.run_id)


@subscribe(PayoutCreated)
def send_created_payout(event: PayoutCreated) -> None:
    send_payout.enqueue(payout_id=event.payout_id)


@subscribe(PayoutPaid)
def mail_payout_paid(event: PayoutPaid) -> None:
    send_payout_notice.enqueue(payout_id=event.payout_id)


@subscribe(PayoutFailed)
def mail_payout_failed(event: PayoutFailed) -> None:
    send_payout_notice.enqueue(payout_id=event.payout_id)
