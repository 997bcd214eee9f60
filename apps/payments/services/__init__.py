"""Writes on payments: start, webhook intake, confirmation, refunds."""

from apps.payments.services.checkout import payment_start
from apps.payments.services.confirmation import (
    Outcome,
    payment_check,
    payment_confirm,
    payment_settle,
)
from apps.payments.services.refunds import (
    payment_refund,
    refund_record,
    refund_retry,
    refund_settle,
)
from apps.payments.services.webhooks import WebhookReceipt, webhook_receive

__all__ = [
    "Outcome",
    "WebhookReceipt",
    "payment_check",
    "payment_confirm",
    "payment_refund",
    "payment_settle",
    "payment_start",
    "refund_record",
    "refund_retry",
    "refund_settle",
    "webhook_receive",
]
