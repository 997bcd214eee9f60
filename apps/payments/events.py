"""Payment events (ids and values only)."""

from __future__ import annotations

from apps.common.events import Event


class PaymentFlaggedForRefund(Event):
    name = "payments.flagged_for_refund"
    payment_id: int
    reason: str


class PaymentRefunded(Event):
    name = "payments.refunded"
    payment_id: int
    refund_id: int
    full: bool


class PaymentConfirmationRequested(Event):
    """Something (a webhook, the reconciler) says a payment may have changed."""

    name = "payments.confirmation_requested"
    payment_id: int
    source: str


class TransferEventReceived(Event):
    """A provider's verified webhook about a transfer (a vendor payout), stored once. It
    names the transfer only: whoever settles the payout asks the provider how it stands."""

    name = "payments.transfer_event_received"
    provider: str
    reference: str
    transfer_id: str
    kind: str
