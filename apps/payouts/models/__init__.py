"""Vendor money: commission rules, the ledger and balances, destinations and payouts."""

from apps.payouts.models.commission import CommissionRule
from apps.payouts.models.ledger import (
    BUCKETS,
    ZERO,
    Earning,
    EarningStatus,
    EntryKind,
    LedgerEntry,
    StoreBalance,
)
from apps.payouts.models.payouts import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    DestinationStatus,
    Payout,
    PayoutDestination,
    PayoutHold,
    PayoutProvider,
    PayoutRun,
    PayoutStatus,
    RunStatus,
    StaffAction,
    StaffActionKind,
)

__all__ = [
    "BUCKETS",
    "FINAL_STATUSES",
    "OPEN_STATUSES",
    "ZERO",
    "CommissionRule",
    "DestinationStatus",
    "Earning",
    "EarningStatus",
    "EntryKind",
    "LedgerEntry",
    "Payout",
    "PayoutDestination",
    "PayoutHold",
    "PayoutProvider",
    "PayoutRun",
    "PayoutStatus",
    "RunStatus",
    "StaffAction",
    "StaffActionKind",
    "StoreBalance",
]
