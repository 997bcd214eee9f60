"""Reactions: confirm payments in the background; receipts and vendor notices on paid
orders; refund notices."""

from __future__ import annotations

from apps.common.events import subscribe
from apps.orders.events import OrderPaid
from apps.orders.models import OrderLine
from apps.payments.events import PaymentConfirmationRequested, PaymentRefunded
from apps.payments.tasks import (
    process_order_payment,
    send_payment_receipt,
    send_refund_notice,
    send_vendor_order_notice,
)


@subscribe(PaymentConfirmationRequested)
def confirm_payment(event: PaymentConfirmationRequested) -> None:
    process_order_payment.enqueue(payment_id=event.payment_id)


@subscribe(OrderPaid)
def mail_receipt_and_vendor_notices(event: OrderPaid) -> None:
    send_payment_receipt.enqueue(order_id=event.order_id)
    store_ids = (
        OrderLine.objects.filter(order_id=event.order_id)
        .values_list("store_id", flat=True)
        .distinct()
    )
    for store_id in sorted(set(store_ids)):
        send_vendor_order_notice.enqueue(order_id=event.order_id, store_id=store_id)


@subscribe(PaymentRefunded)
def mail_refund_notice(event: PaymentRefunded) -> None:
    send_refund_notice.enqueue(refund_id=event.refund_id)
