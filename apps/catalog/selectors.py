"""Reads on the catalogue.

The public reads return plain data (dicts of ids, strings, Decimals) built from flat
``values()`` rows, never from model instances, in a fixed number of queries: products
(joined with store and category) and one query of their active variants (joined with
colour, with the stock of each), plus the category rows when a category filter is given
(served from the cache; see ``category_rows``).

Each read comes in two halves so that another executor (a native async database
connection) can run the same SQL:

* builders return the QuerySets and send nothing to the database:
  ``product_list_queries(...)``, ``product_detail_queries(product_id)``,
  ``variants_query(product_ids)``, ``category_rows_query()``;
* shapers turn the rows into the output and touch no database:
  ``product_page_split(rows, sort=, limit=)``, ``product_rows_to_data(products, variants,
  with_description=)``, ``product_detail_from_rows(...)``, ``category_tree_from_rows(rows)``,
  ``category_ids_with_descendants(rows, category)``.

The sync selectors (``product_list_public``, ``product_get_public``, ``category_tree``)
compose the two.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import structlog
from django.conf import settings
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery

from apps.catalog.models import (
    CATEGORY_CACHE_VERSION_KEY,
    SIZE_SET,
    Category,
    Product,
    Variant,
    catalogue_cache,
)
from apps.common.errors import NotFound, ValidationFailed
from apps.common.prepared import PreparedValues
from apps.inventory.models import Stock
from apps.vendors.models import StoreStatus

logger = structlog.get_logger(__name__)

Sort = Literal["newest", "price_asc", "price_desc"]
SORTS: tuple[str, ...] = ("newest", "price_asc", "price_desc")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_ID = 2**63
MAX_PRICE = Decimal(10) ** 10

#: A product row: ``id``, ``name``, ``slug``, ``brand``, ``images`` (decoded JSON),
#: ``min_price`` (Decimal), ``created_at`` (aware datetime), ``store_id``, ``store_name``,
#: ``store_slug``, ``category_id``, ``category_name``, ``category_slug`` and, for the
#: detail, ``description``. The keys are the SQL column names (plain columns or aliases).
ProductRow = Mapping[str, Any]
#: A variant row: ``id``, ``product_id``, ``sku``, ``size``, ``price``,
#: ``compare_at_price``, ``currency``, ``colour_name``, ``colour_hex`` and ``available``
#: (on hand - reserved, NULL without a stock row).
VariantRow = Mapping[str, Any]
#: A category row: ``(id, name, slug, parent_id)``.
CategoryRow = tuple[int, str, str, int | None]

#: Cached category rows, stored as ``(version, rows)`` next to the version stamp.
CATEGORY_ROWS_CACHE_KEY = "catalog:categories:rows"
#: Bounds staleness only for writes that bypass the ORM (raw SQL); ORM writes bump the
#: version stamp and are visible on the next read.
CATEGORY_CACHE_TIMEOUT = 300


def _is_id(value: str) -> bool:
    return value.isdigit() and len(value) <= 18


def visible_products() -> QuerySet[Product]:
    """Products customers may see: active, of an approved store, with an active variant."""
    return Product.objects.filter(
        is_active=True, store__status=StoreStatus.APPROVED, min_price__isnull=False
    )


# --- row queries -------------------------------------------------------------------------

_PRODUCT_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "slug",
    "brand",
    "images",
    "min_price",
    "created_at",
    "store_id",
    "category_id",
)


def _product_rows(
    products: QuerySet[Product], *, with_description: bool
) -> QuerySet[Product, ProductRow]:
    columns = (*_PRODUCT_COLUMNS, "description") if with_description else _PRODUCT_COLUMNS
    return products.values(
        *columns,
        store_name=F("store__name"),
        store_slug=F("store__slug"),
        category_name=F("category__name"),
        category_slug=F("category__slug"),
    )


def variants_query(product_ids: Sequence[int]) -> QuerySet[Variant, VariantRow]:
    """The active variants of ``product_ids`` as ``VariantRow``s, in id order.

    The stock comes from a correlated subquery on the stock primary key rather than a
    join: a join lets PostgreSQL hash the whole stock table for a page of a few hundred
    variants, the subquery probes the primary key once per variant.
    """
    available = Stock.objects.filter(variant_id=OuterRef("pk")).values(
        available=F("on_hand") - F("reserved")
    )
    return (
        Variant.objects.filter(product_id__in=list(product_ids), is_active=True)
        .order_by("id")
        .values(
            "id",
            "product_id",
            "sku",
            "size",
            "price",
            "compare_at_price",
            "currency",
            colour_name=F("colour__name"),
            colour_hex=F("colour__hex_code"),
            available=Subquery(available),
        )
    )


# --- shaping rows ------------------------------------------------------------------------


def _variant_data(row: VariantRow) -> dict[str, Any]:
    available = max(row["available"] or 0, 0)
    return {
        "id": row["id"],
        "sku": row["sku"],
        "size": row["size"],
        "colour": row["colour_name"],
        "colour_hex": row["colour_hex"],
        "price": row["price"],
        "compare_at_price": row["compare_at_price"],
        "currency": row["currency"],
        "available": available,
        "in_stock": available > 0,
    }


def _product_data(
    row: ProductRow, variants: list[dict[str, Any]], *, with_description: bool
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "slug": row["slug"],
        "brand": row["brand"],
        "store": {"id": row["store_id"], "name": row["store_name"], "slug": row["store_slug"]},
        "category": {
            "id": row["category_id"],
            "name": row["category_name"],
            "slug": row["category_slug"],
        },
        "images": list(row["images"] or []),
        "price_from": row["min_price"],
        "currency": variants[0]["currency"] if variants else None,
        "in_stock": any(v["in_stock"] for v in variants),
        "created_at": row["created_at"],
        "variants": variants,
    }
    if with_description:
        data["description"] = row["description"]
    return data


def product_rows_to_data(
    product_rows: Sequence[ProductRow],
    variant_rows: Sequence[VariantRow],
    *,
    with_description: bool,
) -> list[dict[str, Any]]:
    """The public product dicts, in the order of ``product_rows``, each with its variants
    from ``variant_rows`` (which come in id order)."""
    variants: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in variant_rows:
        variants[row["product_id"]].append(_variant_data(row))
    return [
        _product_data(row, variants.get(row["id"], []), with_description=with_description)
        for row in product_rows
    ]


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


_ORDERING: dict[str, tuple[str, str, str, str]] = {
    # sort: (column, order_by for column, comparisons for "after" and "not before")
    "newest": ("created_at", "-created_at", "lt", "lte"),
    "price_asc": ("min_price", "min_price", "gt", "gte"),
    "price_desc": ("min_price", "-min_price", "lt", "lte"),
}


# --- categories --------------------------------------------------------------------------


def category_rows_query() -> QuerySet[Category, tuple[int, str, str, int | None]]:
    """Every category as a ``CategoryRow``, in display order (position, name, id)."""
    return Category.objects.order_by("position", "name", "id").values_list(
        "id", "name", "slug", "parent_id"
    )


def category_rows() -> list[CategoryRow]:
    """Every category as ``CategoryRow``s, from the default cache when it is current.

    The rows are cached next to the version stamp that every category write bumps
    (``apps.catalog.models.categories_changed``), and both are read in one round trip:
    rows cached under another version are never used, so an edit made by any process
    sharing the cache is seen on the next read. An unreachable cache means a query.
    """
    cache = catalogue_cache()
    try:
        found = cache.get_many([CATEGORY_CACHE_VERSION_KEY, CATEGORY_ROWS_CACHE_KEY])
        version = found.get(CATEGORY_CACHE_VERSION_KEY)
        if version is None:
            # No stamp yet (cold or evicted cache): start one; if another reader got
            # there first, use theirs.
            version = uuid.uuid4().hex
            if not cache.add(CATEGORY_CACHE_VERSION_KEY, version, timeout=None):
                version = cache.get(CATEGORY_CACHE_VERSION_KEY)
    except Exception as error:  # any backend's connection error: serve from the database
        logger.warning("catalog.category_cache_unavailable", error=repr(error))
        return list(category_rows_query())
    cached = found.get(CATEGORY_ROWS_CACHE_KEY)
    if version is not None and isinstance(cached, tuple) and cached[0] == version:
        rows: list[CategoryRow] = cached[1]
        return rows
    rows = list(category_rows_query())
    if version is not None:
        with contextlib.suppress(Exception):
            cache.set(CATEGORY_ROWS_CACHE_KEY, (version, rows), CATEGORY_CACHE_TIMEOUT)
    return rows


def category_ids_with_descendants(rows: Sequence[CategoryRow], category: str) -> list[int]:
    """Ids of the category given by id or slug and of every category below it.

    Raises ``ValidationFailed`` naming ``category`` when it is not among ``rows``.
    """
    children: dict[int | None, list[int]] = defaultdict(list)
    root: int | None = None
    for pk, _name, slug, parent_id in rows:
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


def _category_with_descendants(category: str) -> list[int]:
    """``category_ids_with_descendants`` over the cached category rows."""
    return category_ids_with_descendants(category_rows(), category)


def category_tree_from_rows(rows: Sequence[CategoryRow]) -> list[dict[str, Any]]:
    """``[{id, name, slug, children: [...]}, …]`` from rows in display order."""
    nodes: dict[int, dict[str, Any]] = {}
    for pk, name, slug, _parent_id in rows:
        nodes[pk] = {"id": pk, "name": name, "slug": slug, "children": []}
    roots: list[dict[str, Any]] = []
    for pk, _name, _slug, parent_id in rows:
        parent = nodes.get(parent_id) if parent_id is not None else None
        (parent["children"] if parent is not None else roots).append(nodes[pk])
    return roots


def category_tree() -> list[dict[str, Any]]:
    """Every category as a tree: ``[{id, name, slug, children: [...]}, …]`` (from the
    cache, or one query)."""
    return category_tree_from_rows(category_rows())


# --- public catalogue: product list --------------------------------------------------------


@dataclass(frozen=True)
class ProductListQueries:
    """The queries of one catalogue page.

    ``products`` yields up to ``limit + 1`` ``ProductRow``s (the extra row only tells that
    a next page exists); ``product_page_split`` cuts the page and makes the cursor, then
    ``variants_for`` the ids of the page gives the one variant query.
    """

    products: QuerySet[Product, ProductRow]
    sort: str
    limit: int

    @staticmethod
    def variants_for(product_ids: Sequence[int]) -> QuerySet[Variant, VariantRow]:
        return variants_query(product_ids)


def product_list_queries(
    *,
    categories: Sequence[CategoryRow] | None = None,
    category: str | None = None,
    store: str | None = None,
    brand: str | None = None,
    size: str | None = None,
    colour: str | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    q: str | None = None,
    in_stock: bool = False,
    fit: str | None = None,
    sort: str = "newest",
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> ProductListQueries:
    """Build (without running anything) the queries of ``product_list_public``.

    ``categories`` are the category rows (``category_rows()``), needed only when
    ``category`` is given. Raises ``ValidationFailed`` naming the field, exactly as
    ``product_list_public``.
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
    if fit is not None and fit not in FIT_VERDICTS:
        raise ValidationFailed.for_field(
            "fit", f"One of: {', '.join(FIT_VERDICTS)}.", "invalid_choice"
        )
    limit = max(1, min(limit, MAX_PAGE_SIZE))

    products = visible_products()
    if category:
        if categories is None:
            raise ValueError("A category filter needs the category rows.")
        products = products.filter(
            category_id__in=category_ids_with_descendants(categories, category)
        )
    if store:
        products = products.filter(
            Q(store_id=int(store)) if _is_id(store) else Q(store__slug=store)
        )
    if brand:
        # UPPER(brand) = UPPER(%s): served by product_brand_upper_idx.
        products = products.filter(brand__iexact=brand.strip())
    if q and q.strip():
        # UPPER(col) LIKE UPPER('%term%'): served on PostgreSQL by the trigram indexes
        # on UPPER(name), UPPER(brand) and UPPER(description) (migration 0003).
        for term in q.split()[:8]:
            products = products.filter(
                Q(name__icontains=term) | Q(brand__icontains=term) | Q(description__icontains=term)
            )

    if fit:
        # Only with the filter: a join on the products' fit summaries (docs/fit.md).
        products = _with_fit_verdict(products, fit)

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

    column, order, after, not_before = _ORDERING[sort]
    if cursor:
        key, pk = _decode_cursor(cursor, sort)
        # (key, id) strictly after the cursor, with a plain bound on the sort column as
        # well so that the index scan starts at the cursor instead of filtering every
        # earlier row.
        products = products.filter(
            Q(**{f"{column}__{not_before}": key})
            & (Q(**{f"{column}__{after}": key}) | Q(**{f"id__{after}": pk}))
        )
    id_order = "-id" if order.startswith("-") else "id"
    rows = _product_rows(products.order_by(order, id_order), with_description=False)
    return ProductListQueries(products=rows[: limit + 1], sort=sort, limit=limit)


