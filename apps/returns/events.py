"""Return events (ids only), published in the transaction that caused them and
delivered after it commits."""

from __future__ import annotations

from apps.common.events import Event


class ReturnRequested(Event):
    name = "returns.requested"
    return_id: int


class ReturnDecided(Event):
    """The store approved or rejected the request (``approved``)."""

    name = "returns.decided"
    return_id: int
    approved: bool


class ReturnReceived(Event):
    """The items arrived back; a refund (``refund_id``) may be on its way."""

    name = "returns.received"
    return_id: int
    refund_id: int | None


class ReturnClosed(Event):
    """The money is back with the customer (or none was due)."""

    name = "returns.closed"
    return_id: int
