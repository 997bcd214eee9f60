"""Placing an order: validate, price from the database, reserve stock, all or nothing;
an ``Idempotency-Key`` makes a retried request return the first order."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.addresses.countries import COUNTRY_ALIASES, COUNTRY_NAMES
from apps.catalog.models import Variant
from apps.common.errors import Conflict, FieldError, ValidationFailed
from apps.common.events import publish
from apps.inventory.models import Stock
from apps.inventory.services import stock_reserve
from apps.orders.events import OrderCreated
from apps.orders.models import IdempotencyKey, Order, OrderLine
from apps.orders.services.destination import (
    Destination,
    destination_errors,
    destination_resolve,
)
from apps.payouts.commission import (
    RULES_FLAG,
    commission_rates,
    commission_split,
    rules_flag,
)
from apps.shipping.models import Shipment
from apps.shipping.quotes import StoreShipping, shipping_quote
from apps.vendors.models import StoreStatus

logger = structlog.get_logger(__name__)

MAX_LINES = 100
MAX_QUANTITY = 1000
NOTES_MAX_LENGTH = 1000
KEY_MAX_LENGTH = 255
KEY_LIFETIME = timedelta(hours=24)
KEY_FIELD = "Idempotency-Key"
# Crockford's base32 without look-alikes (no I, L, O, U): easy to read out on the phone.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class OrderItem:
    variant_id: int
    quantity: int


def _order_number() -> str:
    chars = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))
    return f"FS-{chars[:4]}-{chars[4:]}"


def _hold() -> timedelta:
    return timedelta(minutes=int(settings.ORDER_RESERVATION_MINUTES))


@dataclass(frozen=True)
class Delivery:
    """Where the order goes and how each store sends it, as the request gave them."""

    delivery_address: str | None = None
    shipping_address: Mapping[str, Any] | None = None
    address_id: int | None = None
    # (store id, shipping method id) per store the customer chose for; the rest: cheapest.
    methods: Sequence[tuple[int, int]] = ()


def _basket_errors(items: list[OrderItem], methods: Sequence[tuple[int, int]]) -> list[FieldError]:
    """The lines, their quantities and the shipping choices checked (an order and a quote
    alike)."""
    errors: list[FieldError] = []
    if not 1 <= len(items) <= MAX_LINES:
        errors.append(FieldError("items", f"Between 1 and {MAX_LINES} lines.", "length"))
    for index, item in enumerate(items):
        if not 1 <= item.quantity <= MAX_QUANTITY:
            errors.append(
                FieldError(
                    f"items.{index}.quantity", f"Between 1 and {MAX_QUANTITY}.", "out_of_range"
                )
            )
    if len(methods) > MAX_LINES:
        errors.append(FieldError("shipping", f"At most {MAX_LINES} stores.", "length"))
    return errors


def _validate(items: list[OrderItem], delivery: Delivery, customer_notes: str) -> str:
    errors = _basket_errors(items, delivery.methods)
    errors.extend(
        destination_errors(
            delivery_address=delivery.delivery_address,
            shipping_address=delivery.shipping_address,
            address_id=delivery.address_id,
        )
    )
    notes = (customer_notes or "").strip()
    if len(notes) > NOTES_MAX_LENGTH:
        errors.append(
            FieldError("customer_notes", f"At most {NOTES_MAX_LENGTH} characters.", "max_length")
        )
    if errors:
        raise ValidationFailed(errors[0].message, field_errors=errors)
    return notes


def _request_hash(items: list[OrderItem], delivery: Delivery, notes: str) -> str:
    canonical = json.dumps(
        {
            "items": [[item.variant_id, item.quantity] for item in items],
            "delivery_address": (delivery.delivery_address or "").strip(),
            "shipping_address": dict(delivery.shipping_address or {}),
            "address_id": delivery.address_id,
            "shipping": [list(choice) for choice in delivery.methods],
            "customer_notes": notes,
        },
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _sellable_variants(items: list[OrderItem]) -> dict[int, Variant]:
    """The ordered variants that can be sold, in one query; 422 naming the others."""
    ids = {item.variant_id for item in items}
    variants = {
        variant.pk: variant
        for variant in Variant.objects.select_related("product__store", "colour")
        .filter(
            pk__in=ids,
            is_active=True,
            product__is_active=True,
            product__store__status=StoreStatus.APPROVED,
        )
        # Whether a commission rule could apply: without one, no query for the rules.
        .annotate(**{RULES_FLAG: rules_flag()})
    }
    missing = [
        FieldError(f"items.{index}.variant_id", "No such variant for sale.", "unavailable")
        for index, item in enumerate(items)
        if item.variant_id not in variants
    ]
    if missing:
        raise ValidationFailed(
            "Some items are not for sale.",
            code="variant_unavailable",
            field_errors=missing,
            details={"variant_ids": sorted(ids - variants.keys())},
        )
    currencies = {variant.currency for variant in variants.values()}
    if len(currencies) > 1:
        raise ValidationFailed.for_field("items", "Items are priced in different currencies.")
    return variants


def _insufficient(items: list[OrderItem], variant_ids: list[int]) -> Conflict:
    available = {
        variant_id: max(on_hand - reserved, 0)
        for variant_id, on_hand, reserved in Stock.objects.filter(
            variant_id__in=variant_ids
        ).values_list("variant_id", "on_hand", "reserved")
    }
    wanted: dict[int, int] = {}
    for item in items:
        wanted[item.variant_id] = wanted.get(item.variant_id, 0) + item.quantity
    lines = [
        {
            "index": index,
            "variant_id": item.variant_id,
            "requested": wanted[item.variant_id],
            "available": available.get(item.variant_id, 0),
        }
        for index, item in enumerate(items)
        if item.variant_id in variant_ids
    ]
    return Conflict(
        "Not enough stock for some lines.",
        code="insufficient_stock",
        details={"lines": lines},
        field_errors=[
            FieldError(
                f"items.{line['index']}.quantity", "Not enough in stock.", "insufficient_stock"
            )
            for line in lines
        ],
    )


def _replay(key_row: IdempotencyKey, request_hash: str) -> Order:
    if key_row.request_hash != request_hash or key_row.order is None:
        raise ValidationFailed.for_field(
            KEY_FIELD,
            "This key was already used for a different order request.",
            "idempotency_key_reused",
        )
    return key_row.order


def order_create(
    *,
    customer_id: int,
    items: list[OrderItem],
    delivery_address: str | None = None,
    shipping_address: Mapping[str, Any] | None = None,
    address_id: int | None = None,
    shipping: Sequence[tuple[int, int]] = (),
    customer_notes: str = "",
    idempotency_key: str | None = None,
) -> tuple[Order, bool]:
    """Place an order for the customer ``customer_id``; returns ``(order, created)``.

    Prices come from the catalogue and totals are computed here: the lines plus each
    store's shipping (``apps.shipping.quotes``: the method chosen in ``shipping`` as
    ``(store_id, method_id)`` pairs, else the cheapest) to one address — ``address_id``
    from the customer's book, a ``shipping_address`` (``apps.addresses.validation``), or
    a one-text ``delivery_address`` in the marketplace's country — one shipment per store
    written with the order. Stock is reserved in
    the same transaction (never oversold; nothing written if any line fails). With an
    ``idempotency_key``, repeating the same request returns the first order
    (``created`` False), also when the requests race; the key with a different request
    → 422 on ``Idempotency-Key``. Raises ``ValidationFailed`` (fields such as
    ``items.2.variant_id``) and ``Conflict`` (``insufficient_stock`` naming the lines).
    """
    delivery = Delivery(delivery_address, shipping_address, address_id, tuple(shipping))
    notes = _validate(items, delivery, customer_notes)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= KEY_MAX_LENGTH:
        raise ValidationFailed.for_field(KEY_FIELD, f"1 to {KEY_MAX_LENGTH} characters.", "length")
    request_hash = _request_hash(items, delivery, notes)
    now = timezone.now()
    with transaction.atomic():
        key_row = None
        if idempotency_key is not None:
            IdempotencyKey.objects.filter(
                customer_id=customer_id, key=idempotency_key, expires_at__lte=now
            ).delete()
            try:
                with transaction.atomic():
                    # A racing request with the same key waits here until the first
                    # commits, then fails the unique constraint and replays its order.
                    key_row = IdempotencyKey.objects.create(
                        customer_id=customer_id,
                        key=idempotency_key,
                        request_hash=request_hash,
                        expires_at=now + KEY_LIFETIME,
                    )
            except IntegrityError:
                existing = IdempotencyKey.objects.select_related("order").get(
                    customer_id=customer_id, key=idempotency_key
                )
                return _replay(existing, request_hash), False
        destination = destination_resolve(
            customer_id=customer_id,
            delivery_address=delivery.delivery_address,
            shipping_address=delivery.shipping_address,
            address_id=delivery.address_id,
        )
        order = _place(customer_id, items, destination, delivery.methods, notes, now, key_row)
        publish(OrderCreated(order_id=order.pk, customer_id=customer_id))
    logger.info(
        "order.created", order_id=order.pk, order_number=order.order_number, lines=len(items)
    )
    return order, True


def _place(
    customer_id: int,
    items: list[OrderItem],
    destination: Destination,
    methods: Sequence[tuple[int, int]],
    notes: str,
    now: Any,
    key_row: IdempotencyKey | None,
) -> Order:
    # A fixed number of queries whatever the number of lines and stores: one read of the
    # variants, one of the shipping methods, the order, the key, the reservation (see
    # ``stock_reserve``), one read of the commission rules when some may apply, one insert
    # of the lines, one of the shipments.
    variants = _sellable_variants(items)
    lines = []
    total = Decimal("0.00")
    for item in items:
        variant = variants[item.variant_id]
        line_total = variant.price * item.quantity
        total += line_total
        lines.append(
            OrderLine(
                variant=variant,
                store=variant.product.store,
                product_name=variant.product.name,
                sku=variant.sku,
                size=variant.size,
                colour=variant.colour.name,
                unit_price=variant.price,
                quantity=item.quantity,
                line_total=line_total,
            )
        )
    currency = next(iter(variants.values())).currency
    shipping = _shipping(lines, destination, methods, currency)
    shipping_total = sum((quote.chosen.price for quote in shipping), Decimal("0.00"))
    for attempt in range(5):
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    customer_id=customer_id,
                    order_number=_order_number(),
                    currency=currency,
                    total_amount=total + shipping_total,
                    shipping_amount=shipping_total,
                    delivery_address=destination.text,
                    shipping_address=destination.snapshot,
                    customer_notes=notes,
                    reserved_until=now + _hold(),
                )
            break
        except IntegrityError:  # an order number drawn twice (1 in 10^12): draw again
            if attempt == 4:
                raise
    if key_row is not None:
        # Before the stock is locked: every statement between the lock and the commit
        # makes the other buyers of the same variants wait longer.
        key_row.order = order
        key_row.save(update_fields=["order"])
    try:
        stock_reserve(items=[(item.variant_id, item.quantity) for item in items], order_id=order.pk)
    except Conflict as error:
        if error.code != "insufficient_stock":
            raise
        raise _insufficient(items, error.details.get("variant_ids", [])) from error
    _snapshot_commission(lines, order.currency)
    for line in lines:
        line.order = order
    # After the reservation, so a refused order does not write its lines first.
    OrderLine.objects.bulk_create(lines)
    Shipment.objects.bulk_create(
        Shipment(
            order=order,
            store_id=quote.store_id,
            method_id=quote.chosen.method_id,
            method_name=quote.chosen.name,
            shipping_amount=quote.chosen.price,
            min_days=quote.chosen.min_days,
            max_days=quote.chosen.max_days,
        )
        for quote in shipping
    )
    return order


def _shipping(
    lines: list[OrderLine],
    destination: Destination,
    methods: Sequence[tuple[int, int]],
    currency: str,
) -> list[StoreShipping]:
    """Each store's shipping for its part of the order (stores in the order of the
    items), the customer's method or the cheapest; 422 naming what cannot be shipped."""
    subtotals: dict[int, Decimal] = {}
    names: dict[int, str] = {}
    for line in lines:
        subtotals[line.store_id] = subtotals.get(line.store_id, Decimal("0.00")) + line.line_total
        names[line.store_id] = line.store.name
    if destination.address_id is not None:
        country_field = "address_id"
    elif destination.snapshot:
        country_field = "shipping_address.country"
    elif destination.text:
        country_field = "delivery_address"
    else:
        country_field = "country"
    return shipping_quote(
        store_subtotals=subtotals,
        store_names=names,
        currency=currency,
        country=destination.country,
        choices=methods,
        country_field=country_field,
    )


