"""The floor app speaks the app's formats (datetimes, cursors, access tokens, request
hashes), sends the app's SQL and shapes rows into the app's JSON. (Whole answers are
compared with the running app by ``make bench`` itself.)"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.base import DatabaseWrapper
from django.db.models import QuerySet

from apps.authentication.tokens import access_token_issue
from apps.catalog import selectors as catalog
from apps.catalog.selectors import _encode_cursor
from apps.common.apis.json_response import json_bytes
from apps.orders import selectors as orders
from apps.orders.services import OrderItem
from apps.orders.services.placement import _request_hash
from bench.http import floor
from bench.http import floor_sql as sql
from bench.http.floor_sql import At, product_list


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 26, 14, 23, 32, 689123, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    ],
)
def test_datetimes_are_written_like_the_app(moment: datetime) -> None:
    assert floor.iso(moment) == json.loads(json_bytes({"at": moment}))["at"]


def test_money_is_a_string_like_the_app() -> None:
    assert floor.money(Decimal("22500.00")) == "22500.00"
    assert floor.money(None) is None


def test_the_cursor_is_the_apps() -> None:
    moment = datetime(2026, 11, 26, 14, 23, 32, 689123, tzinfo=UTC)
    assert floor.encode_cursor("newest", moment.isoformat(), 1980) == _encode_cursor(
        "newest", moment.isoformat(), 1980
    )


def test_the_floor_accepts_the_apps_access_tokens_and_nothing_else() -> None:
    token, _ = access_token_issue(user_id=73, session_id="s-1", role="customer")
    app = floor.Floor()
    app.key = floor.signing_key(settings.SECRET_KEY)

    def scope(value: str) -> dict[str, object]:
        return {"headers": [(b"authorization", value.encode())]}

    assert app._customer_id(scope(f"Bearer {token}")) == 73
    with pytest.raises(floor.HttpError) as refused:
        app._customer_id(scope(f"Bearer {token[:-2]}xx"))
    assert refused.value.status == 401
    with pytest.raises(floor.HttpError):
        app._customer_id(scope(""))


def test_the_idempotency_hash_is_the_apps() -> None:
    items = [(41, 1), (42, 2)]
    assert floor.request_hash(items, "12 Admiralty Way", "") == _request_hash(
        [OrderItem(v, q) for v, q in items], "12 Admiralty Way", ""
    )


def test_order_numbers_look_like_the_apps() -> None:
    number = floor.order_number()
    assert len(number) == 12 and number.startswith("FS-") and number[7] == "-"


def test_list_statements_number_their_parameters_in_order() -> None:
    both = product_list(category=True, size=True)
    assert "= ANY($1::bigint[])" in both and '"size" = $2' in both and both.endswith("LIMIT $3")
    assert product_list(category=False, size=False).endswith("LIMIT $1")


def test_the_reservation_numbers_its_parameters_in_pairs() -> None:
    statement = sql.stock_reserve(3)
    for number in (1, 3, 5):
        assert f'"inventory_stock"."variant_id" = ${number})' in statement
        assert (
            f'"inventory_stock"."variant_id" = ${number} THEN ${number + 1}::integer' in statement
        )
    assert statement.endswith('"inventory_stock"."variant_id" = ANY($7::bigint[]))')
    assert "$8" not in statement


# --- the app's SQL ------------------------------------------------------------------------

CATEGORY_ROWS: list[catalog.CategoryRow] = [
    (1, "Women", "women", None),
    (2, "Dresses", "dresses", 1),
    (3, "Men", "men", None),
    (4, "Maxi dresses", "maxi-dresses", 2),
]


@pytest.fixture(scope="module")
def postgresql() -> BaseDatabaseWrapper:
    """A PostgreSQL backend that only compiles the app's querysets: it never connects."""
    return DatabaseWrapper(
        {
            **connections["default"].settings_dict,
            "ENGINE": "django.db.backends.postgresql",
            "OPTIONS": {},
        },
        alias="floor-sql",
    )


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, int):
        return str(int(value))
    raise TypeError(value)


def _app_text(queryset: QuerySet[Any, Any], connection: BaseDatabaseWrapper) -> str:
    """The app's statement with its parameters written in."""
    text, params = queryset.query.get_compiler(connection=connection).as_sql()
    return str(text % tuple(_literal(param) for param in params))


def _floor_text(statement: str, *args: Any) -> str:
    """The floor's statement with its arguments written in as the ORM would: an
    ``= ANY($n)`` list as ``IN (…)``."""

    def in_list(match: re.Match[str]) -> str:
        values = args[int(match[1]) - 1]
        return f"IN ({', '.join(_literal(value) for value in values)})"

    text = re.sub(r"= ANY\(\$(\d+)::bigint\[\]\)", in_list, statement)
    return re.sub(r"\$(\d+)", lambda match: _literal(args[int(match[1]) - 1]), text)


def test_the_product_detail_is_the_apps_query(postgresql: BaseDatabaseWrapper) -> None:
    app = _app_text(catalog.product_detail_queries(1980).product, postgresql)
    assert _floor_text(sql.PRODUCT_DETAIL, 1980) == app


@pytest.mark.parametrize(
    ("category", "size"), [(None, None), ("women", None), (None, "M"), ("dresses", "XS")]
)
def test_the_list_page_is_the_apps_query(
    postgresql: BaseDatabaseWrapper, category: str | None, size: str | None
) -> None:
    queries = catalog.product_list_queries(
        categories=CATEGORY_ROWS, category=category, size=size, limit=20
    )
    args: list[Any] = []
    if category:
        args.append(floor.category_ids(CATEGORY_ROWS, category))
    if size:
        args.append(size)
    statement = product_list(category=bool(category), size=bool(size))
    assert _floor_text(statement, *args, 21) == _app_text(queries.products, postgresql)


