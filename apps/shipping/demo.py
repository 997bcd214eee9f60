"""Demo shipping: the marketplace's default methods, a few methods of each demo store's
own, and the carriers the demo parcels travel with."""

from __future__ import annotations

from decimal import Decimal

from apps.catalog.models import default_currency
from apps.shipping.models import Carrier, ShippingMethod
from apps.vendors.models import Store

# The carriers of the demo parcels (tracking pages as the carriers publish them).
DEMO_CARRIERS = {
    "DHL": "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id={number}",
    "UPS": "https://www.ups.com/track?tracknum={number}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={number}",
}
# Flat shipping of the demo history per store and order, free above a subtotal.
_FLAT = {"NGN": (Decimal("2500.00"), Decimal("50000.00"))}
_FLAT_OTHER = (Decimal("5.00"), Decimal("100.00"))
# (name, price, free above, days from, days to, countries)
MethodRow = tuple[str, str, str | None, int, int, list[str]]
# The marketplace's defaults.
DEFAULT_METHODS: tuple[MethodRow, ...] = (
    ("Standard delivery", "2500.00", "50000.00", 2, 5, ["NG"]),
    ("Express delivery", "6000.00", None, 1, 2, ["NG"]),
    ("International", "25000.00", None, 5, 12, ["GB", "US", "GH", "KE"]),
)
STORE_METHODS: tuple[MethodRow, ...] = (
    ("Lagos same day", "3500.00", None, 0, 1, ["NG"]),
    ("Nationwide", "2000.00", "40000.00", 2, 6, ["NG"]),
    ("International courier", "30000.00", None, 4, 10, []),
)


def demo_shipping_charge(currency: str, subtotal: Decimal) -> Decimal:
    flat, free_above = _FLAT.get(currency, _FLAT_OTHER)
    return Decimal("0.00") if subtotal >= free_above else flat


def shipping_seed_demo() -> int:
    """The marketplace's default methods and methods of every other demo store (the rest
    use the defaults), once; returns how many were created."""
    currency = default_currency()
    for name, template in DEMO_CARRIERS.items():
        Carrier.objects.get_or_create(name=name, defaults={"tracking_url_template": template})
    if ShippingMethod.objects.filter(store__isnull=True).exists():
        return 0  # seeded before
    created = _create(None, DEFAULT_METHODS, currency)
    stores = Store.objects.filter(shipping_methods__isnull=True).order_by("slug")
    for index, store in enumerate(stores):
        if index % 2 == 0:
            created += _create(store, STORE_METHODS, currency)
    return created


def _create(store: Store | None, methods: tuple[MethodRow, ...], currency: str) -> int:
    ShippingMethod.objects.bulk_create(
        ShippingMethod(
            store=store,
            name=name,
            price=Decimal(price),
            currency=currency,
            free_above=Decimal(free_above) if free_above else None,
            min_days=low,
            max_days=high,
            countries=countries,
        )
        for name, price, free_above, low, high, countries in methods
    )
    return len(methods)
