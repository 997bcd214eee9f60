"""The SQL of the floor app: the statements the app's selectors and services send today,
written once as prepared statements (``$n`` parameters instead of inlined literals).

Captured from the app with ``CaptureQueriesContext`` (``docs/performance.md`` says how
to capture them again). The reads are the app's ``values()`` queries with only the columns
the answers need, under the app's aliases and in its order: a product row joined with
its store's and category's names and slugs, the active variants of some products with
their colour through a join and their stock (``available``) from a correlated subquery on
the stock primary key, the category rows of a category filter, and an order, its lines,
its payments and its shipments (with their store's name) as four queries. Order placement
is the app's fixed number of statements whatever the number of lines and stores: one read
of the sellable variants (with the flag that says whether any commission rule exists),
one of the shipping methods of the order's stores and the marketplace's, the order
insert, one locking read of the stock rows in variant-id order, one conditional
``UPDATE`` with a ``CASE`` for all of them, one insert of the ledger rows, the commission
rules only when some exist, one insert of the order lines and one of the shipments (a
single ``VALUES`` row for one, ``UNNEST`` arrays for several, as the ORM does). So the
floor reads and ships the same bytes from PostgreSQL as the app does, and the comparison
is about everything around the query.

``IN (…)`` lists become ``= ANY($n)`` so that one prepared statement serves every list
length; the ``CASE`` of the reservation takes one statement per number of variants, as
it does in the app. Values the ORM sends as parameters but that never change here (the
``'approved'`` store status, the ``1`` of ``EXISTS``) are written inline, and the row
limit of a list page, which the ORM inlines, is a parameter.
"""

# The statements are put together from the constant column lists below only; every value
# travels as a parameter.
# ruff: noqa: S608

from __future__ import annotations

from functools import cache

Column = tuple[str, str, str]  # table, column, alias


def _aliased(table: str, names: tuple[str, ...]) -> tuple[Column, ...]:
    return tuple((table, name, name) for name in names)


def _select(columns: tuple[Column, ...]) -> str:
    return ", ".join(f'"{table}"."{name}" AS "{alias}"' for table, name, alias in columns)


def _plain(table: str, names: tuple[str, ...]) -> str:
    return ", ".join(f'"{table}"."{name}"' for name in names)


def _positions(names: tuple[str, ...], start: int = 0) -> dict[str, int]:
    return {name: start + index for index, name in enumerate(names)}


# --- the rows of the reads (apps/catalog/selectors.py, apps/orders/selectors.py) ----------

_PRODUCT_ROW = (
    "id", "name", "slug", "brand", "images", "min_price", "created_at", "store_id",
    "category_id",
)  # fmt: skip
_PRODUCT_NAMES: tuple[Column, ...] = (
    ("vendors_store", "name", "store_name"),
    ("vendors_store", "slug", "store_slug"),
    ("catalog_category", "name", "category_name"),
    ("catalog_category", "slug", "category_slug"),
)
PRODUCT_LIST_COLUMNS = (*_aliased("catalog_product", _PRODUCT_ROW), *_PRODUCT_NAMES)
PRODUCT_DETAIL_COLUMNS = (
    *_aliased("catalog_product", (*_PRODUCT_ROW, "description")),
    *_PRODUCT_NAMES,
)
VARIANT_COLUMNS = (
    *_aliased(
        "catalog_variant",
        ("id", "product_id", "sku", "size", "price", "compare_at_price", "currency"),
    ),
    ("catalog_colour", "name", "colour_name"),
    ("catalog_colour", "hex_code", "colour_hex"),
)
VARIANT_AVAILABLE = (
    '(SELECT ("U0"."on_hand" - "U0"."reserved") AS "available" FROM "inventory_stock" "U0" '
    'WHERE "U0"."variant_id" = ("catalog_variant"."id")) AS "available"'
)
CATEGORY_COLUMNS = _aliased("catalog_category", ("id", "name", "slug", "parent_id"))
ORDER_COLUMNS = _aliased(
    "orders_order",
    (
        "id", "order_number", "status", "total_amount", "shipping_amount", "currency",
        "delivery_address", "shipping_address", "customer_notes", "created_at",
        "reserved_until", "paid_at", "cancelled_at",
    ),
)  # fmt: skip
LINE_COLUMNS = _aliased(
    "orders_orderline",
    (
        "id", "variant_id", "product_name", "sku", "size", "colour", "unit_price", "quantity",
        "line_total", "store_id", "fulfilled_at",
    ),
)  # fmt: skip
PAYMENT_COLUMNS = _aliased(
    "payments_payment",
    (
        "id", "provider", "reference", "amount", "currency", "status", "refunded_amount",
        "needs_refund", "created_at",
    ),
)  # fmt: skip