def test_the_variants_and_categories_are_the_apps_queries(
    postgresql: BaseDatabaseWrapper,
) -> None:
    app = _app_text(catalog.variants_query([1980, 1979, 7]), postgresql)
    assert _floor_text(sql.VARIANTS_OF_PRODUCTS, [1980, 1979, 7]) == app
    assert _floor_text(sql.CATEGORIES) == _app_text(catalog.category_rows_query(), postgresql)


def test_the_order_reads_are_the_apps_queries(postgresql: BaseDatabaseWrapper) -> None:
    order = _app_text(orders._customer_order_row._build(36, 3010), postgresql)
    assert _floor_text(sql.ORDER_FOR_CUSTOMER, 36, 3010) == order
    lines = _app_text(orders._order_line_rows._build(3010), postgresql)
    assert _floor_text(sql.ORDER_LINES, 3010) == lines
    payments = _app_text(orders._order_payment_rows._build(3010), postgresql)
    assert _floor_text(sql.ORDER_PAYMENTS, 3010) == payments


@pytest.mark.parametrize("category", ["women", "1", "dresses", "4", "men"])
def test_the_category_filter_covers_the_apps_categories(category: str) -> None:
    assert floor.category_ids(CATEGORY_ROWS, category) == (
        catalog.category_ids_with_descendants(CATEGORY_ROWS, category)
    )


# --- rows → the app's JSON ----------------------------------------------------------------


def _row(data: dict[str, Any], at: dict[str, int]) -> tuple[Any, ...]:
    """A dict row of the app as the positional row the floor reads."""
    return tuple(data[name] for name in sorted(at, key=at.__getitem__))


MOMENT = datetime(2026, 11, 26, 14, 23, 32, 689123, tzinfo=UTC)
VARIANTS = [
    {
        "id": 7, "product_id": 3, "sku": "D01-3-07", "size": "M", "price": Decimal("22500.00"),
        "compare_at_price": None, "currency": "NGN", "colour_name": "Red",
        "colour_hex": "#FF0000", "available": 4,
    },
    {
        "id": 8, "product_id": 3, "sku": "D01-3-08", "size": "L", "price": Decimal("23000.00"),
        "compare_at_price": Decimal("25000.00"), "currency": "NGN", "colour_name": "Red",
        "colour_hex": "#FF0000", "available": None,
    },
    {
        "id": 9, "product_id": 3, "sku": "D01-3-09", "size": "XL", "price": Decimal("23000.00"),
        "compare_at_price": None, "currency": "NGN", "colour_name": "Blue",
        "colour_hex": "#0000FF", "available": -2,
    },
]  # fmt: skip
PRODUCT = {
    "id": 3, "name": "Silk wrapper", "slug": "silk-wrapper", "brand": "Adire House",
    "images": ["a.jpg"], "min_price": Decimal("22500.00"), "created_at": MOMENT,
    "store_id": 1, "category_id": 2, "description": "Hand dyed.", "store_name": "Ada",
    "store_slug": "ada", "category_name": "Dresses", "category_slug": "dresses",
}  # fmt: skip


@pytest.mark.parametrize("with_description", [True, False])
def test_products_are_shaped_like_the_apps(with_description: bool) -> None:
    at = At.DETAIL if with_description else At.LIST
    app = catalog.product_rows_to_data([PRODUCT], VARIANTS, with_description=with_description)
    variants = [floor.variant_json(_row(variant, At.V)) for variant in VARIANTS]
    shaped = floor.product_json(_row(PRODUCT, at), at, variants, with_description=with_description)
    assert orjson.dumps(shaped) == json_bytes(app[0])


@pytest.mark.parametrize("status", ["pending_payment", "paid"])
def test_orders_are_shaped_like_the_apps(status: str) -> None:
    order = {
        "id": 3010, "order_number": "FS-9GDE-K6WG", "status": status,
        "total_amount": Decimal("49500.00"), "currency": "NGN",
        "delivery_address": "12 Admiralty Way, Lekki", "customer_notes": "",
        "created_at": MOMENT, "reserved_until": MOMENT,
        "paid_at": MOMENT if status == "paid" else None, "cancelled_at": None,
    }  # fmt: skip
    lines = [
        {
            "id": 11, "variant_id": 7, "product_name": "Silk wrapper", "sku": "D01-3-07",
            "size": "M", "colour": "Red", "unit_price": Decimal("22500.00"), "quantity": 2,
            "line_total": Decimal("45000.00"), "fulfilled_at": fulfilled,
        }
        for fulfilled in (None, MOMENT)
    ]  # fmt: skip
    payments = [
        {
            "id": 5, "provider": "paystack", "reference": "ref-5", "amount": Decimal("49500.00"),
            "currency": "NGN", "status": "succeeded", "refunded_amount": Decimal("0.00"),
            "needs_refund": False, "created_at": MOMENT,
        }
    ]  # fmt: skip
    app = orders.order_detail_from_rows(order, lines, payments)
    shaped = floor.order_json(
        _row(order, At.O),
        [_row(line, At.L) for line in lines],
        [_row(payment, At.PAY) for payment in payments],
    )
    assert orjson.dumps(shaped) == json_bytes(app)
