"""Reads on the catalogue.

The public reads return plain data (dicts of ids, strings, Decimals) built from a fixed
number of queries: products (joined with store and category) and one prefetch of their
active variants (joined with colour and stock), plus one small query on categories when
a category filter is given.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet

from apps.catalog.models import SIZE_SET, Category, Product, Variant
from apps.common.errors import NotFound, ValidationFailed
from apps.vendors.models import StoreStatus

Sort = Literal["newest", "price_asc", "price_desc"]
SORTS: tuple[str, ...] = ("newest", "price_asc", "price_desc")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_ID = 2**63
MAX_PRICE = Decimal(10) ** 10


def _is_id(value: str) -> bool:
    return value.isdigit() and len(value) <= 18


# --- shared pieces -----------------------------------------------------------------------


def _active_variants() -> Prefetch[Any]:
    return Prefetch(
        "variants",
        queryset=Variant.objects.filter(is_active=True)
        .select_related("colour", "stock")
        .order_by("id"),
        to_attr="active_variants",
    )


def visible_products() -> QuerySet[Product]:
    """Products customers may see: active, of an approved store, with an active variant."""
    return Product.objects.filter(
        is_active=True, store__status=StoreStatus.APPROVED, min_price__isnull=False
    )


def _variant_data(variant: Variant) -> dict[str, Any]:
    stock = getattr(variant, "stock", None)
    available = max(stock.on_hand - stock.reserved, 0) if stock is not None else 0
    return {
        "id": variant.pk,
        "sku": variant.sku,
        "size": variant.size,
        "colour": variant.colour.name,
        "colour_hex": variant.colour.hex_code,
        "price": variant.price,
        "compare_at_price": variant.compare_at_price,
        "currency": variant.currency,
        "available": available,
        "in_stock": available > 0,
    }


def _product_data(product: Product, *, with_description: bool) -> dict[str, Any]:
    variants = [_variant_data(v) for v in getattr(product, "active_variants", [])]
    data: dict[str, Any] = {
        "id": product.pk,
        "name": product.name,
        "slug": product.slug,
        "brand": product.brand,
        "store": {"id": product.store.pk, "name": product.store.name, "slug": product.store.slug},
        "category": {
            "id": product.category.pk,
            "name": product.category.name,
            "slug": product.category.slug,
        },
        "images": list(product.images or []),
        "price_from": product.min_price,
        "currency": variants[0]["currency"] if variants else None,
        "in_stock": any(v["in_stock"] for v in variants),
        "created_at": product.created_at,
        "variants": variants,
    }
    if with_description:
        data["description"] = product.description
    return data


# --- cursor ------------------------------------------------------------------------------


def _encode_cursor(sort: str, key: Any, pk: int) -> str:
    raw = json.dumps({"s": sort, "k": str(key), "i": pk}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _bad_cursor(message: str = "Not a cursor this API issued.") -> ValidationFailed:
    return ValidationFailed.for_field("cursor", message, "invalid_cursor")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(data, dict):
            raise _bad_cursor()
        if data.get("s") != sort:
            raise _bad_cursor("This cursor belongs to a different sort order.")
        pk = data["i"]
        if not isinstance(pk, int) or isinstance(pk, bool) or not 0 <= pk < MAX_ID:
            raise _bad_cursor()
        raw_key = str(data["k"])
        key: Any
        if sort == "newest":
            key = datetime.fromisoformat(raw_key)
            if key.tzinfo is None:
                raise _bad_cursor()
        else:
            key = Decimal(raw_key)
            if not key.is_finite() or abs(key) >= MAX_PRICE:
                raise _bad_cursor()
    except ValidationFailed:
        raise
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error, InvalidOperation):
        raise _bad_cursor() from None
    return key, pk


_ORDERING: dict[str, tuple[str, str, str]] = {
    # sort: (column, order_by for column, comparison for "after")
    "newest": ("created_at", "-created_at", "lt"),
    "price_asc": ("min_price", "min_price", "gt"),
    "price_desc": ("min_price", "-min_price", "lt"),
}


# --- categories --------------------------------------------------------------------------


def _category_with_descendants(category: str) -> list[int]:
    """Ids of the category given by id or slug and of every category below it.

    Raises ``ValidationFailed`` naming ``category`` when it does not exist.
    """
    rows = list(Category.objects.values_list("id", "parent_id", "slug"))
    children: dict[int | None, list[int]] = defaultdict(list)
    root: int | None = None
    for pk, parent_id, slug in rows:
        children[parent_id].append(pk)
        if slug == category or (_is_id(category) and pk == int(category)):
            root = pk
    if root is None:
        raise ValidationFailed.for_field("category", "Unknown category.", "unknown_category")
    found, frontier = [root], [root]
    while frontier:
        frontier = [child for pk in frontier for child in children.get(pk, [])]
        found.extend(frontier)
    return found


def category_tree() -> list[dict[str, Any]]:
    """Every category as a tree: ``[{id, name, slug, children: [...]}, …]`` (one query)."""
    nodes: dict[int, dict[str, Any]] = {}
    parents: list[tuple[int, int | None]] = []
    for pk, name, slug, parent_id in Category.objects.order_by(
        "position", "name", "id"
    ).values_list("id", "name", "slug", "parent_id"):
        nodes[pk] = {"id": pk, "name": name, "slug": slug, "children": []}
        parents.append((pk, parent_id))
    roots: list[dict[str, Any]] = []
    for node_id, parent_ref in parents:
        parent = nodes.get(parent_ref) if parent_ref is not None else None
        (parent["children"] if parent is not None else roots).append(nodes[node_id])
    return roots


# --- public catalogue --------------------------------------------------------------------


def product_list_public(
    *,
    category: str | None = None,
    store: str | None = None,
    brand: str | None = None,
    size: str | None = None,
    colour: str | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    q: str | None = None,
    in_stock: bool = False,
    sort: str = "newest",
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> dict[str, Any]:
    """One page of the visible catalogue: ``{"items": [...], "next": cursor | None}``.

    Variant-level filters (size, colour, price range, in stock) must all hold for one and
    the same active variant. Pages are keyset-paginated on (sort key, id), so a product
    is never skipped or repeated while paging. Raises ``ValidationFailed`` naming the
    field (unknown sort or category, bad cursor, bad price range, unknown size).
    """
    if sort not in SORTS:
        raise ValidationFailed.for_field(
            "sort", f"Must be one of: {', '.join(SORTS)}.", "invalid_choice"
        )
    if min_price is not None and max_price is not None and min_price > max_price:
        raise ValidationFailed.for_field(
            "min_price", "Must not be greater than max_price.", "invalid_range"
        )
    if size is not None and size not in SIZE_SET:
        raise ValidationFailed.for_field("size", "Unknown size.", "invalid_choice")
    limit = max(1, min(limit, MAX_PAGE_SIZE))

    products = visible_products()
    if category:
        products = products.filter(category_id__in=_category_with_descendants(category))
    if store:
        products = products.filter(
            Q(store_id=int(store)) if _is_id(store) else Q(store__slug=store)
        )
    if brand:
        products = products.filter(brand__iexact=brand.strip())
    if q and q.strip():
        for term in q.split()[:8]:
            products = products.filter(
                Q(name__icontains=term) | Q(brand__icontains=term) | Q(description__icontains=term)
            )

    variant_filter = Q()
    if size:
        variant_filter &= Q(size=size)
    if colour:
        variant_filter &= Q(colour__name__iexact=colour.strip())
    if min_price is not None:
        variant_filter &= Q(price__gte=min_price)
    if max_price is not None:
        variant_filter &= Q(price__lte=max_price)
    if in_stock:
        variant_filter &= Q(stock__on_hand__gt=F("stock__reserved"))
    if variant_filter:
        products = products.filter(
            Exists(
                Variant.objects.filter(variant_filter, product_id=OuterRef("pk"), is_active=True)
            )
        )

    column, order, after = _ORDERING[sort]
    if cursor:
        key, pk = _decode_cursor(cursor, sort)
        products = products.filter(
            Q(**{f"{column}__{after}": key}) | Q(**{column: key, f"id__{after}": pk})
        )
    id_order = "-id" if order.startswith("-") else "id"
    page = list(
        products.select_related("store", "category")
        .prefetch_related(_active_variants())
        .order_by(order, id_order)[: limit + 1]
    )
    next_cursor = None
    if len(page) > limit:
        page = page[:limit]
        last = page[-1]
        next_cursor = _encode_cursor(
            sort, last.created_at.isoformat() if sort == "newest" else last.min_price, last.pk
        )
    return {
        "items": [_product_data(p, with_description=False) for p in page],
        "next": next_cursor,
    }


def product_get_public(*, product_id: int) -> dict[str, Any]:
    """A visible product with its active variants. Raises ``NotFound`` for an unknown or
    hidden product (inactive, store not approved, nothing for sale)."""
    if not 0 < product_id < MAX_ID:
        raise NotFound("Product not found.", code="product_not_found")
    product = (
        visible_products()
        .select_related("store", "category")
        .prefetch_related(_active_variants())
        .filter(pk=product_id)
        .first()
    )
    if product is None:
        raise NotFound("Product not found.", code="product_not_found")
    return _product_data(product, with_description=True)


# --- vendor / staff ----------------------------------------------------------------------


def products_for_user(*, user: Any) -> QuerySet[Product]:
    """Products ``user`` may manage: staff any, a vendor their own store's, others none."""
    products = Product.objects.select_related("store", "category").prefetch_related(
        Prefetch(
            "variants",
            queryset=Variant.objects.select_related("colour", "stock").order_by("id"),
        )
    )
    if getattr(user, "is_marketplace_staff", False):
        return products
    if getattr(user, "is_vendor", False):
        return products.filter(store__owner_id=user.pk)
    return products.none()


def product_get_for_user(*, user: Any, product_id: int) -> Product:
    """One product ``user`` may manage. Raises ``NotFound`` for anything else (another
    store's product looks exactly like a missing one)."""
    product = None
    if 0 < product_id < MAX_ID:
        product = products_for_user(user=user).filter(pk=product_id).first()
    if product is None:
        raise NotFound("Product not found.", code="product_not_found")
    return product
