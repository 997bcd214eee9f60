"""The catalogue: a category tree, products, and their size x colour variants."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.common.models import BaseModel

APPAREL_SIZES: tuple[str, ...] = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "3XL")
ONE_SIZE = "One size"


def _half_sizes(prefix: str, low: float, high: float) -> tuple[str, ...]:
    sizes = []
    value = low
    while value <= high:
        sizes.append(f"{prefix} {value:g}")
        value += 0.5
    return tuple(sizes)


EU_SHOE_SIZES: tuple[str, ...] = tuple(f"EU {n}" for n in range(34, 49))
UK_SHOE_SIZES: tuple[str, ...] = _half_sizes("UK", 2, 13)
US_SHOE_SIZES: tuple[str, ...] = _half_sizes("US", 4, 15)
#: Every size a variant may have: letter sizes, one size, and EU / UK / US shoe sizes.
SIZES: tuple[str, ...] = (
    *APPAREL_SIZES,
    ONE_SIZE,
    *EU_SHOE_SIZES,
    *UK_SHOE_SIZES,
    *US_SHOE_SIZES,
)
SIZE_SET = frozenset(SIZES)


def default_currency() -> str:
    """The marketplace's single currency (ISO 4217), ``MARKETPLACE_CURRENCY`` or NGN."""
    return str(getattr(settings, "MARKETPLACE_CURRENCY", "NGN"))


class Category(BaseModel):
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name_plural = "categories"
        ordering: ClassVar = ["position", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Colour(models.Model):
    name = models.CharField(max_length=40, unique=True)
    hex_code = models.CharField("swatch", max_length=7, help_text="#RRGGBB")

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(hex_code__regex=r"^#[0-9A-Fa-f]{6}$"), name="colour_hex_code_format"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Product(BaseModel):
    store = models.ForeignKey("vendors.Store", on_delete=models.PROTECT, related_name="products")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220)
    description = models.TextField(blank=True)
    brand = models.CharField(max_length=100, blank=True, db_index=True)
    images = models.JSONField(default=list, blank=True, help_text="Image URLs, first is main.")
    is_active = models.BooleanField(default=True)
    # Lowest price among the active variants; NULL when none is active (not sold).
    # Kept by the services so that listing can sort and page on a plain column.
    min_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["store", "slug"], name="product_store_slug_unique"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["-created_at", "-id"], name="product_newest_idx"),
            models.Index(fields=["min_price", "id"], name="product_price_idx"),
            models.Index(fields=["store", "is_active"], name="product_store_active_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Variant(BaseModel):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField("SKU", max_length=64, unique=True)
    size = models.CharField(max_length=16, choices=[(s, s) for s in SIZES])
    colour = models.ForeignKey(Colour, on_delete=models.PROTECT, related_name="variants")
    price = models.DecimalField(max_digits=12, decimal_places=2)
    compare_at_price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The former price, shown struck through; above the price.",
    )
    currency = models.CharField(max_length=3, default=default_currency)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(price__gt=Decimal(0)), name="variant_price_positive"
            ),
            models.CheckConstraint(
                condition=Q(compare_at_price__isnull=True)
                | Q(compare_at_price__gt=models.F("price")),
                name="variant_compare_at_above_price",
            ),
            models.UniqueConstraint(
                fields=["product", "size", "colour"], name="variant_product_size_colour_unique"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["size"]), models.Index(fields=["price"])]

    def __str__(self) -> str:
        return f"{self.sku} ({self.size}, {self.colour_id})"
