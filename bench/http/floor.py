"""The floor: a bare ASGI app (no framework) with an asyncpg pool and orjson that answers
the benchmark's scenarios with the app's SQL and the app's JSON.

It is what the same work costs with nothing around it, the yardstick of ``make bench``:

* ``GET /api/v2/products/{id}/`` and ``GET /api/v2/products/?limit=&category=&size=``
  (newest first, first page, with the ``next`` cursor);
* ``GET /api/v2/orders/{id}/`` with ``Authorization: Bearer <access token>``;
* ``POST /api/v2/orders/`` with an ``Idempotency-Key`` and a one-text
  ``delivery_address`` (in the marketplace's country, ``MARKETPLACE_COUNTRY``): the app's
  writes in one transaction — the order with each store's shipping (the cheapest method
  that serves the country, free from its threshold, free standard delivery when there is
  no method in the currency), the stock reservation, the lines with their commission, one
  shipment per store — then the order read back as the app does.

Left out on purpose (the app pays for these, the floor does not): rate limiting, the
revocation check of the access token (the signature, expiry, issuer and audience are
verified), request logging and metrics, the outbox row of the order's event and the task
it becomes after the commit, structured addresses, address-book ids and shipping choices
in the request (the benchmark sends none), the savepoints the ORM wraps around the order
insert and the stock reservation (the one that
guards the idempotency key insert is kept: it is what makes a repeated key answer with the
first order), and the cache round trip of the category rows: the app reads them (and their
version stamp) from Redis on every filtered list, the floor keeps them in the worker for
``CATEGORY_ROWS_SECONDS``; both query them only when they have none. Error answers only
carry the problem members the benchmark needs.

Serve it with granian: ``granian --interface asgi bench.http.floor:app``. Environment:
``DATABASE_URL``, ``DJANGO_SECRET_KEY`` (to verify access tokens),
``DATABASE_POOL_MIN_SIZE`` / ``DATABASE_POOL_MAX_SIZE`` (the app's defaults, 2 / 20),
``ORDER_RESERVATION_MINUTES`` (30), ``MARKETPLACE_COUNTRY`` (NG),
``MARKETPLACE_COMMISSION_RATE`` (10.00).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
import jwt
import orjson

from bench.http import floor_sql as sql
from bench.http.floor_sql import At

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Json = dict[str, Any]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_ID = 2**63
MAX_LINES = 100
MAX_QUANTITY = 1000
ADDRESS_LENGTH = (10, 500)
NOTES_MAX_LENGTH = 1000
KEY_MAX_LENGTH = 255
KEY_LIFETIME = timedelta(hours=24)
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: How long a worker keeps the category rows (the app's CATEGORY_CACHE_TIMEOUT).
CATEGORY_ROWS_SECONDS = 300
PROBLEM_TYPE_BASE = "https://fashionistar.dev/problems/"
#: Offered when neither the store nor the marketplace has a method in the currency
#: (``apps.shipping.quotes.DEFAULT_METHOD_NAME``).
DEFAULT_METHOD_NAME = "Standard delivery"
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
# ISO 4217 exponents that are not 2 (``apps.payments.money``).
_EXPONENTS = {"JPY": 0, "KRW": 0, "XOF": 0, "XAF": 0, "KWD": 3, "BHD": 3}

# The static headers the app's middleware adds to every API answer, so both send about
# the same bytes; the floor spends nothing to produce them.
_STATIC_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        b"frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
    ),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains; preload"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_JSON = b"application/json; charset=utf-8"
_PROBLEM = b"application/problem+json"


class HttpError(Exception):
    """An answer other than success: status, problem code and a short message."""

    def __init__(self, status: int, code: str, detail: str, title: str = "") -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.title = status, code, detail, title

    def body(self) -> bytes:
        return orjson.dumps(
            {
                "type": PROBLEM_TYPE_BASE + self.code.replace("_", "-"),
                "title": self.title or HTTPStatus(self.status).phrase,
                "status": self.status,
                "detail": self.detail,
                "code": self.code,
            }
        )


# --- formats (the app's JSON) ------------------------------------------------------------


def iso(value: datetime) -> str:
    """A datetime as the app writes it (RFC 3339): microseconds when not zero, ``Z``."""
    text = value.isoformat()
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


def money(value: Decimal | None) -> str | None:
    """Decimals travel as strings, as the app sends them (``"22500.00"``)."""
    return None if value is None else str(value)


def encode_cursor(sort: str, key: str, pk: int) -> str:
    """The app's keyset cursor (``apps.catalog.selectors._encode_cursor``)."""
    raw = orjson.dumps({"s": sort, "k": key, "i": pk})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def signing_key(secret_key: str) -> str:
    """The access-token key the app derives from ``SECRET_KEY`` (Django's
    ``salted_hmac("fashionistar.access-token", "signing-key").hexdigest()``)."""
    key = hashlib.sha256(b"fashionistar.access-token" + secret_key.encode()).digest()
    return hmac.new(key, msg=b"signing-key", digestmod=hashlib.sha256).hexdigest()


