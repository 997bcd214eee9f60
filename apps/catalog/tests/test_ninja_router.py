"""v2 catalogue browsing: visibility, every filter and sort, cursor pages, bad input,
and a number of queries that does not grow with the page."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import Product
from apps.catalog.tests.factories import CategoryFactory, make_product
from apps.inventory.services import stock_reserve
from apps.vendors.models import StoreStatus
from apps.vendors.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

URL = "/api/v2/products/"


def _get(client: Client, params: dict[str, Any] | None = None, status: int = 200) -> Any:
    response = client.get(URL, params or {})
    assert response.status_code == status, response.content
    return response.json()


def _names(client: Client, **params: Any) -> list[str]:
    return [item["name"] for item in _get(client, params)["items"]]


def _problem_field(client: Client, **params: Any) -> str:
    response = client.get(URL, params)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()["errors"][0]["field"]


def test_product_carries_the_public_fields(client: Client) -> None:
    product = make_product(variants=[{"size": "S", "colour": "Navy", "price": "1200.50"}])

    body = _get(client)

    item = body["items"][0]
    assert item["id"] == product.pk
    assert item["name"] == "Linen shirt"
    variant = item["variants"][0]
    assert set(variant) >= {"id", "sku", "size", "colour", "price", "available"}
    assert (variant["size"], variant["colour"], variant["price"]) == ("S", "Navy", "1200.50")
    assert variant["available"] == 5
    assert body["next"] is None


def test_only_approved_active_products_with_an_active_variant_are_listed(client: Client) -> None:
    make_product(name="Visible")
    make_product(name="Pending store", store=StoreFactory.create(status=StoreStatus.PENDING))
    make_product(name="Suspended store", store=StoreFactory.create(status=StoreStatus.SUSPENDED))
    make_product(name="Inactive", is_active=False)
    make_product(name="No active variant", variants=[{"is_active": False}])

    assert _names(client) == ["Visible"]


def test_inactive_variants_are_not_shown(client: Client) -> None:
    make_product(variants=[{"size": "S"}, {"size": "M", "is_active": False}])

    variants = _get(client)["items"][0]["variants"]

    assert [v["size"] for v in variants] == ["S"]


def test_detail_shows_variants_and_availability(client: Client) -> None:
    product = make_product(
        description="Hand-dyed.", variants=[{"size": "S", "stock": 3}, {"size": "L", "stock": 0}]
    )
    variants = {v.size: v.pk for v in product.variants.all()}
    stock_reserve(items=[(variants["S"], 2)], order_id=None)

    response = client.get(f"{URL}{product.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["description"] == "Hand-dyed."
    available = {v["size"]: (v["available"], v["in_stock"]) for v in body["variants"]}
    assert available == {"S": (1, True), "L": (0, False)}


@pytest.mark.parametrize(
    "hidden",
    [
        {"store": "pending"},
        {"is_active": False},
        {"variants": [{"is_active": False}]},
    ],
)
def test_hidden_product_detail_is_404(client: Client, hidden: dict[str, Any]) -> None:
    store = StoreFactory.create(status=StoreStatus.PENDING) if hidden.pop("store", None) else None
    product = make_product(store=store, **hidden)

    response = client.get(f"{URL}{product.pk}/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("product_id", ["999999", "99999999999999999999999"])
def test_unknown_product_is_404(client: Client, product_id: str) -> None:
    assert client.get(f"{URL}{product_id}/").status_code in {404, 422}
    assert client.get(f"{URL}999999/").status_code == 404


def test_staff_approval_makes_a_store_visible(client: Client) -> None:
    from apps.vendors.services import store_approve

    store = StoreFactory.create(status=StoreStatus.PENDING)
    product = make_product(store=store)
    assert client.get(f"{URL}{product.pk}/").status_code == 404

    store_approve(store_id=store.pk, actor=None)

    assert client.get(f"{URL}{product.pk}/").status_code == 200


# --- filters ---------------------------------------------------------------------------


def test_category_filter_includes_descendants(client: Client) -> None:
    women = CategoryFactory.create(name="Women", slug="women")
    dresses = CategoryFactory.create(name="Dresses", slug="women-dresses", parent=women)
    maxi = CategoryFactory.create(name="Maxi", slug="women-maxi", parent=dresses)
    men = CategoryFactory.create(name="Men", slug="men")
    make_product(name="Maxi dress", category=maxi)
    make_product(name="Wrap dress", category=dresses)
    make_product(name="Agbada", category=men)

    assert sorted(_names(client, category="women")) == ["Maxi dress", "Wrap dress"]
    assert sorted(_names(client, category=str(dresses.pk))) == ["Maxi dress", "Wrap dress"]
    assert _names(client, category="women-maxi") == ["Maxi dress"]
    assert _names(client, category="men") == ["Agbada"]


def test_store_and_brand_filters(client: Client) -> None:
    store = StoreFactory.create(slug="lagos-looks")
    make_product(name="A", store=store, brand="Adire")
    make_product(name="B", brand="adire")
    make_product(name="C", brand="Kente")

    assert _names(client, store="lagos-looks") == ["A"]
    assert _names(client, store=str(store.pk)) == ["A"]
    assert sorted(_names(client, brand="ADIRE")) == ["A", "B"]


def test_size_colour_price_and_stock_filters_apply_to_one_variant(client: Client) -> None:
    make_product(
        name="Red S cheap, Blue M dear",
        variants=[
            {"size": "S", "colour": "Red", "price": "1000"},
            {"size": "M", "colour": "Blue", "price": "9000"},
        ],
    )
    make_product(name="Red M sold out", variants=[{"size": "M", "colour": "Red", "stock": 0}])

    assert _names(client, size="M", colour="red") == ["Red M sold out"]
    assert _names(client, size="M", colour="Red", in_stock="true") == []
    assert sorted(_names(client, size="M")) == ["Red M sold out", "Red S cheap, Blue M dear"]
    assert _names(client, colour="Blue", max_price="5000") == []
    assert _names(client, colour="Blue", min_price="8000") == ["Red S cheap, Blue M dear"]
    assert _names(client, min_price="900", max_price="1000") == ["Red S cheap, Blue M dear"]
    assert _names(client, in_stock="true") == ["Red S cheap, Blue M dear"]


def test_shoe_sizes_filter(client: Client) -> None:
    make_product(name="Loafers", variants=[{"size": "EU 42"}, {"size": "EU 43"}])
    make_product(name="Sandals", variants=[{"size": "UK 7.5"}])

    assert _names(client, size="EU 42") == ["Loafers"]
    assert _names(client, size="UK 7.5") == ["Sandals"]


def test_text_search_matches_name_brand_and_description(client: Client) -> None:
    make_product(name="Silk scarf", brand="Orange Culture")
    make_product(name="Kaftan", description="Embroidered with silk thread")
    make_product(name="Denim jacket", brand="Levi")

    assert sorted(_names(client, q="silk")) == ["Kaftan", "Silk scarf"]
    assert _names(client, q="orange culture") == ["Silk scarf"]
    assert _names(client, q="nothing-matches") == []


# --- sorting and pages -------------------------------------------------------------------


def test_sort_by_newest_and_by_price(client: Client) -> None:
    make_product(name="Mid", variants=[{"price": "500"}])
    make_product(name="Cheap", variants=[{"price": "100"}, {"price": "900", "size": "L"}])
    make_product(name="Dear", variants=[{"price": "1000"}])

    assert _names(client) == ["Dear", "Cheap", "Mid"]
    assert _names(client, sort="newest") == ["Dear", "Cheap", "Mid"]
    assert _names(client, sort="price_asc") == ["Cheap", "Mid", "Dear"]
    assert _names(client, sort="price_desc") == ["Dear", "Mid", "Cheap"]


@pytest.mark.parametrize("sort", ["newest", "price_asc", "price_desc"])
def test_cursor_pages_cover_everything_once_even_with_ties(client: Client, sort: str) -> None:
    for index in range(7):
        make_product(name=f"P{index}", variants=[{"price": "100" if index % 2 else "200"}])
    # Identical creation times: the id breaks ties.
    Product.objects.update(created_at=Product.objects.first().created_at)  # type: ignore[union-attr]

    seen: list[int] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"sort": sort, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        body = _get(client, params)
        seen += [item["id"] for item in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break

    assert len(seen) == 7
    assert sorted(seen) == sorted(Product.objects.values_list("id", flat=True))
    full = [item["id"] for item in _get(client, {"sort": sort, "limit": 100})["items"]]
    assert seen == full


def test_page_size_defaults_to_50_and_is_capped_at_100(client: Client) -> None:
    store, category = StoreFactory.create(), CategoryFactory.create()
    for index in range(101):
        make_product(name=f"P{index}", store=store, category=category)

    assert len(_get(client)["items"]) == 50
    body = _get(client, {"limit": 1000})
    assert len(body["items"]) == 100
    assert body["next"] is not None


def test_a_new_product_does_not_shift_the_next_page(client: Client) -> None:
    for index in range(4):
        make_product(name=f"P{index}")
    first = _get(client, {"limit": 2})
    make_product(name="Newer")

    second = _get(client, {"limit": 2, "cursor": first["next"]})

    assert [i["name"] for i in first["items"] + second["items"]] == ["P3", "P2", "P1", "P0"]


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "cheapest"}, "sort"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "eyJzIjoibmV3ZXN0IiwiayI6IjEiLCJpIjoxfQ"}, "cursor"),
        ({"min_price": "500", "max_price": "100"}, "min_price"),
        ({"min_price": "-1"}, "min_price"),
        ({"max_price": "abc"}, "max_price"),
        ({"category": "no-such-category"}, "category"),
        ({"size": "ENORMOUS"}, "size"),
        ({"limit": "0"}, "limit"),
        ({"in_stock": "maybe"}, "in_stock"),
    ],
)
def test_bad_query_is_422_naming_the_field(
    client: Client, params: dict[str, str], field: str
) -> None:
    make_product()

    assert _problem_field(client, **params) == field


def test_cursor_of_another_sort_is_rejected(client: Client) -> None:
    for index in range(3):
        make_product(name=f"P{index}")
    cursor = _get(client, {"limit": 1})["next"]

    assert _problem_field(client, sort="price_asc", cursor=cursor) == "cursor"


# --- categories ------------------------------------------------------------------------


def test_categories_come_as_a_tree(client: Client) -> None:
    women = CategoryFactory.create(name="Women", slug="women")
    CategoryFactory.create(name="Dresses", slug="dresses", parent=women)
    CategoryFactory.create(name="Men", slug="men")

    response = client.get("/api/v2/categories/")

    assert response.status_code == 200
    tree = {node["slug"]: node for node in response.json()}
    assert set(tree) == {"women", "men"}
    assert [child["slug"] for child in tree["women"]["children"]] == ["dresses"]
    assert tree["men"]["children"] == []


# --- query counts ----------------------------------------------------------------------


def _count(client: Client, url: str, params: dict[str, Any] | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def _catalogue(products: int, variants: int) -> None:
    store, category = StoreFactory.create(), CategoryFactory.create(slug=f"cat-{products}")
    sizes = ["XS", "S", "M", "L", "XL", "XXL"]
    for index in range(products):
        make_product(
            name=f"P{index}",
            store=store,
            category=category,
            variants=[
                {"size": sizes[v % 6], "colour": ["Red", "Blue"][v // 6]} for v in range(variants)
            ],
        )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "price_asc", "in_stock": "true", "size": "XS", "colour": "Red"},
        {"category": "cat-2", "q": "P", "min_price": "1", "max_price": "99999"},
    ],
)
def test_list_queries_do_not_grow_with_products_or_variants(
    client: Client, params: dict[str, Any]
) -> None:
    _catalogue(products=2, variants=1)
    small = _count(client, URL, {**params, "category": "cat-2"} if "category" in params else params)
    _catalogue(products=30, variants=8)
    large = _count(client, URL, params | ({"category": "cat-30"} if "category" in params else {}))

    assert small == large
    assert large <= 3


def test_detail_and_categories_queries_are_constant(client: Client) -> None:
    small = make_product(variants=[{}])
    large = make_product(variants=[{"size": size} for size in ["XS", "S", "M", "L", "XL"]])
    CategoryFactory.create_batch(5)

    assert _count(client, f"{URL}{small.pk}/") == _count(client, f"{URL}{large.pk}/") <= 2
    assert _count(client, "/api/v2/categories/") == 1


def test_bodies_match_the_declared_schemas(client: Client) -> None:
    # The catalogue answers are serialised straight from the selector, not through the
    # schema: they must still be exactly what the OpenAPI document promises.
    from apps.catalog.apis.ninja_router import CategoryOut, ProductDetailOut, ProductPageOut
    from apps.common.tests.schemas import assert_matches_schema

    product = make_product(variants=[{"size": "S"}, {"size": "M"}])
    CategoryFactory.create()

    assert_matches_schema(ProductDetailOut, client.get(f"{URL}{product.pk}/").json())
    assert_matches_schema(ProductPageOut, client.get(URL, {"limit": 1}).json())
    assert_matches_schema(list[CategoryOut], client.get("/api/v2/categories/").json())


def test_detail_makes_two_queries_and_a_hidden_product_one(client: Client) -> None:
    shown = make_product(variants=[{"size": size} for size in ["XS", "S", "M", "L", "XL"]])
    hidden = make_product(is_active=False)

    assert _count(client, f"{URL}{shown.pk}/") == 2
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"{URL}{hidden.pk}/").status_code == 404
    assert len(queries) == 1


def test_list_with_every_filter_and_a_cursor_makes_two_queries_once_categories_are_cached(
    client: Client,
) -> None:
    women = CategoryFactory.create(slug="women")
    store = StoreFactory.create(slug="lagos-looks")
    for index in range(4):
        make_product(
            name=f"Adire wrap {index}",
            store=store,
            category=CategoryFactory.create(parent=women),
            brand="Adire",
            variants=[{"size": "M", "colour": "Navy", "price": "5000"}, {"size": "L"}],
        )
    params = {
        "category": "women",
        "store": "lagos-looks",
        "brand": "adire",
        "size": "M",
        "colour": "navy",
        "min_price": "100",
        "max_price": "90000",
        "q": "adire wrap",
        "in_stock": "true",
        "sort": "price_asc",
        "limit": "2",
    }
    first = _get(client, params)
    assert len(first["items"]) == 2

    with CaptureQueriesContext(connection) as queries:
        second = _get(client, {**params, "cursor": first["next"]})

    assert len(second["items"]) == 2
    assert len(queries) == 2
    assert _count(client, "/api/v2/categories/") == 0
