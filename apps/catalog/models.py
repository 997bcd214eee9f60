"""The catalogue: a category tree, products, and their size x colour variants."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.db.models import Q
from django.db.models.functions import Upper

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


#: The version stamp of the cached category data (``apps.catalog.selectors.category_rows``),
#: kept in the default cache so that every process sharing it sees the same stamp.
CATEGORY_CACHE_VERSION_KEY = "catalog:categories:version"

_catalogue_cache: tuple[object, BaseCache] | None = None


def catalogue_cache() -> BaseCache:
    """The default cache through one backend instance per process.

    ``django.core.cache.cache`` is per async context: under ASGI every request would build
    its own Redis client and connection. One instance (re-made when the ``CACHES`` setting
    is replaced, as tests do) shares one connection pool; a local-memory cache with the
    same location shares its storage with ``django.core.cache.cache``.
    """
    global _catalogue_cache
    conf = settings.CACHES.get("default")
    memo = _catalogue_cache
    if memo is None or memo[0] is not conf:
        memo = _catalogue_cache = (conf, caches.create_connection("default"))
    return memo[1]


def _bump_category_version() -> None:
    catalogue_cache().set(CATEGORY_CACHE_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def categories_changed(using: str = DEFAULT_DB_ALIAS) -> None:
    """Make every process drop its cached category data: a new version stamp now (so
    later reads in the same transaction see the change) and another once the transaction
    commits (a reader elsewhere may have read the table before the commit and cached it
    under the first stamp). Called by every ORM write on categories."""
    _bump_category_version()
    transaction.on_commit(_bump_category_version, using=using, robust=True)


class CategoryQuerySet(models.QuerySet["Category"]):
    """Bulk writes on categories invalidate the cached category data too."""

    def update(self, **kwargs: Any) -> int:
        count = super().update(**kwargs)
        categories_changed(self.db)
        return count

    def delete(self) -> tuple[int, dict[str, int]]:
        result = super().delete()
        categories_changed(self.db)
        return result

    def bulk_create(self, *args: Any, **kwargs: Any) -> Any:
        created = super().bulk_create(*args, **kwargs)
        categories_changed(self.db)
        return created

    def bulk_update(self, *args: Any, **kwargs: Any) -> Any:
        count = super().bulk_update(*args, **kwargs)
        categories_changed(self.db)
        return count


class Category(BaseModel):
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    position = models.PositiveSmallIntegerField(default=0)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "categories"
        ordering: ClassVar = ["position", "name", "id"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        categories_changed(self._state.db or DEFAULT_DB_ALIAS)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        using = kwargs.get("using") or self._state.db or DEFAULT_DB_ALIAS
        result = super().delete(*args, **kwargs)
        categories_changed(using)
        return result


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
    # Not indexed on its own: product_visible_newest_idx serves the newest-first catalogue
    # (a second index on created_at only tempts the planner into filtering hidden rows).
    created_at = models.DateTimeField(auto_now_add=True)
    store = models.ForeignKey("vendors.Store", on_delete=models.PROTECT, related_name="products")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220)
    description = models.TextField(blank=True)
    brand = models.CharField(max_length=100, blank=True)
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
        # The public catalogue lists only visible products (active, with an active
        # variant, hence a price); its sorts are served by partial indexes on those.
        # Text search on PostgreSQL also has trigram GIN indexes on UPPER(name),
        # UPPER(brand) and UPPER(description), created by migration 0003 on PostgreSQL
        # only and therefore not declared here.
        indexes: ClassVar = [
            models.Index(
                fields=["-created_at", "-id"],
                name="product_visible_newest_idx",
                condition=Q(is_active=True, min_price__isnull=False),
            ),
            models.Index(
                fields=["min_price", "id"],
                name="product_visible_price_idx",
                condition=Q(is_active=True, min_price__isnull=False),
            ),
            # brand__iexact compiles to UPPER(brand) = UPPER(%s).
            models.Index(Upper("brand"), name="product_brand_upper_idx"),
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