def _snapshot_commission(lines: list[OrderLine], currency: str) -> None:
    """Copy the commission that applies now onto each line (rate and amount, split to the
    minor unit: ``apps.payouts.commission``). After the reservation, so a refused order
    does not pay for the rules' read (made only when some rule may apply)."""
    rates = commission_rates(line.variant for line in lines)
    for line in lines:
        line.commission_rate = rates[line.variant.pk]
    amounts = commission_split(
        [(line.line_total, line.commission_rate) for line in lines], currency
    )
    for line, amount in zip(lines, amounts, strict=True):
        line.commission_amount = amount


@dataclass(frozen=True)
class OrderQuote:
    currency: str
    subtotal: Decimal
    shipping: list[StoreShipping]
    store_names: dict[int, str]

    @property
    def shipping_total(self) -> Decimal:
        return sum((quote.chosen.price for quote in self.shipping), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping_total


def order_quote(
    *,
    customer_id: int,
    items: list[OrderItem],
    country: str | None = None,
    shipping_address: Mapping[str, Any] | None = None,
    address_id: int | None = None,
    shipping: Sequence[tuple[int, int]] = (),
) -> OrderQuote:
    """What an order of ``items`` would cost to ship to an address (or just a
    ``country``): each store's options and the one that applies, priced exactly as
    placing the order would. Writes nothing, reserves nothing."""
    delivery = Delivery(None, shipping_address, address_id, tuple(shipping))
    errors: list[FieldError] = []
    if country is not None and (shipping_address is not None or address_id is not None):
        errors.append(FieldError("country", "Give a country or an address, not both.", "conflict"))
    if country is None:
        try:
            _validate(items, delivery, "")
        except ValidationFailed as error:
            errors.extend(error.field_errors)
    else:
        country = COUNTRY_ALIASES.get(country.strip().upper(), country.strip().upper())
        if country not in COUNTRY_NAMES:
            errors.append(
                FieldError("country", "An ISO 3166-1 alpha-2 country code.", "invalid_choice")
            )
        errors.extend(_basket_errors(items, delivery.methods))
    if errors:
        raise ValidationFailed(errors[0].message, field_errors=errors)
    if country is not None:
        destination = Destination(text="", country=country)
    else:
        destination = destination_resolve(
            customer_id=customer_id,
            delivery_address=None,
            shipping_address=shipping_address,
            address_id=address_id,
        )
    variants = _sellable_variants(items)
    lines = [
        OrderLine(
            variant=variants[item.variant_id],
            store=variants[item.variant_id].product.store,
            line_total=variants[item.variant_id].price * item.quantity,
        )
        for item in items
    ]
    currency = next(iter(variants.values())).currency
    quotes = _shipping(lines, destination, delivery.methods, currency)
    return OrderQuote(
        currency=currency,
        subtotal=sum((line.line_total for line in lines), Decimal("0.00")),
        shipping=quotes,
        store_names={line.store_id: line.store.name for line in lines},
    )
