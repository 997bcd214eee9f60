"""The floor app speaks the app's formats (datetimes, cursors, access tokens, request
hashes), sends the app's SQL and shapes rows into the app's JSON. (Whole answers are
compared with the running app by ``make bench`` itself.)"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import asyncpg
import orjson
import pytest
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.base import DatabaseWrapper
from django.db.models import Q, QuerySet
from django.test.utils import CaptureQueriesContext

from apps.authentication.tokens import access_token_issue
from apps.catalog import selectors as catalog
from apps.catalog.models import Colour
from apps.catalog.selectors import _encode_cursor
from apps.common.apis.json_response import json_bytes
from apps.common.errors import ValidationFailed
from apps.inventory.models import StockMovement
from apps.orders import selectors as orders
from apps.orders.models import IdempotencyKey, Order, OrderLine
from apps.orders.services import OrderItem, order_create
from apps.orders.services.placement import Delivery, _request_hash
from apps.orders.tests.factories import make_variant
from apps.payouts.commission import marketplace_rate
from apps.payouts.models import CommissionRule
from apps.payouts.rounding import commission_split
from apps.shipping.models import Shipment, ShippingMethod
from apps.shipping.quotes import shipping_quote
from apps.vendors.tests.factories import StoreFactory, UserFactory
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


@pytest.mark.parametrize(
    ("address", "notes"),
    [
        ("12 Admiralty Way, Lekki Phase 1, Lagos", ""),
        ("  14 Awolowo Road, Ikoyi \n", "Call at the gate — café opposite"),
    ],
)
def test_the_idempotency_hash_is_the_apps(address: str, notes: str) -> None:
    items = [(41, 1), (42, 2)]
    assert floor.request_hash(items, address, notes) == _request_hash(
        [OrderItem(v, q) for v, q in items], Delivery(delivery_address=address), notes
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
    shipments = _app_text(orders._order_shipment_rows._build(3010), postgresql)
    assert _floor_text(sql.ORDER_SHIPMENTS, 3010) == shipments


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


LAGOS = {
    "recipient_name": "Ada Obi", "phone": "+2348031234567", "line1": "12 Admiralty Way",
    "line2": "Lekki Phase 1", "city": "Lagos", "region": "Lagos", "postal_code": "",
    "country": "NG",
}  # fmt: skip


@pytest.mark.parametrize(
    ("status", "address"), [("pending_payment", {}), ("paid", LAGOS), ("shipped", {})]
)
def test_orders_are_shaped_like_the_apps(status: str, address: dict[str, str]) -> None:
    order = {
        "id": 3010, "order_number": "FS-9GDE-K6WG", "status": status,
        "total_amount": Decimal("52000.00"), "shipping_amount": Decimal("2500.00"),
        "currency": "NGN", "delivery_address": "12 Admiralty Way, Lekki",
        "shipping_address": address, "customer_notes": "", "created_at": MOMENT,
        "reserved_until": MOMENT, "paid_at": None if status == "pending_payment" else MOMENT,
        "cancelled_at": None,
    }  # fmt: skip
    lines = [
        {
            "id": 11 + index, "variant_id": 7, "product_name": "Silk wrapper", "sku": "D01-3-07",
            "size": "M", "colour": "Red", "unit_price": Decimal("22500.00"), "quantity": 2,
            "line_total": Decimal("45000.00"), "store_id": store_id, "fulfilled_at": fulfilled,
        }
        for index, (store_id, fulfilled) in enumerate([(1, None), (2, MOMENT), (1, None)])
    ]  # fmt: skip
    payments = [
        {
            "id": 5, "provider": "paystack", "reference": "ref-5", "amount": Decimal("49500.00"),
            "currency": "NGN", "status": "succeeded", "refunded_amount": Decimal("0.00"),
            "needs_refund": False, "created_at": MOMENT,
        }
    ]  # fmt: skip
    shipped = status == "shipped"
    shipments = [
        {
            "id": 21, "store_id": 1, "method_name": "Nationwide",
            "shipping_amount": Decimal("2500.00"), "min_days": 2, "max_days": 6,
            "status": status if shipped else "awaiting", "carrier": "DHL" if shipped else "",
            "tracking_number": "JD0146" if shipped else "",
            "tracking_url": "https://www.dhl.com/t?id=JD0146" if shipped else "",
            "packed_at": MOMENT if shipped else None, "shipped_at": MOMENT if shipped else None,
            "delivered_at": None, "returned_at": None, "is_exchange": False, "store_name": "Ada",
        },
        {
            "id": 22, "store_id": 2, "method_name": "Standard delivery",
            "shipping_amount": Decimal("0.00"), "min_days": 0, "max_days": 0,
            "status": "awaiting", "carrier": "", "tracking_number": "", "tracking_url": "",
            "packed_at": None, "shipped_at": None, "delivered_at": None, "returned_at": None,
            "is_exchange": False, "store_name": "Bisi",
        },
        {
            "id": 23, "store_id": 9, "method_name": "Express", "shipping_amount": Decimal("0.00"),
            "min_days": 1, "max_days": 2, "status": "returned", "carrier": "",
            "tracking_number": "",
            "tracking_url": "", "packed_at": None, "shipped_at": MOMENT, "delivered_at": None,
            "returned_at": MOMENT, "is_exchange": False, "store_name": "Chi",
        },
        {
            "id": 24, "store_id": 1, "method_name": "Exchange", "shipping_amount": Decimal("0.00"),
            "min_days": 2, "max_days": 6, "status": "awaiting", "carrier": "",
            "tracking_number": "", "tracking_url": "", "packed_at": None, "shipped_at": None,
            "delivered_at": None, "returned_at": None, "is_exchange": True, "store_name": "Ada",
        },
    ]  # fmt: skip
    app = orders.order_detail_from_rows(order, lines, payments, shipments)
    shaped = floor.order_json(
        _row(order, At.O),
        [_row(line, At.L) for line in lines],
        [_row(payment, At.PAY) for payment in payments],
        [_row(shipment, At.SHIP) for shipment in shipments],
    )
    assert orjson.dumps(shaped) == json_bytes(app)


# --- shipping and commission ----------------------------------------------------------------


@pytest.mark.parametrize(
    "lines",
    [
        [(Decimal("10000.00"), Decimal("10.00"))],
        [(Decimal("333.33"), Decimal("12.50")), (Decimal("333.33"), Decimal("12.50"))],
        [(Decimal("1.01"), Decimal("7.25")), (Decimal("2.03"), Decimal("0.00"))] * 3,
    ],
)
@pytest.mark.parametrize("currency", ["NGN", "JPY", "KWD"])
def test_the_commission_split_is_the_apps(
    lines: list[tuple[Decimal, Decimal]], currency: str
) -> None:
    assert floor.commission_split(lines, currency) == commission_split(lines, currency)


def _quote(
    subtotals: dict[int, Decimal], country: str
) -> list[floor.Shipping] | floor.HttpError | ValidationFailed:
    """The floor's choice from the methods as it reads them, or its refusal."""
    rows = list(
        ShippingMethod.objects.filter(
            Q(store_id__in=list(subtotals)) | Q(store__isnull=True), currency="NGN", is_active=True
        )
        .order_by("price", "max_days", "id")
        .values_list(*sql.SHIPPING_METHOD)
    )
    try:
        return floor.store_shipping(subtotals, rows, country)
    except floor.HttpError as error:
        return error


