"""The data a benchmark run drives the servers with, made through the app's own code.

``python -m bench.http.prepare OUT_DIR`` (with the run's production environment, so the
access tokens are signed with the run's secret key) writes into ``OUT_DIR``:

* ``products.txt`` — the ids of the visible products, one a line;
* ``orders.txt`` — ``<access token> <order id>``: every order of the chosen customers,
  with a token of the customer who owns it;
* ``tokens.txt`` — ``<access token>``, one per chosen customer (the buyers of the order
  creation scenarios);
* ``variants.txt`` — ids of sellable variants in one currency, each topped up to plenty of
  available stock (through ``stock_adjust``, so the ledger stays whole);
* the demo's shipping methods (the marketplace's defaults and those of every other
  store, ``apps.shipping.demo``) when the database has none — a data set seeded before
  shipping existed and reused with ``SKIP_SEED`` — so order creation prices shipping as
  on a fresh seed;
* ``meta.json`` — counts, the category of the filtered list, one sample of each id.

Tokens come from real sign-in sessions (``session_start``), not from the HTTP login: the
password hash of a login (Argon2, ~100 MB) would inflate the peak memory of whichever
worker served it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path
from typing import Any


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    import django

    django.setup()


def prepare(
    out: Path, *, customers: int, variants: int, available: int, category: str, seed: int
) -> dict[str, Any]:
    """Write the run's data files into ``out``; returns what ``meta.json`` holds."""
    from django.db.models import Count, F

    from apps.authentication.models import User
    from apps.authentication.services.sessions import ClientInfo, session_start
    from apps.catalog.models import Category, Variant
    from apps.catalog.selectors import visible_products
    from apps.inventory.models import MovementReason, Stock
    from apps.inventory.services import stock_adjust
    from apps.orders.models import Order
    from apps.shipping.demo import shipping_seed_demo
    from apps.shipping.models import ShippingMethod
    from apps.vendors.models import StoreStatus

    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)

    product_ids = list(visible_products().order_by("id").values_list("id", flat=True))
    if not product_ids:
        raise SystemExit("no visible products: is the demo catalogue seeded?")

    buyers = list(
        User.objects.filter(is_active=True, orders__isnull=False)
        .annotate(n_orders=Count("orders"))
        .order_by("-n_orders", "id")[:customers]
    )
    client = ClientInfo(ip_address="127.0.0.1", user_agent="make bench")
    tokens = {user.pk: session_start(user=user, client=client).access for user in buyers}
    orders = list(
        Order.objects.filter(customer_id__in=tokens).order_by("id").values_list("id", "customer_id")
    )

    sellable = Variant.objects.filter(
        is_active=True, product__is_active=True, product__store__status=StoreStatus.APPROVED
    )
    currency = sellable.values("currency").annotate(n=Count("id")).order_by("-n")[0]["currency"]
    pool = sorted(sellable.filter(currency=currency).values_list("id", flat=True))
    chosen = sorted(rng.sample(pool, min(variants, len(pool))))
    short = Stock.objects.filter(
        variant_id__in=chosen, on_hand__lt=F("reserved") + available // 2
    ).values_list("variant_id", "on_hand", "reserved")
    topped = 0
    for variant_id, on_hand, reserved in short:
        stock_adjust(
            variant_id=variant_id,
            delta=available - (on_hand - reserved),
            reason=MovementReason.RESTOCK,
            actor=None,
            note="make bench: plenty of stock for order creation",
        )
        topped += 1

    methods_created = shipping_seed_demo()  # nothing when the demo's methods exist
    methods = ShippingMethod.objects.filter(is_active=True, currency=currency)

    if category and not Category.objects.filter(slug=category).exists():
        raise SystemExit(f"category {category!r} not found for the filtered product list")

    (out / "products.txt").write_text("".join(f"{pk}\n" for pk in product_ids))
    (out / "orders.txt").write_text("".join(f"{tokens[c]} {pk}\n" for pk, c in orders))
    (out / "tokens.txt").write_text("".join(f"{token}\n" for token in tokens.values()))
    (out / "variants.txt").write_text("".join(f"{pk}\n" for pk in chosen))
    first_order, first_customer = orders[0]
    meta: dict[str, Any] = {
        "products": len(product_ids),
        "customers": len(tokens),
        "orders": len(orders),
        "variants": len(chosen),
        "variants_topped_up": topped,
        "currency": currency,
        "shipping_methods": methods.count(),
        "shipping_methods_created": methods_created,
        "category": category,
        "sample": {
            "product_id": product_ids[len(product_ids) // 2],
            "order_id": first_order,
            "order_token": tokens[first_customer],
            "buyer_token": next(iter(tokens.values())),
            "variant_ids": chosen[:5],
        },
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2))
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--variants", type=int, default=500)
    parser.add_argument("--available", type=int, default=200_000)
    parser.add_argument("--category", default="", help="Must exist when given.")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    _setup()
    meta = prepare(
        args.out,
        customers=args.customers,
        variants=args.variants,
        available=args.available,
        category=args.category,
        seed=args.seed,
    )
    sample = {k: v for k, v in meta.items() if k != "sample"}
    print(json.dumps(sample), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