SHIPMENT_COLUMNS = (
    *_aliased(
        "shipping_shipment",
        (
            "id", "store_id", "method_name", "shipping_amount", "min_days", "max_days",
            "status", "carrier", "tracking_number", "tracking_url", "packed_at", "shipped_at",
            "delivered_at", "returned_at", "is_exchange",
        ),
    ),
    ("vendors_store", "name", "store_name"),
)  # fmt: skip

# --- the model rows of order placement (the ORM's full column lists) ----------------------

VARIANT = (
    "id", "created_at", "updated_at", "product_id", "sku", "size", "colour_id", "price",
    "compare_at_price", "currency", "is_active",
)  # fmt: skip
PRODUCT = (
    "id", "updated_at", "created_at", "store_id", "category_id", "name", "slug",
    "description", "brand", "images", "is_active", "min_price",
)  # fmt: skip
STORE = (
    "id", "created_at", "updated_at", "owner_id", "name", "slug", "description", "status",
    "commission_rate", "approved_at",
)  # fmt: skip
COLOUR = ("id", "name", "hex_code")
IDEMPOTENCY_KEY = (
    "id", "customer_id", "key", "request_hash", "order_id", "created_at", "expires_at",
)  # fmt: skip
ORDER = (
    "id", "created_at", "updated_at", "customer_id", "order_number", "status", "currency",
    "total_amount", "delivery_address", "shipping_address", "shipping_amount",
    "customer_notes", "reserved_until", "paid_at", "fulfilled_at", "delivered_at",
    "cancelled_at", "cancel_reason", "refunded_at",
)  # fmt: skip
SHIPPING_METHOD = (
    "id", "created_at", "updated_at", "store_id", "name", "price", "currency", "free_above",
    "min_days", "max_days", "countries", "is_active",
)  # fmt: skip
#: The flag placement reads with the variants: whether any commission rule exists
#: (``apps.payouts.commission.rules_flag``).
RULES_FLAG = "has_commission_rules"
_RULES_FLAG_SQL = f'(EXISTS (SELECT 1 FROM "payouts_commissionrule")) AS "{RULES_FLAG}"'
#: The sellable-variant row: the variant, the flag, its product, store and colour.
SELLABLE = (*VARIANT, RULES_FLAG)


def _names(columns: tuple[Column, ...]) -> tuple[str, ...]:
    return tuple(alias for _, _, alias in columns)


class At:
    """Positions of the columns in the rows the floor reads."""

    LIST = _positions(_names(PRODUCT_LIST_COLUMNS))
    DETAIL = _positions(_names(PRODUCT_DETAIL_COLUMNS))
    V = _positions((*_names(VARIANT_COLUMNS), "available"))
    O = _positions(_names(ORDER_COLUMNS))  # noqa: E741
    L = _positions(_names(LINE_COLUMNS))
    PAY = _positions(_names(PAYMENT_COLUMNS))
    SHIP = _positions(_names(SHIPMENT_COLUMNS))
    CAT = _positions(_names(CATEGORY_COLUMNS))
    # variant (and the rules flag) ⋈ product ⋈ store ⋈ colour (the sellable variants)
    SV = _positions(SELLABLE)
    SP = _positions(PRODUCT, len(SELLABLE))
    SS = _positions(STORE, len(SELLABLE) + len(PRODUCT))
    SC = _positions(COLOUR, len(SELLABLE) + len(PRODUCT) + len(STORE))
    # the shipping methods of the stores of an order, and the marketplace's
    M = _positions(SHIPPING_METHOD)
    # idempotency key ⟕ order (a repeated key)
    K = _positions(IDEMPOTENCY_KEY)


# --- catalogue ----------------------------------------------------------------------------

_VISIBLE = (
    '"catalog_product"."is_active" AND "catalog_product"."min_price" IS NOT NULL '
    'AND "vendors_store"."status" = \'approved\''
)
_PRODUCT_JOINS = (
    'FROM "catalog_product" '
    'INNER JOIN "vendors_store" ON ("catalog_product"."store_id" = "vendors_store"."id") '
    'INNER JOIN "catalog_category" '
    'ON ("catalog_product"."category_id" = "catalog_category"."id") '
)

