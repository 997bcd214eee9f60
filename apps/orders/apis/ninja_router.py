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


class OrderAddressIn(Schema):
    """An address for this order only (docs/addresses.md: what each country needs)."""

    recipient_name: str = Field("", max_length=100)
    phone: str = Field("", max_length=32, description="National or +international; kept E.164.")
    line1: str = Field("", max_length=200)
    line2: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    region: str = Field("", max_length=100)
    postal_code: str = Field("", max_length=16)
    country: str = Field("", max_length=2, description="ISO 3166-1 alpha-2")


class ShippingChoiceIn(Schema):
    store_id: int = Field(..., gt=0, le=MAX_ID)
    method_id: int = Field(..., gt=0, le=MAX_ID, description="One of the store's options.")


class OrderIn(Schema):
    """Where to: exactly one of ``address_id`` (from your address book),
    ``shipping_address``, or ``delivery_address`` (one text, taken to be in the
    marketplace's country; kept for older clients)."""

    items: list[OrderItemIn] = Field(..., min_length=1, max_length=100)
    address_id: int | None = Field(None, gt=0, le=MAX_ID)
    shipping_address: OrderAddressIn | None = None
    delivery_address: str | None = Field(None, min_length=10, max_length=500)
    shipping: list[ShippingChoiceIn] = Field(
        default_factory=list,
        max_length=100,
        description="A shipping method per store; stores left out get their cheapest.",
    )
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
    store_id: int
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


class ShippingAddressOut(Schema):
    recipient_name: str
    phone: str = Field(description="E.164")
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str


class ShipmentOut(Schema):
    """One store's parcel: what its shipping cost and where it is."""

    id: int
    store_id: int
    store_name: str
    method_name: str
    shipping_amount: Decimal
    min_days: int = Field(description="Estimated days in transit, from…")
    max_days: int = Field(description="…to.")
    status: str = Field(description="awaiting, packed, shipped, delivered, returned")
    carrier: str
    tracking_number: str
    tracking_url: str = Field(description="The carrier's tracking page, when known.")
    packed_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    returned_at: datetime | None
    is_exchange: bool = Field(description="Replacements for returned items (docs/returns.md).")
    line_ids: list[int] = Field(description="The order's lines in it (none in an exchange).")


class OrderOut(Schema):
    id: int
    order_number: str
    status: str = Field(
        description="pending_payment, paid, partly_shipped, fulfilled (every parcel "
        "shipped), delivered, cancelled, refunded"
    )
    total_amount: Decimal = Field(description="The items plus shipping.")
    shipping_amount: Decimal = Field(description="Shipping of every store.")
    currency: str
    delivery_address: str = Field(description="The address as one text.")
    shipping_address: ShippingAddressOut | None = Field(
        description="The structured address (none for a one-text address)."
    )
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
    shipments: list[ShipmentOut]


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
        shipping_address=(
            payload.shipping_address.model_dump() if payload.shipping_address else None
        ),
        address_id=payload.address_id,
        shipping=[(choice.store_id, choice.method_id) for choice in payload.shipping],
        customer_notes=payload.customer_notes,
        idempotency_key=key,
    )
    return created, order_get_for_customer(customer_id=customer_id, order_id=order.pk)


@router.post(
    "/orders/",
    response={200: OrderDetailOut, 201: OrderDetailOut, 409: Problem, 422: Problem},
    summary="Place an order",
    operation_id="order_create",
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


@router.get(
    "/orders/",
    response={200: OrderPageOut, 422: Problem},
    summary="My orders",
    operation_id="order_list",
)
async def list_orders(request: HttpRequest, filters: Query[OrderFiltersIn]) -> dict[str, Any]:
    """Your orders, newest first; ``status`` filters, ``offset``/``limit`` page."""
    return await in_thread(
        order_list_for_customer, customer_id=_customer_id(request), **filters.model_dump()
    )


@router.get(
    "/orders/{order_id}/",
    response={200: OrderDetailOut, 404: Problem},
    summary="One order",
    operation_id="order_get",
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
    operation_id="order_cancel",
)
async def cancel_order(request: HttpRequest, order_id: int) -> dict[str, Any]:
    """Cancels an order awaiting payment and releases its stock; 409 once it is paid,
    cancelled or further along."""
    return await in_thread(_cancel, _customer_id(request), order_id)
