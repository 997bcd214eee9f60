"""The demo catalogue: about 20 approved stores, 2,000 products and 20,000 size x colour
variants with stock, the same every time for a given seed.

``manage.py seed_demo`` calls ``catalog_seed_demo``; a second run finds the catalogue
and changes nothing. Rows are written with ``bulk_create`` in one transaction, so an
interrupted run leaves no half catalogue behind.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.text import slugify
from tqdm import tqdm

from apps.authentication.models import Role, User
from apps.catalog.models import Category, Colour, Product, Variant
from apps.inventory.models import MovementReason, Stock, StockMovement
from apps.vendors.models import Store, StoreStatus

DEMO_SLUG_PREFIX = "demo-"
DEMO_VENDOR_DOMAIN = "stores.example.com"

CATEGORY_TREE: dict[str, list[str]] = {
    "Women": ["Dresses", "Tops", "Skirts", "Trousers", "Jumpsuits", "Shoes", "Bags"],
    "Men": ["Shirts", "T-shirts", "Trousers", "Suits", "Kaftans", "Shoes"],
    "Kids": ["Girls", "Boys", "Baby"],
    "Accessories": ["Scarves", "Hats", "Belts"],
}
GARMENTS: dict[str, list[str]] = {
    "Dresses": ["wrap dress", "maxi dress", "shift dress", "midi dress", "bubu gown"],
    "Tops": ["blouse", "crop top", "peplum top", "camisole"],
    "Skirts": ["pencil skirt", "pleated skirt", "A-line skirt"],
    "Trousers": ["palazzo trousers", "chinos", "cargo trousers", "tailored trousers"],
    "Jumpsuits": ["jumpsuit", "playsuit"],
    "Shoes": ["loafers", "sneakers", "sandals", "heels", "ankle boots"],
    "Bags": ["tote bag", "clutch", "crossbody bag"],
    "Shirts": ["oxford shirt", "linen shirt", "kaftan shirt", "dashiki"],
    "T-shirts": ["crew-neck tee", "polo", "graphic tee"],
    "Suits": ["two-piece suit", "blazer", "waistcoat"],
    "Kaftans": ["senator kaftan", "agbada", "kaftan"],
    "Girls": ["party dress", "pinafore", "leggings"],
    "Boys": ["shorts", "hoodie", "shirt"],
    "Baby": ["romper", "onesie"],
    "Scarves": ["silk scarf", "head wrap"],
    "Hats": ["bucket hat", "fila cap"],
    "Belts": ["leather belt", "woven belt"],
}
MATERIALS = ["Ankara", "Adire", "Aso-oke", "Linen", "Cotton", "Silk", "Denim", "Lace", "Wool"]
STYLES = ["Classic", "Everyday", "Festive", "Tailored", "Relaxed", "Statement", "Weekend"]
STORE_NAMES = [
    "Lagos Looks",
    "Abuja Atelier",
    "Kente Corner",
    "Ibadan Threads",
    "Accra Avenue",
    "Nairobi Needle",
    "Adire House",
    "Calabar Couture",
    "Jos Jersey Co",
    "Kano Kaftans",
    "Enugu Edit",
    "Port Harcourt Prints",
    "Lekki Linen",
    "Ikoyi Icons",
    "Benin Bespoke",
    "Owerri Outfitters",
    "Zaria Weaves",
    "Yaba Vintage",
    "Ogun Indigo",
    "Surulere Style",
]
LETTER_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
SHOE_SIZES = [f"EU {n}" for n in range(37, 46)]
FINISHES = ["Made in Lagos.", "Hand-finished.", "Limited run.", "Tailored to order."]
ONE_SIZE_CATEGORIES = {"Bags", "Scarves", "Hats", "Belts"}


@dataclass(frozen=True)
class DemoCatalogue:
    created: bool
    stores: int
    products: int
    variants: int


def _categories() -> dict[str, Category]:
    """The category tree (created when missing); returns the leaf categories by name."""
    leaves: dict[str, Category] = {}
    for position, (top, children) in enumerate(CATEGORY_TREE.items()):
        parent, _ = Category.objects.get_or_create(
            slug=slugify(top), defaults={"name": top, "position": position}
        )
        for child_position, child in enumerate(children):
            leaf, _ = Category.objects.get_or_create(
                slug=f"{parent.slug}-{slugify(child)}",
                defaults={"name": child, "parent": parent, "position": child_position},
            )
            leaves[f"{top}/{child}"] = leaf
    return leaves


def _owners(vendor: User, count: int) -> list[User]:
    emails = [f"vendor-{n:02d}@{DEMO_VENDOR_DOMAIN}" for n in range(2, count + 1)]
    existing = {u.email: u for u in User.objects.filter(email__in=emails)}
    new = [
        User(email=email, full_name=f"Demo vendor {email[7:9]}", role=Role.VENDOR)
        for email in emails
        if email not in existing
    ]
    for user in new:
        user.set_unusable_password()
    User.objects.bulk_create(new)
    by_email = {u.email: u for u in User.objects.filter(email__in=emails)}
    return [vendor, *(by_email[email] for email in emails)]


@transaction.atomic
def catalog_seed_demo(
    *,
    vendor: User,
    seed: int = 2026,
    stores: int = 20,
    products: int = 2000,
    variants_per_product: int = 10,
    progress: bool = True,
) -> DemoCatalogue:
    """Create the demo catalogue once; ``vendor`` (the demo vendor account) owns the first
    store. Returns what exists; ``created`` is False when it was already there."""
    first_slug = f"{DEMO_SLUG_PREFIX}{slugify(STORE_NAMES[0])}"
    if (
        Store.objects.filter(slug=first_slug).exists()
        or Store.objects.filter(owner=vendor).exists()
    ):
        demo = Product.objects.filter(store__slug__startswith=DEMO_SLUG_PREFIX)
        return DemoCatalogue(
            created=False,
            stores=Store.objects.filter(slug__startswith=DEMO_SLUG_PREFIX).count(),
            products=demo.count(),
            variants=Variant.objects.filter(product__in=demo).count(),
        )
    rng = random.Random(seed)
    leaves = _categories()
    colours = list(Colour.objects.order_by("name"))
    owners = _owners(vendor, stores)
    store_rows = Store.objects.bulk_create(
        [
            Store(
                owner=owner,
                name=STORE_NAMES[index % len(STORE_NAMES)]
                + ("" if index < len(STORE_NAMES) else f" {index}"),
                slug=f"{DEMO_SLUG_PREFIX}{slugify(STORE_NAMES[index % len(STORE_NAMES)])}"
                + ("" if index < len(STORE_NAMES) else f"-{index}"),
                description="A demo store.",
                status=StoreStatus.APPROVED,
                commission_rate=Decimal(rng.choice(["8.00", "10.00", "12.50", "15.00"])),
            )
            for index, owner in enumerate(owners)
        ]
    )
    brands = [
        f"{store.name.split()[0]} {rng.choice(['Studio', 'Label', 'Wear'])}" for store in store_rows
    ]
    leaf_items = sorted(leaves.items())

    specs: list[tuple[Product, list[dict[str, Any]]]] = []
    for index in range(products):
        store_index = index % len(store_rows)
        path, category = leaf_items[rng.randrange(len(leaf_items))]
        leaf = path.split("/")[1]
        garment = rng.choice(GARMENTS[leaf])
        name = f"{rng.choice(STYLES)} {rng.choice(MATERIALS)} {garment}"
        base_price = Decimal(rng.randrange(6, 160) * 500)
        if leaf in ONE_SIZE_CATEGORIES:
            sizes = ["One size"]
        elif leaf == "Shoes":
            sizes = SHOE_SIZES
        else:
            sizes = LETTER_SIZES
        n_colours = max(1, -(-variants_per_product // len(sizes)))
        picked = rng.sample(colours, min(n_colours, len(colours)))
        combos = [(size, colour) for colour in picked for size in sizes][:variants_per_product]
        on_sale = rng.random() < 0.2
        variants: list[dict[str, Any]] = [
            {
                "sku": f"D{store_index + 1:02d}-{index + 1:05d}-{number + 1:02d}",
                "size": size,
                "colour": colour,
                "price": base_price + (Decimal(500) if size in {"XXL", "EU 45"} else 0),
                "compare_at_price": base_price * Decimal("1.25") + 500 if on_sale else None,
                "stock": 0 if rng.random() < 0.1 else rng.randrange(1, 60),
            }
            for number, (size, colour) in enumerate(combos)
        ]
        product = Product(
            store=store_rows[store_index],
            category=category,
            name=name.capitalize() if name[0].islower() else name,
            slug=f"{slugify(name)}-{index + 1}",
            description=f"{name}. {rng.choice(FINISHES)}",
            brand=brands[store_index],
            images=[f"https://images.fashionistar.dev/demo/{index + 1}/{n}.jpg" for n in (1, 2)],
            min_price=min(v["price"] for v in variants),
        )
        specs.append((product, variants))

    bar = tqdm(total=products, desc="demo catalogue", unit="product", disable=not progress)
    chunk = 250
    variant_count = 0
    for start in range(0, len(specs), chunk):
        batch = specs[start : start + chunk]
        Product.objects.bulk_create([product for product, _ in batch])
        variant_rows = [
            Variant(
                product=product,
                sku=spec["sku"],
                size=spec["size"],
                colour=spec["colour"],
                price=spec["price"],
                compare_at_price=spec["compare_at_price"],
            )
            for product, variants in batch
            for spec in variants
        ]
        Variant.objects.bulk_create(variant_rows)
        stocks = [spec["stock"] for _, variants in batch for spec in variants]
        Stock.objects.bulk_create(
            [
                Stock(variant=row, on_hand=units)
                for row, units in zip(variant_rows, stocks, strict=True)
            ]
        )
        StockMovement.objects.bulk_create(
            [
                StockMovement(
                    variant=row,
                    on_hand_delta=units,
                    on_hand_after=units,
                    reserved_after=0,
                    reason=MovementReason.INITIAL,
                    note="demo data",
                )
                for row, units in zip(variant_rows, stocks, strict=True)
                if units
            ]
        )
        variant_count += len(variant_rows)
        bar.update(len(batch))
    bar.close()
    return DemoCatalogue(
        created=True, stores=len(store_rows), products=products, variants=variant_count
    )
