"""v2: the public catalogue (async). Each endpoint makes one hop into a sync selector that
returns its documented shape built from a fixed number of queries, serialised once
(``json_response``; the tests validate the bodies against the schemas declared here)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from apps.authentication.apis.ninja_auth import optional_bearer_auth
from apps.catalog.selectors import (
    DEFAULT_PAGE_SIZE,
    category_tree,
    product_get_public,
    product_list_public,
)
from apps.common.apis.json_response import json_response
from apps.common.apis.ninja_schemas import Problem
from apps.common.db import in_thread

router = Router(tags=["catalogue"])


class ProductFiltersIn(Schema):
    category: str | None = Field(
        None, max_length=100, description="Category id or slug; includes its subcategories."
    )
    store: str | None = Field(None, max_length=140, description="Store id or slug.")
    brand: str | None = Field(None, max_length=100)
    size: str | None = Field(None, max_length=16, description="e.g. M, XL, EU 42, UK 7.5")
    colour: str | None = Field(None, max_length=40, description="Colour name, e.g. Navy.")
    min_price: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    max_price: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    q: str | None = Field(None, max_length=200, description="Words in name, brand or text.")
    in_stock: bool = Field(False, description="Only products with a variant available now.")
    fit: Literal["runs_small", "true_to_size", "runs_large"] | None = Field(
        None,
        description="Only products whose fit signal says so (shown from enough answers: "
        "docs/fit.md).",
    )
    sort: Literal["newest", "price_asc", "price_desc"] = "newest"
    cursor: str | None = Field(None, max_length=500, description="`next` of the last page.")
    limit: int = Field(
        DEFAULT_PAGE_SIZE, ge=1, description="Page size; above 100 gives 100 (the maximum)."
    )


class VariantOut(Schema):
    id: int
    sku: str
    size: str
    colour: str
    colour_hex: str
    price: Decimal
    compare_at_price: Decimal | None
    currency: str
    available: int
    in_stock: bool


class StoreRefOut(Schema):
    id: int
    name: str
    slug: str


class CategoryRefOut(Schema):
    id: int
    name: str
    slug: str


class ProductOut(Schema):
    id: int
    name: str
    slug: str
    brand: str
    store: StoreRefOut
    category: CategoryRefOut
    images: list[str]
    price_from: Decimal
    currency: str | None
    in_stock: bool
    created_at: datetime
    variants: list[VariantOut]


class ProductDetailOut(ProductOut):
    description: str


class ProductPageOut(Schema):
    items: list[ProductOut]
    next: str | None = Field(description="Cursor of the next page; null on the last page.")


class CategoryOut(Schema):
    id: int
    name: str
    slug: str
    children: list[CategoryOut]


CategoryOut.model_rebuild()


@router.get(
    "/products/",
    response={200: ProductPageOut, 422: Problem},
    auth=optional_bearer_auth,
    summary="Browse products",
)
async def product_list(request: HttpRequest, filters: Query[ProductFiltersIn]) -> HttpResponse:
    """Visible products (approved stores, active, with something for sale), filtered and
    sorted, one cursor page at a time. Bad filters answer 422 naming the field."""
    return json_response(await in_thread(product_list_public, **filters.model_dump()))


@router.get(
    "/products/{product_id}/",
    response={200: ProductDetailOut, 404: Problem, 422: Problem},
    auth=optional_bearer_auth,
    summary="One product",
)
async def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    """A visible product with its active variants and what is available of each; 404 for
    an unknown or hidden product."""
    return json_response(await in_thread(product_get_public, product_id=product_id))


@router.get(
    "/categories/",
    response={200: list[CategoryOut]},
    auth=optional_bearer_auth,
    summary="Categories",
)
async def category_list(request: HttpRequest) -> HttpResponse:
    """The category tree."""
    return json_response(await in_thread(category_tree))
