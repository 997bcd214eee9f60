"""Returns in the background: the emails of every step, the return's refund sent after
the commit that recorded it, and the hourly sweep (escalation, expiry)."""

from __future__ import annotations

import structlog
from django.conf import settings

from apps.common.background import background_task
from apps.common.emails import send_templated_email
from apps.returns.models import ReturnRequest
from apps.returns.services import returns_sweep

logger = structlog.get_logger(__name__)

# Who hears of each step: the store's owner of a new request, the customer of the rest.
TO_STORE = {"requested", "escalated"}


def _context(request: ReturnRequest) -> dict[str, object]:
    return {
        "full_name": request.customer.full_name,
        "store_name": request.store.name,
        "order_number": request.order.order_number,
        "return_id": request.pk,
        "reason": request.decision_reason,
        "refund_amount": request.refund_amount,
        "currency": request.order.currency,
        "lines": [
            {
                "product_name": line.order_line.product_name,
                "size": line.order_line.size,
                "colour": line.order_line.colour,
                "quantity": line.quantity,
                "reason": line.get_reason_display(),
                "exchange": (
                    f"{line.exchange_variant.size}, {line.exchange_variant.colour.name}"
                    if line.exchange_variant
                    else ""
                ),
            }
            for line in request.lines.select_related("order_line", "exchange_variant__colour")
        ],
    }


@background_task(queue="emails")
def send_return_email(*, return_id: int, kind: str) -> str:
    """One email about a return: requested (to the store), approved, rejected, received,
    refunded (to the customer)."""
    request = ReturnRequest.objects.select_related("customer", "store__owner", "order").get(
        pk=return_id
    )
    context = _context(request)
    to = request.customer.email
    if kind in TO_STORE:
        to, context["full_name"] = request.store.owner.email, request.store.owner.full_name
    send_templated_email(to=to, template=f"returns/{kind}", context=context)
    return "sent"


@background_task(queue="default", retries=1, backoff=(60,))
def sweep_returns(*, scheduled_tick: int | None = None) -> str:
    """Escalate unanswered requests to staff, expire returns that never came back."""
    escalated, expired = returns_sweep()
    if escalated:
        logger.warning(
            "returns.need_staff", count=escalated, support=settings.SUPPORT_EMAIL, alert=True
        )
    return f"escalated {escalated}, expired {expired}"