PRODUCT_DETAIL = (
    f"SELECT {_select(PRODUCT_DETAIL_COLUMNS)} {_PRODUCT_JOINS}"
    f'WHERE ({_VISIBLE} AND "catalog_product"."id" = $1)'
)


@cache
def product_list(*, category: bool, size: bool) -> str:
    """The page query of the newest-first product list, with the filters the floor serves.

    Parameters in order: category ids (``bigint[]``) if ``category``, the size if
    ``size``, then the row limit.
    """
    where = [_VISIBLE]
    number = 1
    if category:
        where.append(f'"catalog_product"."category_id" = ANY(${number}::bigint[])')
        number += 1
    if size:
        where.append(
            'EXISTS(SELECT 1 AS "a" FROM "catalog_variant" "U0" '
            f'WHERE ("U0"."size" = ${number} AND "U0"."is_active" '
            'AND "U0"."product_id" = ("catalog_product"."id")) LIMIT 1)'
        )
        number += 1
    return (
        f"SELECT {_select(PRODUCT_LIST_COLUMNS)} {_PRODUCT_JOINS}"
        f"WHERE ({' AND '.join(where)}) ORDER BY 7 DESC, 1 DESC LIMIT ${number}"
    )


VARIANTS_OF_PRODUCTS = (
    f"SELECT {_select(VARIANT_COLUMNS)}, {VARIANT_AVAILABLE} "
    'FROM "catalog_variant" '
    'INNER JOIN "catalog_colour" ON ("catalog_variant"."colour_id" = "catalog_colour"."id") '
    'WHERE ("catalog_variant"."is_active" AND "catalog_variant"."product_id" = ANY($1::bigint[])) '
    "ORDER BY 1 ASC"
)

CATEGORIES = (
    f'SELECT {_select(CATEGORY_COLUMNS)} FROM "catalog_category" '
    'ORDER BY "catalog_category"."position" ASC, 2 ASC, 1 ASC'
)

# --- orders -------------------------------------------------------------------------------

ORDER_FOR_CUSTOMER = (
    f'SELECT {_select(ORDER_COLUMNS)} FROM "orders_order" '
    'WHERE ("orders_order"."customer_id" = $1 AND "orders_order"."id" = $2) LIMIT 1'
)
ORDER_LINES = (
    f'SELECT {_select(LINE_COLUMNS)} FROM "orders_orderline" '
    'WHERE "orders_orderline"."order_id" = $1 ORDER BY 1 ASC'
)
ORDER_PAYMENTS = (
    f'SELECT {_select(PAYMENT_COLUMNS)} FROM "payments_payment" '
    'WHERE "payments_payment"."order_id" = $1 ORDER BY 9 DESC, 1 DESC'
)
ORDER_SHIPMENTS = (
    f'SELECT {_select(SHIPMENT_COLUMNS)} FROM "shipping_shipment" '
    'INNER JOIN "vendors_store" ON ("shipping_shipment"."store_id" = "vendors_store"."id") '
    'WHERE "shipping_shipment"."order_id" = $1 ORDER BY 1 ASC'
)

# --- order placement (apps/orders/services/placement.py, apps/inventory/services.py) -----

