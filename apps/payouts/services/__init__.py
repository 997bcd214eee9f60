"""Writes on vendor money: earnings and refunds, payouts and their transfers,
destinations, and staff actions."""

from apps.payouts.services.destinations import (
    payout_destination_register,
    payout_destination_verify,
)
from apps.payouts.services.earnings import (
    earnings_record,
    earnings_release_due,
    refund_record,
)
from apps.payouts.services.payouts import (
    payout_create,
    payout_minimum,
    payout_retry,
    payout_run_execute,
    payout_run_start,
)
from apps.payouts.services.staff import ledger_adjust, payouts_hold, payouts_release
from apps.payouts.services.transfers import (
    payout_apply,
    payout_send,
    payout_settle,
    payout_settle_reported,
)

__all__ = [
    "earnings_record",
    "earnings_release_due",
    "ledger_adjust",
    "payout_apply",
    "payout_create",
    "payout_destination_register",
    "payout_destination_verify",
    "payout_minimum",
    "payout_retry",
    "payout_run_execute",
    "payout_run_start",
    "payout_send",
    "payout_settle",
    "payout_settle_reported",
    "payouts_hold",
    "payouts_release",
    "refund_record",
]