def _app_quote(
    subtotals: dict[int, Decimal], country: str
) -> list[floor.Shipping] | ValidationFailed:
    try:
        quotes = shipping_quote(
            store_subtotals=subtotals, store_names={}, currency="NGN", country=country
        )
    except ValidationFailed as error:
        return error
    return [
        (q.store_id, q.chosen.method_id, q.chosen.name, q.chosen.price, q.chosen.min_days,
         q.chosen.max_days)
        for q in quotes
    ]  # fmt: skip


@pytest.mark.django_db
def test_the_shipping_is_the_apps() -> None:
    own, bare = StoreFactory.create(), StoreFactory.create()
    # No method anywhere: free standard delivery.
    subtotals = {own.pk: Decimal("45000.00"), bare.pk: Decimal("9000.00")}
    assert _quote(subtotals, "NG") == _app_quote(subtotals, "NG")
    assert _quote(subtotals, "NG")[0][1] is None  # type: ignore[index]
    for store, name, price, free_above, days, countries in [
        (None, "Standard", "2500.00", "50000.00", (2, 5), ["NG"]),
        (None, "Express", "6000.00", None, (1, 2), ["NG"]),
        (None, "International", "25000.00", None, (5, 12), ["GB"]),
        (own, "Same day", "3500.00", None, (0, 1), ["NG"]),
        (own, "Nationwide", "2000.00", "40000.00", (2, 6), ["NG"]),
        (own, "Nationwide slow", "2000.00", "40000.00", (3, 9), ["NG"]),
        (own, "Courier", "30000.00", None, (4, 10), []),
    ]:
        ShippingMethod.objects.create(
            store=store, name=name, price=Decimal(price), currency="NGN",
            free_above=Decimal(free_above) if free_above else None, min_days=days[0],
            max_days=days[1], countries=countries,
        )  # fmt: skip
    for own_subtotal, bare_subtotal in [("45000.00", "9000.00"), ("100.00", "50000.00")]:
        subtotals = {own.pk: Decimal(own_subtotal), bare.pk: Decimal(bare_subtotal)}
        for country in ("NG", "GB"):
            assert _quote(subtotals, country) == _app_quote(subtotals, country)
    # A country no method serves: both refuse.
    assert isinstance(_quote({bare.pk: Decimal("1.00")}, "US"), floor.HttpError)
    assert isinstance(_app_quote({bare.pk: Decimal("1.00")}, "US"), ValidationFailed)


