"""Reactions: every step of a return is emailed; a received return's refund is sent
after the commit that recorded it; the refund's success closes the return."""

from __future__ import annotations

from apps.common.events import subscribe
from apps.payments.events import PaymentRefunded
from apps.payments.tasks import settle_refund
from apps.returns.events import ReturnClosed, ReturnDecided, ReturnReceived, ReturnRequested
from apps.returns.models import ReturnRequest
from apps.returns.services import return_close
from apps.returns.tasks import send_return_email


@subscribe(ReturnRequested)
def mail_store(event: ReturnRequested) -> None:
    send_return_email.enqueue(return_id=event.return_id, kind="requested")


@subscribe(ReturnDecided)
def mail_decision(event: ReturnDecided) -> None:
    kind = "approved" if event.approved else "rejected"
    send_return_email.enqueue(return_id=event.return_id, kind=kind)


@subscribe(ReturnReceived)
def send_refund(event: ReturnReceived) -> None:
    send_return_email.enqueue(return_id=event.return_id, kind="received")
    if event.refund_id is not None:
        # The first call to the provider: a repeat, or the reconciler, asks it again
        # with the same key — never a second refund.
        settle_refund.enqueue(refund_id=event.refund_id)


@subscribe(PaymentRefunded)
def close_return(event: PaymentRefunded) -> None:
    return_id = (
        ReturnRequest.objects.filter(refund_id=event.refund_id).values_list("pk", flat=True).first()
    )
    if return_id is not None:
        return_close(return_id=return_id)


@subscribe(ReturnClosed)
def mail_refunded(event: ReturnClosed) -> None:
    send_return_email.enqueue(return_id=event.return_id, kind="refunded")
