"""v2 shipping (async): what a basket costs to ship before ordering, and the customer
confirming that a parcel arrived."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from apps.authentication.apis.ninja_auth import bearer_auth
from apps.authentication.tokens import AccessPrincipal
from apps.common.apis.ninja_schemas import Problem
from apps.common.db import in_thread
from apps.common.limits import MAX_ID
from apps.orders.apis.ninja_router import (
    OrderAddressIn,
    OrderDetailOut,
    OrderItemIn,
    ShippingChoiceIn,
)
from apps.orders.selectors import order_get_for_customer
from apps.orders.services import OrderItem, OrderQuote, order_quote
from apps.shipping.services import shipment_confirm_delivery

router = Router(tags=["shipping"], auth=bearer_auth)


class QuoteIn(Schema):
    """The basket and where it goes: exactly one of ``address_id``,
    ``shipping_address``, or just a ``country`` for an estimate."""

    items: list[OrderItemIn] = Field(..., min_length=1, max_length=100)
    address_id: int | None = Field(None, gt=0, le=MAX_ID)
    shipping_address: OrderAddressIn | None = None
    country: str | None = Field(None, min_length=2, max_length=2, description="ISO 3166-1")
    shipping: list[ShippingChoiceIn] = Field(default_factory=list, max_length=100)


class ShippingOptionOut(Schema):
    method_id: int | None = Field(description="None: the store's free standard delivery.")
    name: str
    price: Decimal = Field(description="For this basket: 0 when free above applies.")
    min_days: int
    max_days: int
    free_above: Decimal | None


class StoreQuoteOut(Schema):
    store_id: int
    store_name: str
    subtotal: Decimal = Field(description="The store's items.")
    options: list[ShippingOptionOut] = Field(description="Cheapest first.")
    chosen: ShippingOptionOut = Field(description="Your pick, else the cheapest.")


class QuoteOut(Schema):
    currency: str
    subtotal: Decimal
    shipping_total: Decimal
    total: Decimal
    stores: list[StoreQuoteOut]


def _customer_id(request: HttpRequest) -> int:
    principal: AccessPrincipal = request.auth  # type: ignore[attr-defined]
    return principal.user_id


def _option(option: Any) -> dict[str, Any]:
    return {
        "method_id": option.method_id,
        "name": option.name,
        "price": option.price,
        "min_days": option.min_days,
        "max_days": option.max_days,
        "free_above": option.free_above,
    }


def _quote_data(quote: OrderQuote) -> dict[str, Any]:
    return {
        "currency": quote.currency,
        "subtotal": quote.subtotal,
        "shipping_total": quote.shipping_total,
        "total": quote.total,
        "stores": [
            {
                "store_id": part.store_id,
                "store_name": quote.store_names[part.store_id],
                "subtotal": part.subtotal,
                "options": [_option(option) for option in part.options],
                "chosen": _option(part.chosen),
            }
            for part in quote.shipping
        ],
    }


def _quote(customer_id: int, payload: QuoteIn) -> dict[str, Any]:
    quote = order_quote(
        customer_id=customer_id,
        items=[OrderItem(item.variant_id, item.quantity) for item in payload.items],
        country=payload.country,
        shipping_address=(
            payload.shipping_address.model_dump() if payload.shipping_address else None
        ),
        address_id=payload.address_id,
        shipping=[(choice.store_id, choice.method_id) for choice in payload.shipping],
    )
    return _quote_data(quote)


@router.post(
    "/shipping/quote/",
    response={200: QuoteOut, 422: Problem},
    summary="Shipping options and totals for a basket",
    operation_id="shipping_quote",
)
async def quote_shipping(request: HttpRequest, payload: QuoteIn) -> dict[str, Any]:
    """Each store's shipping methods for the address (cheapest first), the one that
    applies, and the totals — exactly what placing the order would charge. Nothing is
    reserved. 422 names an item not for sale, a bad address field, a method the store
    does not offer, or the country when a store does not ship there."""
    return await in_thread(_quote, _customer_id(request), payload)


def _confirm(customer_id: int, order_id: int, shipment_id: int) -> dict[str, Any]:
    order_get_for_customer(customer_id=customer_id, order_id=order_id)
    shipment_confirm_delivery(shipment_id=shipment_id, customer_id=customer_id, order_id=order_id)
    return order_get_for_customer(customer_id=customer_id, order_id=order_id)


@router.post(
    "/orders/{order_id}/shipments/{shipment_id}/confirm-delivery/",
    response={200: OrderDetailOut, 404: Problem, 409: Problem},
    summary="Confirm a parcel arrived",
    operation_id="shipment_confirm_delivery",
)
async def confirm_delivery(request: HttpRequest, order_id: int, shipment_id: int) -> Any:
    """Say that a shipped parcel of your order arrived; the order is delivered once every
    parcel is. 409 if it was not shipped (or was already delivered); another customer's
    order or shipment → 404."""
    return await in_thread(_confirm, _customer_id(request), order_id, shipment_id)