def order_number() -> str:
    chars = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"FS-{chars[:4]}-{chars[4:]}"


def request_hash(items: Sequence[tuple[int, int]], address: str, notes: str) -> str:
    """The app's request hash of an order placed with a one-text ``delivery_address``
    (no structured address, no address-book id, no shipping choices)."""
    canonical = json.dumps(
        {
            "items": [list(item) for item in items],
            "delivery_address": address.strip(),
            "shipping_address": {},
            "address_id": None,
            "shipping": [],
            "customer_notes": notes,
        },
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- shipping and commission (apps/shipping/quotes.py, apps/payouts/) ---------------------

#: The shipping of one store's part of an order: store, method id (``None``: the free
#: standard delivery), name, price, days from, days to.
Shipping = tuple[int, int | None, str, Decimal, int, int]


def store_shipping(
    subtotals: dict[int, Decimal], methods: Sequence[Sequence[Any]], country: str
) -> list[Shipping]:
    """The cheapest option of each store (in ``subtotals`` order) from the rows of
    ``SHIPPING_METHODS`` (cheapest first): the store's own methods, else the
    marketplace's, that serve ``country``, free from their threshold; with no method at
    all, free standard delivery. 422 when a store does not ship to ``country``."""
    by_store: dict[int, list[Sequence[Any]]] = {}
    defaults: list[Sequence[Any]] = []
    for method in methods:
        store_id = method[At.M["store_id"]]
        if store_id is None:
            defaults.append(method)
        else:
            by_store.setdefault(store_id, []).append(method)
    chosen: list[Shipping] = []
    for store_id, subtotal in subtotals.items():
        offered = by_store.get(store_id) or defaults
        if not offered:
            chosen.append((store_id, None, DEFAULT_METHOD_NAME, ZERO, 0, 0))
            continue
        options: list[Shipping] = []
        for m in offered:
            countries = m[At.M["countries"]]
            if countries and country not in countries:
                continue
            free_above = m[At.M["free_above"]]
            free = free_above is not None and subtotal >= free_above
            options.append(
                (
                    store_id,
                    m[At.M["id"]],
                    m[At.M["name"]],
                    ZERO if free else m[At.M["price"]],
                    m[At.M["min_days"]],
                    m[At.M["max_days"]],
                )
            )
        if not options:
            raise HttpError(422, "validation_failed", f"A store does not ship to {country}.")
        chosen.append(min(options, key=lambda o: (o[3], o[5], o[1] or 0)))
    return chosen


def commission_rate(
    row: Sequence[Any],
    rules: dict[tuple[int | None, int], Decimal],
    parents: dict[int, int | None],
    default: Decimal,
) -> Decimal:
    """The rate of a sellable-variant row (``apps.payouts.commission``): a rule of its
    store, then a marketplace rule, for its category or the nearest one above; else the
    store's rate, else the marketplace's."""
    store_id = row[At.SS["id"]]
    category: int | None = row[At.SP["category_id"]]
    seen: set[int] = set()
    while category is not None and category not in seen and rules:
        for key in ((store_id, category), (None, category)):
            if key in rules:
                return rules[key]
        seen.add(category)
        category = parents.get(category)
    rate: Decimal | None = row[At.SS["commission_rate"]]
    return default if rate is None else rate


def commission_split(lines: Sequence[tuple[Decimal, Decimal]], currency: str) -> list[Decimal]:
    """Each ``(line_total, rate %)`` line's commission, adding up to the order's, rounded
    once, half up, to the minor unit (``apps.payouts.rounding.commission_split``)."""
    exponent = _EXPONENTS.get(currency.upper(), 2)
    unit = Decimal(1).scaleb(-exponent)
    exact = [total * rate / HUNDRED for total, rate in lines]
    whole = sum(exact, Decimal(0)).quantize(unit, rounding=ROUND_HALF_UP)
    shares = [value.quantize(unit, rounding=ROUND_FLOOR) for value in exact]
    left = int((whole - sum(shares, Decimal(0))) / unit)
    for index in sorted(range(len(exact)), key=lambda i: (shares[i] - exact[i], i))[:left]:
        shares[index] += unit
    return shares


# --- rows → JSON ---------------------------------------------------------------------------


def variant_json(row: asyncpg.Record) -> Json:
    available = max(row[At.V["available"]] or 0, 0)
    return {
        "id": row[At.V["id"]],
        "sku": row[At.V["sku"]],
        "size": row[At.V["size"]],
        "colour": row[At.V["colour_name"]],
        "colour_hex": row[At.V["colour_hex"]],
        "price": money(row[At.V["price"]]),
        "compare_at_price": money(row[At.V["compare_at_price"]]),
        "currency": row[At.V["currency"]],
        "available": available,
        "in_stock": available > 0,
    }


def product_json(
    row: asyncpg.Record, at: dict[str, int], variants: list[Json], *, with_description: bool
) -> Json:
    """A product from a row of ``PRODUCT_DETAIL`` (``at`` = ``At.DETAIL``) or of a list
    page (``At.LIST``)."""
    data: Json = {
        "id": row[at["id"]],
        "name": row[at["name"]],
        "slug": row[at["slug"]],
        "brand": row[at["brand"]],
        "store": {
            "id": row[at["store_id"]],
            "name": row[at["store_name"]],
            "slug": row[at["store_slug"]],
        },
        "category": {
            "id": row[at["category_id"]],
            "name": row[at["category_name"]],
            "slug": row[at["category_slug"]],
        },
        "images": list(row[at["images"]] or []),
        "price_from": money(row[at["min_price"]]),
        "currency": variants[0]["currency"] if variants else None,
        "in_stock": any(v["in_stock"] for v in variants),
        "created_at": iso(row[at["created_at"]]),
        "variants": variants,
    }
    if with_description:
        data["description"] = row[at["description"]]
    return data


def order_json(
    row: asyncpg.Record,
    lines: list[asyncpg.Record],
    payments: list[asyncpg.Record],
    shipments: list[asyncpg.Record],
) -> Json:
    status = row[At.O["status"]]
    line_ids: dict[int, list[int]] = {}
    for line in lines:
        line_ids.setdefault(line[At.L["store_id"]], []).append(line[At.L["id"]])
    return {
        "id": row[At.O["id"]],
        "order_number": row[At.O["order_number"]],
        "status": status,
        "total_amount": money(row[At.O["total_amount"]]),
        "shipping_amount": money(row[At.O["shipping_amount"]]),
        "currency": row[At.O["currency"]],
        "delivery_address": row[At.O["delivery_address"]],
        "shipping_address": row[At.O["shipping_address"]] or None,
        "customer_notes": row[At.O["customer_notes"]],
        "created_at": iso(row[At.O["created_at"]]),
        "reserved_until": iso(row[At.O["reserved_until"]]) if status == "pending_payment" else None,
        "paid_at": iso_or_none(row[At.O["paid_at"]]),
        "cancelled_at": iso_or_none(row[At.O["cancelled_at"]]),
        "items": [
            {
                "id": line[At.L["id"]],
                "variant_id": line[At.L["variant_id"]],
                "product_name": line[At.L["product_name"]],
                "sku": line[At.L["sku"]],
                "size": line[At.L["size"]],
                "colour": line[At.L["colour"]],
                "unit_price": money(line[At.L["unit_price"]]),
                "quantity": line[At.L["quantity"]],
                "line_total": money(line[At.L["line_total"]]),
                "store_id": line[At.L["store_id"]],
                "fulfilled": line[At.L["fulfilled_at"]] is not None,
            }
            for line in lines
        ],
        "payments": [
            {
                "id": pay[At.PAY["id"]],
                "provider": pay[At.PAY["provider"]],
                "reference": pay[At.PAY["reference"]],
                "amount": money(pay[At.PAY["amount"]]),
                "currency": pay[At.PAY["currency"]],
                "status": pay[At.PAY["status"]],
                "refunded_amount": money(pay[At.PAY["refunded_amount"]]),
                "needs_refund": pay[At.PAY["needs_refund"]],
                "created_at": iso(pay[At.PAY["created_at"]]),
            }
            for pay in payments
        ],
        "needs_refund": any(pay[At.PAY["needs_refund"]] for pay in payments),
        "shipments": [
            {
                "id": ship[At.SHIP["id"]],
                "store_id": ship[At.SHIP["store_id"]],
                "method_name": ship[At.SHIP["method_name"]],
                "shipping_amount": money(ship[At.SHIP["shipping_amount"]]),
                "min_days": ship[At.SHIP["min_days"]],
                "max_days": ship[At.SHIP["max_days"]],
                "status": ship[At.SHIP["status"]],
                "carrier": ship[At.SHIP["carrier"]],
                "tracking_number": ship[At.SHIP["tracking_number"]],
                "tracking_url": ship[At.SHIP["tracking_url"]],
                "packed_at": iso_or_none(ship[At.SHIP["packed_at"]]),
                "shipped_at": iso_or_none(ship[At.SHIP["shipped_at"]]),
                "delivered_at": iso_or_none(ship[At.SHIP["delivered_at"]]),
                "returned_at": iso_or_none(ship[At.SHIP["returned_at"]]),
                "is_exchange": ship[At.SHIP["is_exchange"]],
                "store_name": ship[At.SHIP["store_name"]],
                "line_ids": []
                if ship[At.SHIP["is_exchange"]]
                else line_ids.get(ship[At.SHIP["store_id"]], []),
            }
            for ship in shipments
        ],
    }


# --- the app ------------------------------------------------------------------------------


async def _init_connection(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=_json_text, decoder=orjson.loads, format="text"
    )


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


async def _keep_as_is(connection: asyncpg.Connection) -> None:
    """Pool release without asyncpg's reset round trip (every transaction here closes
    itself; the app's pool sends nothing on release either)."""


class Floor:
    """The ASGI application; one per worker process, its pool made at startup."""

    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()
        self.key = signing_key(os.environ.get("DJANGO_SECRET_KEY", ""))
        self.hold = timedelta(minutes=int(os.environ.get("ORDER_RESERVATION_MINUTES", "30")))
        self.country = os.environ.get("MARKETPLACE_COUNTRY", "NG")
        self.commission = Decimal(os.environ.get("MARKETPLACE_COMMISSION_RATE", "10.00"))
        self._categories: tuple[float, list[asyncpg.Record]] | None = None

    async def start(self) -> asyncpg.Pool:
        async with self._lock:
            if self.pool is None:
                self.pool = await asyncpg.create_pool(
                    os.environ["DATABASE_URL"],
                    min_size=int(os.environ.get("DATABASE_POOL_MIN_SIZE", "2")),
                    max_size=int(os.environ.get("DATABASE_POOL_MAX_SIZE", "20")),
                    init=_init_connection,
                    reset=_keep_as_is,
                )
            return self.pool

    async def stop(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        pool = self.pool or await self.start()
        try:
            status, body = await self._route(pool, scope, receive)
            content_type = _JSON
        except HttpError as error:
            status, body, content_type = error.status, error.body(), _PROBLEM
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            *_STATIC_HEADERS,
            (b"x-request-id", uuid.uuid4().hex.encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as error:
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _route(self, pool: asyncpg.Pool, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        method: str = scope["method"]
        path: str = scope["path"]
        if path.startswith("/api/v2/products/") and method == "GET":
            rest = path[len("/api/v2/products/") :]
            if not rest:
                query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
                return 200, await self.product_list(pool, query)
            return 200, await self.product_detail(pool, _path_id(rest))
        if path.startswith("/api/v2/orders/"):
            customer_id = self._customer_id(scope)
            rest = path[len("/api/v2/orders/") :]
            if not rest and method == "POST":
                payload = await _read_body(receive)
                key = _header(scope, b"idempotency-key")
                return await self.order_create(pool, customer_id, payload, key)
            if rest and method == "GET":
                return 200, await self.order_detail(pool, customer_id, _path_id(rest))
        if path == "/health/live/":
            return 200, b'{"status": "ok"}'
        raise HttpError(404, "not_found", "Not found.")

    def _customer_id(self, scope: Scope) -> int:
        scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HttpError(401, "not_authenticated", "Authentication required.")
        try:
            claims = jwt.decode(
                token.strip(),
                self.key,
                algorithms=["HS256"],
                audience="fashionistar-api",
                issuer="fashionistar",
                options={"require": ["exp", "iat", "sub", "sid", "typ"]},
            )
        except jwt.PyJWTError as error:
            raise HttpError(401, "token_invalid", "The access token is not valid.") from error
        sub = str(claims["sub"])
        if claims.get("typ") != "access" or not sub.isdigit():
            raise HttpError(401, "token_invalid", "The access token is not valid.")
        return int(sub)

    # --- catalogue ---------------------------------------------------------------------

    async def product_detail(self, pool: asyncpg.Pool, product_id: int) -> bytes:
        async with pool.acquire() as connection:
            row = await connection.fetchrow(sql.PRODUCT_DETAIL, product_id)
            if row is None:
                raise HttpError(404, "product_not_found", "Product not found.")
            variants = await connection.fetch(sql.VARIANTS_OF_PRODUCTS, [product_id])
        variant_list = [variant_json(v) for v in variants]
        return orjson.dumps(product_json(row, At.DETAIL, variant_list, with_description=True))

    async def product_list(self, pool: asyncpg.Pool, query: dict[str, str]) -> bytes:
        try:
            limit = int(query.get("limit", DEFAULT_PAGE_SIZE))
        except ValueError as error:
            raise HttpError(422, "validation_failed", "limit: not an integer.") from error
        if limit < 1:
            raise HttpError(422, "validation_failed", "limit: at least 1.")
        limit = min(limit, MAX_PAGE_SIZE)
        category, size = query.get("category"), query.get("size")
        async with pool.acquire() as connection:
            args: list[Any] = []
            if category:
                args.append(category_ids(await self._category_rows(connection), category))
            if size:
                args.append(size)
            statement = sql.product_list(category=bool(category), size=bool(size))
            rows = await connection.fetch(statement, *args, limit + 1)
            page = rows[:limit]
            variants = (
                await connection.fetch(sql.VARIANTS_OF_PRODUCTS, [r[At.LIST["id"]] for r in page])
                if page
                else []
            )
        by_product: dict[int, list[Json]] = defaultdict(list)
        for variant in variants:
            by_product[variant[At.V["product_id"]]].append(variant_json(variant))
        next_cursor = None
        if len(rows) > limit:
            last = page[-1]
            next_cursor = encode_cursor(
                "newest", last[At.LIST["created_at"]].isoformat(), last[At.LIST["id"]]
            )
        items = [
            product_json(
                row, At.LIST, by_product.get(row[At.LIST["id"]], []), with_description=False
            )
            for row in page
        ]
        return orjson.dumps({"items": items, "next": next_cursor})

    async def _category_rows(self, connection: asyncpg.Connection) -> list[asyncpg.Record]:
        """The category rows, read at most once per ``CATEGORY_ROWS_SECONDS`` per worker
        (the app keeps them in its cache, so a warm category filter costs no query)."""
        now = time.monotonic()
        if self._categories is None or now - self._categories[0] > CATEGORY_ROWS_SECONDS:
            self._categories = (now, await connection.fetch(sql.CATEGORIES))
        return self._categories[1]

    # --- orders ------------------------------------------------------------------------

    async def order_detail(self, pool: asyncpg.Pool, customer_id: int, order_id: int) -> bytes:
        async with pool.acquire() as connection:
            data = await _order_read(connection, customer_id, order_id)
        return orjson.dumps(data)

    async def order_create(
        self, pool: asyncpg.Pool, customer_id: int, payload: Any, key: str | None
    ) -> tuple[int, bytes]:
        async with pool.acquire() as connection:
            status, data = await self.order_place(connection, customer_id, payload, key)
        return status, orjson.dumps(data)

    async def order_place(
        self, connection: asyncpg.Connection, customer_id: int, payload: Any, key: str | None
    ) -> tuple[int, Json]:
        """The order of ``payload`` placed (201) or, for a repeated key, the first one
        (200), as the app answers it."""
        items, address, notes = _validate_order(payload)
        if key is not None and not 1 <= len(key) <= KEY_MAX_LENGTH:
            raise HttpError(422, "validation_failed", "Idempotency-Key: 1 to 255 characters.")
        digest = request_hash(items, address, notes)
        now = datetime.now(UTC)
        async with connection.transaction():
            key_row, replayed = await _claim_key(connection, customer_id, key, digest, now)
            if replayed is not None:
                order_id, created = replayed, False
            else:
                order_id = await self._place(
                    connection, customer_id, items, address, notes, now, key_row
                )
                created = True
        data = await _order_read(connection, customer_id, order_id)
        return (201 if created else 200), data

    async def _place(
        self,
        connection: asyncpg.Connection,
        customer_id: int,
        items: list[tuple[int, int]],
        address: str,
        notes: str,
        now: datetime,
        key_row: int | None,
    ) -> int:
        ids = sorted({variant_id for variant_id, _ in items})
        variants = {
            row[At.SV["id"]]: row for row in await connection.fetch(sql.SELLABLE_VARIANTS, ids)
        }
        if len(variants) != len(ids):
            raise HttpError(422, "variant_unavailable", "Some items are not for sale.")
        if len({row[At.SV["currency"]] for row in variants.values()}) > 1:
            raise HttpError(422, "validation_failed", "Items in different currencies.")
        currency: str = variants[ids[0]][At.SV["currency"]]
        total = ZERO
        lines = []
        subtotals: dict[int, Decimal] = {}
        for variant_id, quantity in items:
            row = variants[variant_id]
            line_total = row[At.SV["price"]] * quantity
            total += line_total
            lines.append((row, quantity, line_total))
            store_id = row[At.SS["id"]]
            subtotals[store_id] = subtotals.get(store_id, ZERO) + line_total
        methods = await connection.fetch(sql.SHIPPING_METHODS, list(subtotals), currency)
        shipping = store_shipping(subtotals, methods, self.country)
        shipping_total = sum((price for _, _, _, price, _, _ in shipping), ZERO)
        order_id: int = await connection.fetchval(
            sql.ORDER_INSERT,
            datetime.now(UTC),  # created_at and updated_at: stamped at the insert, as the ORM
            datetime.now(UTC),
            customer_id,
            order_number(),
            currency,
            total + shipping_total,
            address,
            {},  # the structured address: none with a one-text address
            shipping_total,
            notes,
            now + self.hold,
        )
        if key_row is not None:
            await connection.execute(sql.IDEMPOTENCY_SET_ORDER, order_id, key_row)
        await _reserve(connection, items, order_id)
        rates = await self._commission_rates(connection, variants.values(), subtotals)
        line_rates = [rates[row[At.SV["id"]]] for row, _, _ in lines]
        totals = [line_total for _, _, line_total in lines]
        commissions = commission_split(list(zip(totals, line_rates, strict=True)), currency)
        if len(lines) == 1:
            row, quantity, line_total = lines[0]
            await connection.fetchval(
                sql.ORDER_LINE_INSERT,
                order_id,
                row[At.SV["id"]],
                row[At.SS["id"]],
                row[At.SP["name"]],
                row[At.SV["sku"]],
                row[At.SV["size"]],
                row[At.SC["name"]],
                row[At.SV["price"]],
                quantity,
                line_total,
                line_rates[0],
                commissions[0],
                line_total - commissions[0],
            )
        else:
            await connection.fetch(
                sql.ORDER_LINES_INSERT,
                [order_id] * len(lines),
                [row[At.SV["id"]] for row, _, _ in lines],
                [row[At.SS["id"]] for row, _, _ in lines],
                [row[At.SP["name"]] for row, _, _ in lines],
                [row[At.SV["sku"]] for row, _, _ in lines],
                [row[At.SV["size"]] for row, _, _ in lines],
                [row[At.SC["name"]] for row, _, _ in lines],
                [row[At.SV["price"]] for row, _, _ in lines],
                [quantity for _, quantity, _ in lines],
                totals,
                [None] * len(lines),
                line_rates,
                commissions,
                [t - c for t, c in zip(totals, commissions, strict=True)],
            )
        await _ship(connection, order_id, shipping)
        return order_id

    async def _commission_rates(
        self,
        connection: asyncpg.Connection,
        variants: Iterable[asyncpg.Record],
        subtotals: dict[int, Decimal],
    ) -> dict[int, Decimal]:
        """Each variant's commission rate; the rules (and the category rows, kept per
        worker) are read only when the variant rows say some rule exists."""
        variants = list(variants)
        rules: dict[tuple[int | None, int], Decimal] = {}
        if any(row[At.SV[sql.RULES_FLAG]] for row in variants):
            rules = {
                (store_id, category_id): rate
                for store_id, category_id, rate in await connection.fetch(
                    sql.COMMISSION_RULES, list(subtotals)
                )
            }
        parents: dict[int, int | None] = {}
        if rules:
            parents = {
                row[At.CAT["id"]]: row[At.CAT["parent_id"]]
                for row in await self._category_rows(connection)
            }
        return {
            row[At.SV["id"]]: commission_rate(row, rules, parents, self.commission)
            for row in variants
        }


async def _ship(connection: asyncpg.Connection, order_id: int, shipping: list[Shipping]) -> None:
    """One shipment per store, in the order of the stores in the items."""
    if len(shipping) == 1:
        ((store_id, method_id, name, price, low, high),) = shipping
        await connection.fetchval(
            sql.SHIPMENT_INSERT,
            datetime.now(UTC),
            datetime.now(UTC),
            order_id,
            store_id,
            method_id,
            name,
            price,
            low,
            high,
        )
        return
    count = len(shipping)
    await connection.fetch(
        sql.SHIPMENTS_INSERT,
        [datetime.now(UTC) for _ in shipping],
        [datetime.now(UTC) for _ in shipping],
        [order_id] * count,
        [store_id for store_id, *_ in shipping],
        [method_id for _, method_id, *_ in shipping],
        [name for _, _, name, *_ in shipping],
        [price for _, _, _, price, _, _ in shipping],
        [low for *_, low, _ in shipping],
        [high for *_, high in shipping],
        ["awaiting"] * count,
        [""] * count,
        [""] * count,
        [""] * count,
        [None] * count,
        [None] * count,
        [None] * count,
        [None] * count,
        [""] * count,
        [False] * count,
    )


async def _reserve(
    connection: asyncpg.Connection, items: list[tuple[int, int]], order_id: int
) -> None:
    """The app's ``stock_reserve``: lock the stock rows in variant-id order, decide from
    them, one conditional UPDATE for all, then the ledger rows."""
    wanted: dict[int, int] = {}
    for variant_id, quantity in items:
        wanted[variant_id] = wanted.get(variant_id, 0) + quantity
    ids = sorted(wanted)
    levels = {row[0]: (row[1], row[2]) for row in await connection.fetch(sql.STOCK_LOCK, ids)}
    if any(v not in levels or levels[v][0] - levels[v][1] < wanted[v] for v in ids):
        raise HttpError(409, "insufficient_stock", "Not enough stock for some lines.")
    pairs = [value for variant_id, n in wanted.items() for value in (variant_id, n)]
    status = await connection.execute(sql.stock_reserve(len(wanted)), *pairs, list(wanted))
    if status != f"UPDATE {len(wanted)}":
        raise RuntimeError(f"stock changed under lock: {status}")
    moment = datetime.now(UTC)
    if len(ids) == 1:
        (variant_id,) = ids
        on_hand, reserved = levels[variant_id]
        n = wanted[variant_id]
        await connection.fetchval(
            sql.MOVEMENT_INSERT, variant_id, n, on_hand, reserved + n, order_id, moment
        )
        return
    count = len(ids)
    await connection.fetch(
        sql.MOVEMENTS_INSERT,
        ids,
        [0] * count,
        [wanted[v] for v in ids],
        [levels[v][0] for v in ids],
        [levels[v][1] + wanted[v] for v in ids],
        ["reserved"] * count,
        [""] * count,
        [None] * count,
        [order_id] * count,
        [moment] * count,
    )


async def _claim_key(
    connection: asyncpg.Connection, customer_id: int, key: str | None, digest: str, now: datetime
) -> tuple[int | None, int | None]:
    """Record the idempotency key: ``(key row id, None)``, or ``(None, first order id)``
    when the key was seen before with the same request."""
    if key is None:
        return None, None
    await connection.execute(sql.IDEMPOTENCY_DELETE_EXPIRED, customer_id, now, key)
    try:
        async with connection.transaction():  # a savepoint, as in the app
            key_row: int = await connection.fetchval(
                sql.IDEMPOTENCY_INSERT, customer_id, key, digest, now, now + KEY_LIFETIME
            )
    except asyncpg.UniqueViolationError:
        row = await connection.fetchrow(sql.IDEMPOTENCY_EXISTING, customer_id, key)
        if row is None or row[At.K["request_hash"]] != digest or row[At.K["order_id"]] is None:
            raise HttpError(422, "idempotency_key_reused", "This key was already used.") from None
        return None, int(row[At.K["order_id"]])
    return key_row, None


async def _order_read(connection: asyncpg.Connection, customer_id: int, order_id: int) -> Json:
    row = await connection.fetchrow(sql.ORDER_FOR_CUSTOMER, customer_id, order_id)
    if row is None:
        raise HttpError(404, "order_not_found", "Order not found.")
    lines = await connection.fetch(sql.ORDER_LINES, order_id)
    payments = await connection.fetch(sql.ORDER_PAYMENTS, order_id)
    shipments = await connection.fetch(sql.ORDER_SHIPMENTS, order_id)
    return order_json(row, lines, payments, shipments)


def category_ids(rows: Sequence[Sequence[Any]], category: str) -> list[int]:
    """The category (id or slug) and everything below it, as the app computes it from
    its category rows (``apps.catalog.selectors.category_ids_with_descendants``)."""
    children: dict[int | None, list[int]] = defaultdict(list)
    root = None
    is_id = category.isdigit() and len(category) <= 18
    at_id, at_slug, at_parent = At.CAT["id"], At.CAT["slug"], At.CAT["parent_id"]
    for row in rows:
        pk = row[at_id]
        children[row[at_parent]].append(pk)
        if row[at_slug] == category or (is_id and pk == int(category)):
            root = pk
    if root is None:
        raise HttpError(422, "unknown_category", "category: Unknown category.")
    found, frontier = [root], [root]
    while frontier:
        frontier = [child for pk in frontier for child in children.get(pk, [])]
        found.extend(frontier)
    return found


# What the app also accepts and the benchmark never sends: a structured address, an
# address-book id, shipping choices.
_OTHER_DESTINATIONS = ("shipping_address", "address_id", "shipping")


def _validate_order(payload: Any) -> tuple[list[tuple[int, int]], str, str]:
    try:
        raw_items = payload["items"]
        items = [(int(item["variant_id"]), int(item["quantity"])) for item in raw_items]
        address = str(payload["delivery_address"]).strip()
        notes = str(payload.get("customer_notes", "")).strip()
    except (KeyError, TypeError, ValueError) as error:
        raise HttpError(422, "validation_failed", "Malformed order.") from error
    if any(payload.get(name) not in (None, [], ()) for name in _OTHER_DESTINATIONS):
        raise HttpError(422, "validation_failed", "The floor takes a delivery_address only.")
    if not 1 <= len(items) <= MAX_LINES:
        raise HttpError(422, "validation_failed", "items: between 1 and 100 lines.")
    for variant_id, quantity in items:
        if variant_id <= 0 or not 1 <= quantity <= MAX_QUANTITY:
            raise HttpError(422, "validation_failed", "items: bad variant or quantity.")
    if not ADDRESS_LENGTH[0] <= len(address) <= ADDRESS_LENGTH[1]:
        raise HttpError(422, "validation_failed", "delivery_address: 10 to 500 characters.")
    if len(notes) > NOTES_MAX_LENGTH:
        raise HttpError(422, "validation_failed", "customer_notes: at most 1000 characters.")
    return items, address, notes


def _path_id(rest: str) -> int:
    text = rest[:-1] if rest.endswith("/") else rest
    if not text.isdigit() or "/" in text:
        raise HttpError(404, "not_found", "Not found.")
    value = int(text)
    if not 0 < value < MAX_ID:
        raise HttpError(404, "not_found", "Not found.")
    return value


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def _read_body(receive: Receive) -> Any:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    try:
        return orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as error:
        raise HttpError(400, "malformed_json", "The body is not JSON.") from error


app = Floor()
