"""Domain errors of vendor money."""

from __future__ import annotations

from apps.common.errors import Conflict


class InsufficientAvailable(Conflict):
    default_code = "insufficient_available"
    title = "Not enough available"


class PayoutNotRetryable(Conflict):
    default_code = "payout_not_retryable"
    title = "Payout cannot be retried"
