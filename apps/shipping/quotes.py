"""What shipping costs: the methods each store offers for a country and currency, the
price of each for the store's part of the basket (free above its threshold), and the
method that applies — the customer's pick, else the cheapest. One query for any number
of stores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from apps.common.errors import FieldError, ValidationFailed
from apps.shipping.models import ShippingMethod

# Offered when neither the store nor the marketplace defines any method for the
# currency: the store arranges delivery at no charge.
DEFAULT_METHOD_NAME = "Standard delivery"


@dataclass(frozen=True)
class ShippingOption:
    method_id: int | None
    name: str
    price: Decimal
    min_days: int
    max_days: int
    free_above: Decimal | None

    def sort_key(self) -> tuple[Decimal, int, int]:
        return (self.price, self.max_days, self.method_id or 0)


@dataclass(frozen=True)
class StoreShipping:
    store_id: int
    subtotal: Decimal
    options: list[ShippingOption]
    chosen: ShippingOption


def _option(method: ShippingMethod, subtotal: Decimal) -> ShippingOption:
    free = method.free_above is not None and subtotal >= method.free_above
    return ShippingOption(
        method_id=method.pk,
        name=method.name,
        price=Decimal("0.00") if free else method.price,
        min_days=method.min_days,
        max_days=method.max_days,
        free_above=method.free_above,
    )


def _methods(
    store_ids: Sequence[int], currency: str
) -> tuple[dict[int, list[ShippingMethod]], list[ShippingMethod]]:
    """The active methods in ``currency`` by store, and the marketplace's defaults."""
    by_store: dict[int, list[ShippingMethod]] = {}
    defaults: list[ShippingMethod] = []
    rows = ShippingMethod.objects.filter(
        Q(store_id__in=store_ids) | Q(store__isnull=True), currency=currency, is_active=True
    ).order_by("price", "max_days", "id")
    for method in rows:
        if method.store_id is None:
            defaults.append(method)
        else:
            by_store.setdefault(method.store_id, []).append(method)
    return by_store, defaults


def shipping_quote(
    *,
    store_subtotals: Mapping[int, Decimal],
    store_names: Mapping[int, str],
    currency: str,
    country: str,
    choices: Sequence[tuple[int, int]] = (),
    country_field: str = "shipping_address.country",
    choices_field: str = "shipping",
) -> list[StoreShipping]:
    """The shipping of each store in the basket, in ``store_subtotals`` order.

    A store's own active methods in ``currency`` that serve ``country`` are its options;
    a store with no active method of its own offers the marketplace's defaults; with
    none at all, free standard delivery. ``choices`` pick a method per store (by
    position in the request, for the error's field name). Raises ``ValidationFailed``
    naming every bad choice, and the country when a store cannot ship there."""
    store_ids = list(store_subtotals)
    by_store, defaults = _methods(store_ids, currency)
    errors: list[FieldError] = []
    picked: dict[int, tuple[int, int]] = {}
    for index, (store_id, method_id) in enumerate(choices):
        if store_id not in store_subtotals:
            errors.append(
                FieldError(
                    f"{choices_field}.{index}.store_id",
                    "No item of this store is in the order.",
                    "not_in_order",
                )
            )
        elif store_id in picked:
            errors.append(
                FieldError(
                    f"{choices_field}.{index}.store_id",
                    "One method per store.",
                    "duplicate",
                )
            )
        else:
            picked[store_id] = (index, method_id)
    quotes: list[StoreShipping] = []
    for store_id, subtotal in store_subtotals.items():
        methods = by_store.get(store_id) or defaults
        if methods:
            options = [_option(m, subtotal) for m in methods if m.serves(country)]
        else:
            options = [ShippingOption(None, DEFAULT_METHOD_NAME, Decimal("0.00"), 0, 0, None)]
        if not options:
            errors.append(
                FieldError(
                    country_field,
                    f"{store_names.get(store_id, 'A store')} does not ship to {country}.",
                    "not_served",
                )
            )
            continue
        options.sort(key=ShippingOption.sort_key)
        chosen = options[0]
        if store_id in picked:
            index, method_id = picked[store_id]
            match = next((o for o in options if o.method_id == method_id), None)
            if match is None:
                errors.append(
                    FieldError(
                        f"{choices_field}.{index}.method_id",
                        "Not a shipping method this store offers for this address.",
                        "unavailable",
                    )
                )
                continue
            chosen = match
        quotes.append(StoreShipping(store_id, subtotal, options, chosen))
    if errors:
        raise ValidationFailed(errors[0].message, field_errors=errors)
    return quotes
