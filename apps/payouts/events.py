"""Payout events (ids and values only), published inside the transaction that caused them
and delivered after it commits."""

from __future__ import annotations

from apps.common.events import Event


class PayoutRunStarted(Event):
    name = "payouts.run_started"
    run_id: int


class PayoutCreated(Event):
    """A payout was debited from the store's balance and must now be sent."""

    name = "payouts.created"
    payout_id: int


class PayoutPaid(Event):
    name = "payouts.paid"
    payout_id: int


class PayoutFailed(Event):
    """The payout failed, or was reversed after it was paid; its amount is back in the
    store's balance."""

    name = "payouts.failed"
    payout_id: int
    reversed: bool