IDEMPOTENCY_DELETE_EXPIRED = (
    'DELETE FROM "orders_idempotencykey" WHERE ("orders_idempotencykey"."customer_id" = $1 '
    'AND "orders_idempotencykey"."expires_at" <= $2 AND "orders_idempotencykey"."key" = $3)'
)
IDEMPOTENCY_INSERT = (
    'INSERT INTO "orders_idempotencykey" ("customer_id", "key", "request_hash", "order_id", '
    '"created_at", "expires_at") VALUES ($1, $2, $3, NULL, $4, $5) '
    'RETURNING "orders_idempotencykey"."id"'
)
IDEMPOTENCY_EXISTING = (
    f"SELECT {_plain('orders_idempotencykey', IDEMPOTENCY_KEY)}, "
    f"{_plain('orders_order', ORDER)} "
    'FROM "orders_idempotencykey" LEFT OUTER JOIN "orders_order" '
    'ON ("orders_idempotencykey"."order_id" = "orders_order"."id") '
    'WHERE ("orders_idempotencykey"."customer_id" = $1 '
    'AND "orders_idempotencykey"."key" = $2) LIMIT 21'
)
IDEMPOTENCY_SET_ORDER = (
    'UPDATE "orders_idempotencykey" SET "order_id" = $1 WHERE "orders_idempotencykey"."id" = $2'
)
SELLABLE_VARIANTS = (
    f"SELECT {_plain('catalog_variant', VARIANT)}, {_RULES_FLAG_SQL}, "
    f"{_plain('catalog_product', PRODUCT)}, {_plain('vendors_store', STORE)}, "
    f"{_plain('catalog_colour', COLOUR)} "
    'FROM "catalog_variant" '
    'INNER JOIN "catalog_product" ON ("catalog_variant"."product_id" = "catalog_product"."id") '
    'INNER JOIN "vendors_store" ON ("catalog_product"."store_id" = "vendors_store"."id") '
    'INNER JOIN "catalog_colour" ON ("catalog_variant"."colour_id" = "catalog_colour"."id") '
    'WHERE ("catalog_variant"."is_active" AND "catalog_variant"."id" = ANY($1::bigint[]) '
    'AND "catalog_product"."is_active" AND "vendors_store"."status" = \'approved\') '
    'ORDER BY "catalog_variant"."id" ASC'
)
#: Parameters: the store ids (``bigint[]``) and the currency.
SHIPPING_METHODS = (
    f"SELECT {_plain('shipping_shippingmethod', SHIPPING_METHOD)} "
    'FROM "shipping_shippingmethod" WHERE (("shipping_shippingmethod"."store_id" = '
    'ANY($1::bigint[]) OR "shipping_shippingmethod"."store_id" IS NULL) '
    'AND "shipping_shippingmethod"."currency" = $2 AND "shipping_shippingmethod"."is_active") '
    'ORDER BY "shipping_shippingmethod"."price" ASC, "shipping_shippingmethod"."max_days" ASC, '
    '"shipping_shippingmethod"."id" ASC'
)
#: Read only when the sellable-variant rows say some rule exists. Parameter: the store
#: ids (``bigint[]``).
COMMISSION_RULE_COLUMNS = _aliased("payouts_commissionrule", ("store_id", "category_id", "rate"))
COMMISSION_RULES = (
    f'SELECT {_select(COMMISSION_RULE_COLUMNS)} FROM "payouts_commissionrule" '
    'WHERE ("payouts_commissionrule"."store_id" = ANY($1::bigint[]) '
    'OR "payouts_commissionrule"."store_id" IS NULL) ORDER BY 2 ASC, 1 ASC'
)
#: Parameters: created and updated at, customer, order number, currency, total, the
#: address text, the structured address (``jsonb``), shipping, notes, reserved until.
ORDER_INSERT = (
    'INSERT INTO "orders_order" ("created_at", "updated_at", "customer_id", "order_number", '
    '"status", "currency", "total_amount", "delivery_address", "shipping_address", '
    '"shipping_amount", "customer_notes", "reserved_until", "paid_at", "fulfilled_at", '
    '"delivered_at", "cancelled_at", "cancel_reason", "refunded_at") '
    "VALUES ($1, $2, $3, $4, 'pending_payment', $5, $6, $7, $8::jsonb, $9, $10, $11, NULL, "
    'NULL, NULL, NULL, \'\', NULL) RETURNING "orders_order"."id"'
)
STOCK_LOCK = (
    'SELECT "inventory_stock"."variant_id" AS "variant_id", '
    '"inventory_stock"."on_hand" AS "on_hand", "inventory_stock"."reserved" AS "reserved" '
    'FROM "inventory_stock" WHERE "inventory_stock"."variant_id" = ANY($1::bigint[]) '
    "ORDER BY 1 ASC FOR UPDATE"
)


