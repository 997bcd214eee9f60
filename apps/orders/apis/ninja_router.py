"""v2 orders (async): place, list, read, cancel — each one hop into one sync call.

Placing and reading an order answer the selector's shape serialised once
(``json_response``); the tests validate those bodies against the schemas declared here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Header, Query, Router, Schema

from apps.authentication.apis.ninja_auth import bearer_auth
from apps.authentication.tokens import AccessPrincipal
from apps.common.apis.json_response import json_response
from apps.common.apis.ninja_schemas import Problem
from apps.common.db import in_thread
from apps.common.limits import MAX_ID, MAX_OFFSET
from apps.orders.selectors import (
    DEFAULT_PAGE_SIZE,
    order_get_for_customer,
    order_list_for_customer,
)
from apps.orders.services import OrderItem, order_cancel, order_create

router = Router(tags=["orders"], auth=bearer_auth)


class OrderItemIn(Schema):
    variant_id: int = Field(..., gt=0, le=MAX_ID)
    quantity: int = Field(..., ge=1, le=1000)


class OrderIn(Schema):
    items: list[OrderItemIn] = Field(..., min_length=1, max_length=100)
    delivery_address: str = Field(..., min_length=10, max_length=500)
    customer_notes: str = Field("", max_length=1000)


class OrderLineOut(Schema):
    id: int
    variant_id: int
    product_name: str
    sku: str
    size: str
    colour: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal
    fulfilled: bool


class OrderPaymentOut(Schema):
    """A payment as listed in its order (the full payment is ``PaymentOut``)."""

    id: int
    provider: str
    reference: str
    amount: Decimal
    currency: str
    status: str
    refunded_amount: Decimal
    needs_refund: bool = Field(description="Money the order cannot keep; staff refund it.")
    created_at: datetime


class OrderOut(Schema):
    id: int
    order_number: str
    status: str
    total_amount: Decimal
    currency: str
    delivery_address: str
    customer_notes: str
    created_at: datetime
    reserved_until: datetime | None = Field(
        description="Pay before this or the order is cancelled (unpaid orders only)."
    )
    paid_at: datetime | None
    cancelled_at: datetime | None
    needs_refund: bool = Field(
        description="A payment arrived that the order cannot keep (cancelled or already "
        "paid); it is being refunded."
    )
    items: list[OrderLineOut]


class OrderDetailOut(OrderOut):
    payments: list[OrderPaymentOut]


class OrderPageOut(Schema):
    items: list[OrderOut]
    count: int
    next_offset: int | None


class OrderFiltersIn(Schema):
    status: str | None = Field(None, max_length=20, description="e.g. pending_payment, paid")
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    limit: int = Field(
        DEFAULT_PAGE_SIZE, ge=1, description="Page size; above 100 gives 100 (the maximum)."
    )


def _customer_id(request: HttpRequest) -> int:
    principal: AccessPrincipal = request.auth  # type: ignore[attr-defined]
    return principal.user_id


def _place(customer_id: int, payload: OrderIn, key: str | None) -> tuple[bool, dict[str, Any]]:
    order, created = order_create(
        customer_id=customer_id,
        items=[OrderItem(item.variant_id, item.quantity) for item in payload.items],
        delivery_address=payload.delivery_address,
        customer_notes=payload.customer_notes,
        idempotency_key=key,
    )
    return created, order_get_for_customer(customer_id=customer_id, order_id=order.pk)


@router.post(
    "/orders/",
    response={200: OrderDetailOut, 201: OrderDetailOut, 409: Problem, 422: Problem},
    summary="Place an order",
)
async def create_order(
    request: HttpRequest,
    payload: OrderIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        max_length=255,
        description="Repeat a request with the same key to get the first order back.",
    ),
) -> HttpResponse:
    """Prices come from the catalogue and stock is reserved for the order's hold (30
    minutes by default); pay before it runs out. 201 for a new order; 200 with
    ``Idempotent-Replayed: true`` when the key was seen with the same body (the key with
    another body → 422). 409 names the lines short of stock; 422 names bad fields."""
    created, order = await in_thread(_place, _customer_id(request), payload, idempotency_key)
    response = json_response(order, status=201 if created else 200)
    if not created:
        response["Idempotent-Replayed"] = "true"
    return response


@router.get("/orders/", response={200: OrderPageOut, 422: Problem}, summary="My orders")
async def list_orders(request: HttpRequest, filters: Query[OrderFiltersIn]) -> dict[str, Any]:
    """Your orders, newest first; ``status`` filters, ``offset``/``limit`` page."""
    return await in_thread(
        order_list_for_customer, customer_id=_customer_id(request), **filters.model_dump()
    )


@router.get(
    "/orders/{order_id}/", response={200: OrderDetailOut, 404: Problem}, summary="One order"
)
async def get_order(request: HttpRequest, order_id: int) -> HttpResponse:
    """One of your orders with its lines and payments; any other id answers 404."""
    order = await in_thread(
        order_get_for_customer, customer_id=_customer_id(request), order_id=order_id
    )
    return json_response(order)


def _cancel(customer_id: int, order_id: int) -> dict[str, Any]:
    order_cancel(order_id=order_id, customer_id=customer_id, reason="customer")
    return order_get_for_customer(customer_id=customer_id, order_id=order_id)


@router.post(
    "/orders/{order_id}/cancel/",
    response={200: OrderDetailOut, 404: Problem, 409: Problem},
    summary="Cancel an unpaid order",
)
async def cancel_order(request: HttpRequest, order_id: int) -> dict[str, Any]:
    """Cancels an order awaiting payment and releases its stock; 409 once it is paid,
    cancelled or further along."""
    return await in_thread(_cancel, _customer_id(request), order_id)
