"""Placing an order: validate, price from the database, reserve stock, all or nothing;
an ``Idempotency-Key`` makes a retried request return the first order."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.catalog.models import Variant
from apps.common.errors import Conflict, FieldError, ValidationFailed
from apps.common.events import publish
from apps.inventory.models import Stock
from apps.inventory.services import stock_reserve
from apps.orders.events import OrderCreated
from apps.orders.models import IdempotencyKey, Order, OrderLine
from apps.payouts.commission import (
    RULES_FLAG,
    commission_rates,
    commission_split,
    rules_flag,
)
from apps.vendors.models import StoreStatus

logger = structlog.get_logger(__name__)

MAX_LINES = 100
MAX_QUANTITY = 1000
ADDRESS_LENGTH = (10, 500)
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


def _validate(
    items: list[OrderItem], delivery_address: str, customer_notes: str
) -> tuple[str, str]:
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
    address = (delivery_address or "").strip()
    if not ADDRESS_LENGTH[0] <= len(address) <= ADDRESS_LENGTH[1]:
        errors.append(
            FieldError(
                "delivery_address",
                f"Between {ADDRESS_LENGTH[0]} and {ADDRESS_LENGTH[1]} characters.",
                "length",
            )
        )
    notes = (customer_notes or "").strip()
    if len(notes) > NOTES_MAX_LENGTH:
        errors.append(
            FieldError("customer_notes", f"At most {NOTES_MAX_LENGTH} characters.", "max_length")
        )
    if errors:
        raise ValidationFailed(errors[0].message, field_errors=errors)
    return address, notes


def _request_hash(items: list[OrderItem], address: str, notes: str) -> str:
    canonical = json.dumps(
        {
            "items": [[item.variant_id, item.quantity] for item in items],
            "delivery_address": address,
            "customer_notes": notes,
        },
        separators=(",", ":"),
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
    delivery_address: str,
    customer_notes: str = "",
    idempotency_key: str | None = None,
) -> tuple[Order, bool]:
    """Place an order for the customer ``customer_id``; returns ``(order, created)``.

    Prices come from the catalogue and totals are computed here. Stock is reserved in
    the same transaction (never oversold; nothing written if any line fails). With an
    ``idempotency_key``, repeating the same request returns the first order
    (``created`` False), also when the requests race; the key with a different request
    → 422 on ``Idempotency-Key``. Raises ``ValidationFailed`` (fields such as
    ``items.2.variant_id``) and ``Conflict`` (``insufficient_stock`` naming the lines).
    """
    address, notes = _validate(items, delivery_address, customer_notes)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= KEY_MAX_LENGTH:
        raise ValidationFailed.for_field(KEY_FIELD, f"1 to {KEY_MAX_LENGTH} characters.", "length")
    request_hash = _request_hash(items, address, notes)
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
        order = _place(customer_id, items, address, notes, now, key_row)
        publish(OrderCreated(order_id=order.pk, customer_id=customer_id))
    logger.info(
        "order.created", order_id=order.pk, order_number=order.order_number, lines=len(items)
    )
    return order, True


def _place(
    customer_id: int,
    items: list[OrderItem],
    address: str,
    notes: str,
    now: Any,
    key_row: IdempotencyKey | None,
) -> Order:
    # A fixed number of queries whatever the number of lines: one read of the variants,
    # the order, the key, the reservation (see ``stock_reserve``), one read of the
    # commission rules when some may apply, one insert of the lines.
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
    for attempt in range(5):
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    customer_id=customer_id,
                    order_number=_order_number(),
                    currency=next(iter(variants.values())).currency,
                    total_amount=total,
                    delivery_address=address,
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
    return order


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
