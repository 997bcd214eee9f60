"""Reads on returns: a customer's own, a store's inbox, and the shape both APIs answer."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.common.errors import NotFound, ValidationFailed
from apps.returns.models import ReturnRequest, ReturnStatus

MAX_PAGE = 100


def _requests() -> QuerySet[ReturnRequest]:
    return ReturnRequest.objects.select_related(
        "order", "store", "refund", "exchange_shipment"
    ).prefetch_related("lines__order_line", "lines__exchange_variant__colour")


def return_data(request: ReturnRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "order_id": request.order_id,
        "order_number": request.order.order_number,
        "shipment_id": request.shipment_id,
        "store_id": request.store_id,
        "store_name": request.store.name,
        "status": request.status,
        "decision_reason": request.decision_reason,
        "refund_amount": request.refund_amount,
        "currency": request.order.currency,
        "refund_status": request.refund.status if request.refund else None,
        "exchange_shipment_id": request.exchange_shipment_id,
        "escalated": request.escalated_at is not None,
        "created_at": request.created_at,
        "approved_at": request.approved_at,
        "rejected_at": request.rejected_at,
        "cancelled_at": request.cancelled_at,
        "received_at": request.received_at,
        "closed_at": request.closed_at,
        "lines": [
            {
                "line_id": line.order_line_id,
                "product_name": line.order_line.product_name,
                "size": line.order_line.size,
                "colour": line.order_line.colour,
                "quantity": line.quantity,
                "reason": line.reason,
                "note": line.note,
                "exchange_variant_id": line.exchange_variant_id,
                "exchange_size": line.exchange_variant.size if line.exchange_variant else None,
                "received_sellable": line.received_sellable,
                "received_damaged": line.received_damaged,
                "refund_amount": line.refund_amount,
            }
            for line in request.lines.all()
        ],
    }


def _check_status(status: str | None) -> None:
    if status is not None and status not in ReturnStatus.values:
        raise ValidationFailed.for_field(
            "status", f"One of: {', '.join(ReturnStatus.values)}.", "invalid_choice"
        )


def returns_for_customer(
    *, customer_id: int, status: str | None = None, offset: int = 0, limit: int = 20
) -> dict[str, Any]:
    _check_status(status)
    limit = min(max(limit, 1), MAX_PAGE)
    requests = _requests().filter(customer_id=customer_id)
    if status:
        requests = requests.filter(status=status)
    count = requests.count()
    page = list(requests.order_by("-created_at", "-id")[offset : offset + limit])
    return {
        "items": [return_data(r) for r in page],
        "count": count,
        "next_offset": offset + limit if offset + limit < count else None,
    }


def return_get_for_customer(*, customer_id: int, return_id: int) -> dict[str, Any]:
    request = _requests().filter(pk=return_id, customer_id=customer_id).first()
    if request is None:
        raise NotFound("Return not found.", code="return_not_found")
    return return_data(request)


def returns_for_store(
    *, store_id: int | None, status: str | None = None, escalated: bool | None = None
) -> QuerySet[ReturnRequest]:
    """The store's returns (``None``: staff, every store), oldest open first."""
    _check_status(status)
    requests = _requests().order_by("created_at", "id")
    if store_id is not None:
        requests = requests.filter(store_id=store_id)
    if status:
        requests = requests.filter(status=status)
    if escalated is not None:
        requests = requests.filter(escalated_at__isnull=not escalated)
    return requests


def return_get_for_store(*, store_id: int | None, return_id: int) -> ReturnRequest:
    request = returns_for_store(store_id=store_id).filter(pk=return_id).first()
    if request is None:
        raise NotFound("Return not found.", code="return_not_found")
    return request