# --- order placement: the app and the floor on the same database -----------------------------


def _skeleton(statement: str) -> str:
    """A statement without its values: literals, parameters and casts become ``?``, an
    ``IN (…)`` list ``= ANY(?)``, so the ORM's executed SQL and a prepared statement of
    the floor compare."""
    text = re.sub(r"'(?:[^']|'')*'", "?", statement)
    text = re.sub(r"::(?:timestamp with time zone|[a-z_][a-z0-9_]*)(?:\[\])?", "", text)
    text = re.sub(r"\$\d+", "?", text)
    text = re.sub(r"(?<![\w\".])-?\d+(?:\.\d+)?(?![\w\"])", "?", text)
    text = re.sub(r"IN \(\?(?:, \?)*\)", "= ANY?", text.replace("NULL", "?"))
    while "(?)" in text:
        text = text.replace("(?)", "?")
    return text


class _Recording:
    """An asyncpg connection that notes the statements sent through it."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self.statements: list[str] = []

    def transaction(self) -> Any:
        return self.connection.transaction()

    async def fetch(self, query: str, *args: Any) -> Any:
        self.statements.append(query)
        return await self.connection.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> Any:
        self.statements.append(query)
        return await self.connection.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        self.statements.append(query)
        return await self.connection.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> Any:
        self.statements.append(query)
        return await self.connection.execute(query, *args)


def _floor_place(
    customer_id: int, payload: dict[str, Any], key: str
) -> tuple[int, dict[str, Any], list[str]]:
    """The floor places ``payload`` on the test database: its status, answer and
    statements."""
    db = connections["default"].settings_dict
    app = floor.Floor()
    app.country = settings.MARKETPLACE_COUNTRY
    app.commission = marketplace_rate()

    async def place() -> tuple[int, dict[str, Any], list[str]]:
        connection = await asyncpg.connect(
            host=db["HOST"] or None, port=int(db["PORT"] or 5432), user=db["USER"] or None,
            password=db["PASSWORD"] or None, database=db["NAME"],
        )  # fmt: skip
        try:
            await floor._init_connection(connection)
            recording = _Recording(connection)
            status, data = await app.order_place(
                cast(asyncpg.Connection, recording), customer_id, payload, key
            )
        finally:
            await connection.close()
        return status, data, recording.statements

    return asyncio.run(place())


def _written(order_id: int) -> dict[str, Any]:
    """What placing wrote, without ids, numbers and times."""
    return {
        "order": Order.objects.filter(pk=order_id)
        .values("customer_id", "status", "currency", "total_amount", "shipping_amount",
                "delivery_address", "shipping_address", "customer_notes")
        .get(),
        "lines": list(
            OrderLine.objects.filter(order_id=order_id).order_by("id")
            .values("variant_id", "store_id", "product_name", "sku", "size", "colour",
                    "unit_price", "quantity", "line_total", "fulfilled_at", "commission_rate",
                    "commission_amount", "vendor_net")
        ),
        "shipments": list(
            Shipment.objects.filter(order_id=order_id).order_by("id")
            .values("store_id", "method_id", "method_name", "shipping_amount", "min_days",
                    "max_days", "status", "carrier", "tracking_number", "tracking_url",
                    "packed_at", "shipped_at", "delivered_at", "returned_at",
                    "delivery_confirmed_by", "is_exchange")
        ),
        "movements": list(
            StockMovement.objects.filter(order_id=order_id).order_by("variant_id")
            .values("variant_id", "on_hand_delta", "reserved_delta", "reason", "note", "actor_id")
        ),
    }  # fmt: skip


def _ids_and_times_out(data: Any) -> Any:
    """An order's JSON without what differs between two placements of the same request."""
    if isinstance(data, dict):
        return {
            key: _ids_and_times_out(value)
            for key, value in data.items()
            if key not in {"id", "order_number", "created_at", "reserved_until", "line_ids"}
        }
    if isinstance(data, list):
        return [_ids_and_times_out(item) for item in data]
    return data


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("world", ["methods", "no methods, a commission rule"])
def test_the_floor_places_orders_as_the_app_does(world: str) -> None:
    Colour.objects.get_or_create(name="Black", defaults={"hex_code": "#000000"})
    own, bare = StoreFactory.create(), StoreFactory.create(commission_rate=Decimal("7.50"))
    first, second = (make_variant(store=own, price=p, stock=50) for p in ("12500.00", "3333.33"))
    third = make_variant(store=bare, price="45000.00", stock=50)
    if world == "methods":
        for store, name, price, free_above, countries in [
            (None, "Standard", "2500.00", "50000.00", ["NG"]),
            (None, "International", "25000.00", None, ["GB"]),
            (own, "Same day", "3500.00", None, ["NG"]),
            (own, "Nationwide", "2000.00", "40000.00", ["NG"]),
        ]:
            ShippingMethod.objects.create(
                store=store, name=name, price=Decimal(price), currency=third.currency,
                free_above=Decimal(free_above) if free_above else None, min_days=1,
                max_days=3, countries=countries,
            )  # fmt: skip
    else:
        CommissionRule.objects.create(
            category_id=first.product.category_id, store=own, rate=Decimal("12.25")
        )
    customer = UserFactory.create()
    address = "  12 Admiralty Way, Lekki Phase 1, Lagos "
    for number, items in enumerate([[(first, 1)], [(first, 2), (third, 1), (second, 3)]]):
        payload = {
            "items": [{"variant_id": v.pk, "quantity": q} for v, q in items],
            "delivery_address": address,
            "customer_notes": "Leave at the gate",
        }
        with CaptureQueriesContext(connections["default"]) as captured:
            made, _ = order_create(
                customer_id=customer.pk,
                items=[OrderItem(v.pk, q) for v, q in items],
                delivery_address=address,
                customer_notes="Leave at the gate",
                idempotency_key=f"app-{number}",
            )
        with CaptureQueriesContext(connections["default"]) as read:
            orders.order_get_for_customer(customer_id=customer.pk, order_id=made.pk)
        status, answer, statements = _floor_place(customer.pk, payload, f"floor-{number}")
        assert status == 201

        # The same statements, in the same order, placing and reading back (the app's
        # savepoints, its outbox row and a cold category cache are what the floor leaves
        # out).
        categories = _skeleton(sql.CATEGORIES)
        sent = [query["sql"] for query in captured.captured_queries]
        placed = sent[: sent.index("COMMIT")]  # then come the tasks run on commit
        app_sql = [
            _skeleton(query)
            for query in placed + [query["sql"] for query in read.captured_queries]
            if not query.startswith(("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT"))
            and '"common_outboxmessage"' not in query
        ]
        floor_sql = [_skeleton(statement) for statement in statements]
        assert [s for s in floor_sql if s != categories] == [s for s in app_sql if s != categories]

        # The floor's answer is the app's reading of the floor's order, byte for byte.
        app_answer = orders.order_get_for_customer(customer_id=customer.pk, order_id=answer["id"])
        assert orjson.dumps(answer) == json_bytes(app_answer)
        # It wrote what the app writes for the same request, the request hash included.
        assert _written(answer["id"]) == _written(made.pk)
        assert _ids_and_times_out(answer) == _ids_and_times_out(
            json.loads(json_bytes(orders.order_get_for_customer(
                customer_id=customer.pk, order_id=made.pk
            )))
        )  # fmt: skip
        hashes = IdempotencyKey.objects.filter(key__in=[f"app-{number}", f"floor-{number}"])
        assert len(set(hashes.values_list("request_hash", flat=True))) == 1

        # The same key again: the first order, not a second one.
        again, replay, _ = _floor_place(customer.pk, payload, f"floor-{number}")
        assert (again, replay["id"]) == (200, answer["id"])
    if world != "methods":
        assert OrderLine.objects.filter(commission_rate=Decimal("12.25")).count() == 4
        assert OrderLine.objects.filter(commission_rate=Decimal("7.50")).count() == 2