@cache
def stock_reserve(variants: int) -> str:
    """The reservation of ``variants`` stock rows in one conditional ``UPDATE``.

    Parameters: the id (``$1``) and quantity (``$2``) of the first variant, of the second
    (``$3``, ``$4``) and so on, then every id again as ``bigint[]``. The status tells how
    many rows had enough available.
    """
    whens = [(f"${2 * index + 1}", f"${2 * index + 2}::integer") for index in range(variants)]
    in_set = " ".join(f'WHEN ("inventory_stock"."variant_id" = {v}) THEN {n}' for v, n in whens)
    in_where = " ".join(f'WHEN "inventory_stock"."variant_id" = {v} THEN {n}' for v, n in whens)
    return (
        'UPDATE "inventory_stock" SET "reserved" = '
        f'("inventory_stock"."reserved" + CASE {in_set} ELSE NULL END) '
        f'WHERE ("inventory_stock"."on_hand" >= ("inventory_stock"."reserved" + CASE {in_where} '
        f'ELSE NULL END) AND "inventory_stock"."variant_id" = ANY(${2 * variants + 1}::bigint[]))'
    )


_MOVEMENT_INTO = (
    'INSERT INTO "inventory_stockmovement" ("variant_id", "on_hand_delta", "reserved_delta", '
    '"on_hand_after", "reserved_after", "reason", "note", "actor_id", "order_id", '
    '"created_at") '
)
_MOVEMENT_RETURNING = ' RETURNING "inventory_stockmovement"."id"'
#: One ledger row: variant, reserved delta, on hand and reserved after, order, time.
MOVEMENT_INSERT = (
    f"{_MOVEMENT_INTO}VALUES ($1, 0, $2, $3, $4, 'reserved', '', NULL, $5, $6){_MOVEMENT_RETURNING}"
)
#: Several ledger rows: one array per column.
MOVEMENTS_INSERT = (
    f"{_MOVEMENT_INTO}SELECT * FROM UNNEST($1::bigint[], $2::integer[], $3::integer[], "
    "$4::integer[], $5::integer[], $6::varchar[], $7::varchar[], $8::bigint[], $9::bigint[], "
    f"$10::timestamptz[]){_MOVEMENT_RETURNING}"
)

_LINE_INTO = (
    'INSERT INTO "orders_orderline" ("order_id", "variant_id", "store_id", "product_name", '
    '"sku", "size", "colour", "unit_price", "quantity", "line_total", "fulfilled_at", '
    '"commission_rate", "commission_amount", "vendor_net") '
)
_LINE_RETURNING = ' RETURNING "orders_orderline"."id"'
#: One order line: order, variant, store, product name, sku, size, colour, unit price,
#: quantity, line total, commission rate, commission amount, vendor net.
ORDER_LINE_INSERT = (
    f"{_LINE_INTO}VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, $12, $13)"
    f"{_LINE_RETURNING}"
)
#: Several order lines: one array per column.
ORDER_LINES_INSERT = (
    f"{_LINE_INTO}SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], "
    "$4::varchar[], $5::varchar[], $6::varchar[], $7::varchar[], $8::numeric[], "
    "$9::integer[], $10::numeric[], $11::timestamptz[], $12::numeric[], $13::numeric[], "
    f"$14::numeric[]){_LINE_RETURNING}"
)

_SHIPMENT_INTO = (
    'INSERT INTO "shipping_shipment" ("created_at", "updated_at", "order_id", "store_id", '
    '"method_id", "method_name", "shipping_amount", "min_days", "max_days", "status", '
    '"carrier", "tracking_number", "tracking_url", "packed_at", "shipped_at", '
    '"delivered_at", "returned_at", "delivery_confirmed_by", "is_exchange") '
)
_SHIPMENT_RETURNING = ' RETURNING "shipping_shipment"."id"'
#: One shipment: created and updated at, order, store, method (or NULL), method name,
#: shipping amount, days from, days to.
SHIPMENT_INSERT = (
    f"{_SHIPMENT_INTO}VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'awaiting', '', '', '', "
    f"NULL, NULL, NULL, NULL, '', false){_SHIPMENT_RETURNING}"
)
#: Several shipments: one array per column.
SHIPMENTS_INSERT = (
    f"{_SHIPMENT_INTO}SELECT * FROM UNNEST($1::timestamptz[], $2::timestamptz[], "
    "$3::bigint[], $4::bigint[], $5::bigint[], $6::varchar[], $7::numeric[], $8::smallint[], "
    "$9::smallint[], $10::varchar[], $11::varchar[], $12::varchar[], $13::varchar[], "
    "$14::timestamptz[], $15::timestamptz[], $16::timestamptz[], $17::timestamptz[], "
    f"$18::varchar[], $19::boolean[]){_SHIPMENT_RETURNING}"
)
