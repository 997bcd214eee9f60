"""v2 returns (async): a customer asks to return or exchange units of a delivered
parcel, follows the request, and may withdraw it until the store has the items."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from apps.authentication.apis.ninja_auth import bearer_auth
from apps.authentication.tokens import AccessPrincipal
from apps.common.apis.ninja_schemas import Problem
from apps.common.db import in_thread
from apps.common.limits import MAX_ID, MAX_OFFSET
from apps.returns.models import ReturnReason
from apps.returns.selectors import return_get_for_customer, returns_for_customer
from apps.returns.services import return_cancel, return_request_create

router = Router(tags=["returns"], auth=bearer_auth)


class ReturnLineIn(Schema):
    line_id: int = Field(..., gt=0, le=MAX_ID, description="A line of the parcel's order.")
    quantity: int = Field(..., ge=1, le=1000)
    reason: ReturnReason
    note: str = Field("", max_length=500)
    exchange_variant_id: int | None = Field(
        None,
        gt=0,
        le=MAX_ID,
        description="Another size or colour of the same product instead of money (not "
        "dearer than what you paid); reserved at once.",
    )


class ReturnIn(Schema):
    shipment_id: int = Field(..., gt=0, le=MAX_ID, description="The delivered parcel.")
    lines: list[ReturnLineIn] = Field(..., min_length=1, max_length=100)


class ReturnLineOut(Schema):
    line_id: int
    product_name: str
    size: str
    colour: str
    quantity: int
    reason: str
    note: str
    exchange_variant_id: int | None
    exchange_size: str | None
    received_sellable: int
    received_damaged: int
    refund_amount: Decimal


class ReturnOut(Schema):
    id: int
    order_id: int
    order_number: str
    shipment_id: int
    store_id: int
    store_name: str
    status: str = Field(
        description="requested, approved, rejected, cancelled, expired, received, closed"
    )
    decision_reason: str = Field(description="Why the store rejected it.")
    refund_amount: Decimal
    currency: str
    refund_status: str | None = Field(description="pending, succeeded, failed")
    exchange_shipment_id: int | None = Field(description="The replacement's parcel.")
    escalated: bool
    created_at: datetime
    approved_at: datetime | None
    rejected_at: datetime | None
    cancelled_at: datetime | None
    received_at: datetime | None
    closed_at: datetime | None
    lines: list[ReturnLineOut]


class ReturnPageOut(Schema):
    items: list[ReturnOut]
    count: int
    next_offset: int | None


class ReturnFiltersIn(Schema):
    status: str | None = Field(None, max_length=16)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    limit: int = Field(20, ge=1, description="Page size; above 100 gives 100 (the maximum).")


def _customer_id(request: HttpRequest) -> int:
    principal: AccessPrincipal = request.auth  # type: ignore[attr-defined]
    return principal.user_id


def _create(customer_id: int, payload: ReturnIn) -> dict[str, Any]:
    created = return_request_create(
        customer_id=customer_id,
        shipment_id=payload.shipment_id,
        lines=[line.model_dump(mode="json") for line in payload.lines],
    )
    return return_get_for_customer(customer_id=customer_id, return_id=created.pk)


@router.post(
    "/returns/",
    response={201: ReturnOut, 404: Problem, 409: Problem, 422: Problem},
    summary="Ask to return or exchange items",
    operation_id="return_create",
)
async def create_return(request: HttpRequest, payload: ReturnIn) -> Status:
    """Within the store's window after the parcel was delivered (14 days unless the
    store says otherwise). 409 ``not_delivered``, ``return_window_closed``, or
    ``insufficient_stock`` for an exchange; 422 names each bad line field (more units
    than are left to return, a line of another parcel, a dearer exchange)."""
    return Status(201, await in_thread(_create, _customer_id(request), payload))


@router.get(
    "/returns/",
    response={200: ReturnPageOut, 422: Problem},
    summary="My returns",
    operation_id="return_list",
)
async def list_returns(request: HttpRequest, filters: Query[ReturnFiltersIn]) -> Any:
    """Your return requests, newest first."""
    return await in_thread(
        returns_for_customer, customer_id=_customer_id(request), **filters.model_dump()
    )


@router.get(
    "/returns/{return_id}/",
    response={200: ReturnOut, 404: Problem},
    summary="One return",
    operation_id="return_get",
)
async def get_return(request: HttpRequest, return_id: int) -> Any:
    return await in_thread(
        return_get_for_customer, customer_id=_customer_id(request), return_id=return_id
    )


def _cancel(customer_id: int, return_id: int) -> dict[str, Any]:
    return_cancel(return_id=return_id, customer_id=customer_id)
    return return_get_for_customer(customer_id=customer_id, return_id=return_id)


@router.post(
    "/returns/{return_id}/cancel/",
    response={200: ReturnOut, 404: Problem, 409: Problem},
    summary="Withdraw a return",
    operation_id="return_cancel",
)
async def cancel_return(request: HttpRequest, return_id: int) -> Any:
    """Until the store has the items; a reserved replacement goes back on sale."""
    return await in_thread(_cancel, _customer_id(request), return_id)