#: The fit signal's verdicts (``apps.fit``): the product list's ``fit`` filter.
FIT_VERDICTS = ("runs_small", "true_to_size", "runs_large")


def _with_fit_verdict(products: QuerySet[Product], verdict: str) -> QuerySet[Product]:
    """Products whose fit signal is shown (at least ``FIT_SIGNAL_MIN_ANSWERS`` answers) and
    says ``verdict``: the answer with strictly the most votes, a tie meaning true to
    size — as the signal on the product's fit page."""
    small, true, large = (F(f"fit_summary__{answer}") for answer in FIT_VERDICTS)
    products = products.alias(fit_answers=small + true + large).filter(
        fit_answers__gte=int(getattr(settings, "FIT_SIGNAL_MIN_ANSWERS", 5))
    )
    runs_small = Q(fit_summary__runs_small__gt=true) & Q(fit_summary__runs_small__gt=large)
    runs_large = Q(fit_summary__runs_large__gt=small) & Q(fit_summary__runs_large__gt=true)
    if verdict == "runs_small":
        return products.filter(runs_small)
    if verdict == "runs_large":
        return products.filter(runs_large)
    return products.exclude(runs_small).exclude(runs_large)


def product_page_split(
    rows: Sequence[ProductRow], *, sort: str, limit: int
) -> tuple[list[ProductRow], str | None]:
    """The rows of the page (at most ``limit``) and the cursor of the next page (None on
    the last page), from the up to ``limit + 1`` rows of ``ProductListQueries.products``."""
    page = list(rows[:limit])
    if len(rows) <= limit:
        return page, None
    last = page[-1]
    key = last["created_at"].isoformat() if sort == "newest" else last["min_price"]
    return page, _encode_cursor(sort, key, last["id"])


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
    fit: str | None = None,
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
    queries = product_list_queries(
        categories=category_rows() if category else None,
        category=category,
        store=store,
        brand=brand,
        size=size,
        colour=colour,
        min_price=min_price,
        max_price=max_price,
        q=q,
        in_stock=in_stock,
        fit=fit,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    page, next_cursor = product_page_split(
        list(queries.products), sort=queries.sort, limit=queries.limit
    )
    variant_rows = _variant_rows.rows([row["id"] for row in page]) if page else []
    return {
        "items": product_rows_to_data(page, variant_rows, with_description=False),
        "next": next_cursor,
    }


# --- public catalogue: one product ---------------------------------------------------------


@dataclass(frozen=True)
class ProductDetailQueries:
    """The two queries of one product. They do not depend on each other (both filter on
    the id), so they may be sent together; ``product_detail_from_rows`` shapes them."""

    product: QuerySet[Product, ProductRow]
    variants: QuerySet[Variant, VariantRow]


def product_detail_queries(product_id: int) -> ProductDetailQueries:
    """Build (without running anything) the queries of ``product_get_public``. Raises
    ``NotFound`` for an id no product can have."""
    if not 0 < product_id < MAX_ID:
        raise NotFound("Product not found.", code="product_not_found")
    product = _product_rows(visible_products().filter(pk=product_id), with_description=True)
    return ProductDetailQueries(product=product.order_by(), variants=variants_query([product_id]))


def product_detail_from_rows(
    product_rows: Sequence[ProductRow], variant_rows: Sequence[VariantRow]
) -> dict[str, Any]:
    """The public product dict. Raises ``NotFound`` when there is no product row (unknown
    or hidden product); the variant rows are then ignored."""
    if not product_rows:
        raise NotFound("Product not found.", code="product_not_found")
    return product_rows_to_data(product_rows[:1], variant_rows, with_description=True)[0]


# The hot reads compiled once (apps.common.prepared): a product by id, and the active
# variants of a page's products (one compiled statement per page length).
_product_detail_row = PreparedValues(lambda product_id: product_detail_queries(product_id).product)
_variant_rows = PreparedValues(variants_query)


def product_get_public(*, product_id: int) -> dict[str, Any]:
    """A visible product with its active variants. Raises ``NotFound`` for an unknown or
    hidden product (inactive, store not approved, nothing for sale)."""
    if not 0 < product_id < MAX_ID:
        raise NotFound("Product not found.", code="product_not_found")
    product_rows = _product_detail_row.rows(product_id)
    if not product_rows:
        raise NotFound("Product not found.", code="product_not_found")
    return product_detail_from_rows(product_rows, _variant_rows.rows([product_id]))


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
