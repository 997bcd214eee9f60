"""The SQL of the floor app: the statements the app's selectors and services send today,
written once as prepared statements (``$n`` parameters instead of inlined literals).

Captured from the app with ``CaptureQueriesContext`` (``docs/performance.md`` says how
to capture them again). The column lists are the ORM's: the floor reads and ships the same
bytes from PostgreSQL as the app does, so the comparison is about everything around the
query, not about the query. ``IN (…)`` lists become ``= ANY($n)`` so that one prepared
statement serves every list length.
"""

# The statements are put together from the constant column lists below only; every value
# travels as a parameter.
# ruff: noqa: S608

from __future__ import annotations

from functools import cache


def _cols(table: str, names: tuple[str, ...]) -> str:
    return ", ".join(f'"{table}"."{name}"' for name in names)


PRODUCT = (
    "id", "created_at", "updated_at", "store_id", "category_id", "name", "slug",
    "description", "brand", "images", "is_active", "min_price",
)  # fmt: skip
STORE = (
    "id", "created_at", "updated_at", "owner_id", "name", "slug", "description", "status",
    "commission_rate", "approved_at",
)  # fmt: skip
CATEGORY = ("id", "created_at", "updated_at", "name", "slug", "parent_id", "position")
VARIANT = (
    "id", "created_at", "updated_at", "product_id", "sku", "size", "colour_id", "price",
    "compare_at_price", "currency", "is_active",
)  # fmt: skip
COLOUR = ("id", "name", "hex_code")
STOCK = ("variant_id", "on_hand", "reserved", "updated_at")
ORDER = (
    "id", "created_at", "updated_at", "customer_id", "order_number", "status", "currency",
    "total_amount", "delivery_address", "customer_notes", "reserved_until", "paid_at",
    "fulfilled_at", "delivered_at", "cancelled_at", "cancel_reason", "refunded_at",
)  # fmt: skip
ORDER_LINE = (
    "id", "order_id", "variant_id", "store_id", "product_name", "sku", "size", "colour",
    "unit_price", "quantity", "line_total", "fulfilled_at",
)  # fmt: skip
PAYMENT = (
    "id", "created_at", "updated_at", "order_id", "provider", "reference",
    "provider_payment_id", "amount", "currency", "status", "authorization_url",
    "client_secret", "failure_reason", "succeeded_at", "refunded_amount", "needs_refund",
    "needs_refund_reason",
)  # fmt: skip


class At:
    """Positions of the columns the floor reads in the rows of its joined queries."""

    # product ⋈ store ⋈ category
    P = {name: index for index, name in enumerate(PRODUCT)}
    S = {name: len(PRODUCT) + index for index, name in enumerate(STORE)}
    C = {name: len(PRODUCT) + len(STORE) + index for index, name in enumerate(CATEGORY)}
    # variant ⋈ colour ⟕ stock
    V = {name: index for index, name in enumerate(VARIANT)}
    VC = {name: len(VARIANT) + index for index, name in enumerate(COLOUR)}
    VS = {name: len(VARIANT) + len(COLOUR) + index for index, name in enumerate(STOCK)}
    # variant ⋈ product ⋈ store ⋈ colour (order placement)
    SP = {name: len(VARIANT) + index for index, name in enumerate(PRODUCT)}
    SS = {name: len(VARIANT) + len(PRODUCT) + index for index, name in enumerate(STORE)}
    SC = {
        name: len(VARIANT) + len(PRODUCT) + len(STORE) + index for index, name in enumerate(COLOUR)
    }
    O = {name: index for index, name in enumerate(ORDER)}  # noqa: E741
    L = {name: index for index, name in enumerate(ORDER_LINE)}
    PAY = {name: index for index, name in enumerate(PAYMENT)}


_VISIBLE = (
    '"catalog_product"."is_active" AND "catalog_product"."min_price" IS NOT NULL '
    'AND "vendors_store"."status" = \'approved\''
)
_PRODUCT_FROM = (
    f"SELECT {_cols('catalog_product', PRODUCT)}, {_cols('vendors_store', STORE)}, "
    f"{_cols('catalog_category', CATEGORY)} "
    'FROM "catalog_product" '
    'INNER JOIN "vendors_store" ON ("catalog_product"."store_id" = "vendors_store"."id") '
    'INNER JOIN "catalog_category" '
    'ON ("catalog_product"."category_id" = "catalog_category"."id") '
)
_NEWEST = 'ORDER BY "catalog_product"."created_at" DESC, "catalog_product"."id" DESC'

PRODUCT_DETAIL = (
    f'{_PRODUCT_FROM}WHERE ({_VISIBLE} AND "catalog_product"."id" = $1) {_NEWEST} LIMIT 1'
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
    return f"{_PRODUCT_FROM}WHERE ({' AND '.join(where)}) {_NEWEST} LIMIT ${number}"


VARIANTS_OF_PRODUCTS = (
    f"SELECT {_cols('catalog_variant', VARIANT)}, {_cols('catalog_colour', COLOUR)}, "
    f"{_cols('inventory_stock', STOCK)} "
    'FROM "catalog_variant" '
    'INNER JOIN "catalog_colour" ON ("catalog_variant"."colour_id" = "catalog_colour"."id") '
    'LEFT OUTER JOIN "inventory_stock" '
    'ON ("catalog_variant"."id" = "inventory_stock"."variant_id") '
    'WHERE ("catalog_variant"."is_active" AND "catalog_variant"."product_id" = ANY($1::bigint[])) '
    'ORDER BY "catalog_variant"."id" ASC'
)

CATEGORIES = (
    'SELECT "catalog_category"."id" AS "id", "catalog_category"."parent_id" AS "parent_id", '
    '"catalog_category"."slug" AS "slug" FROM "catalog_category" '
    'ORDER BY "catalog_category"."position" ASC, "catalog_category"."name" ASC, 1 ASC'
)

ORDER_FOR_CUSTOMER = (
    f'SELECT {_cols("orders_order", ORDER)} FROM "orders_order" '
    'WHERE ("orders_order"."customer_id" = $1 AND "orders_order"."id" = $2) '
    'ORDER BY "orders_order"."created_at" DESC, "orders_order"."id" DESC LIMIT 1'
)
ORDER_LINES = (
    f'SELECT {_cols("orders_orderline", ORDER_LINE)} FROM "orders_orderline" '
    'WHERE "orders_orderline"."order_id" = ANY($1::bigint[]) '
    'ORDER BY "orders_orderline"."id" ASC'
)
ORDER_PAYMENTS = (
    f'SELECT {_cols("payments_payment", PAYMENT)} FROM "payments_payment" '
    'WHERE "payments_payment"."order_id" = ANY($1::bigint[]) '
    'ORDER BY "payments_payment"."created_at" DESC, "payments_payment"."id" DESC'
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
    'SELECT "orders_idempotencykey"."request_hash", "orders_idempotencykey"."order_id" '
    'FROM "orders_idempotencykey" WHERE ("orders_idempotencykey"."customer_id" = $1 '
    'AND "orders_idempotencykey"."key" = $2) LIMIT 21'
)
IDEMPOTENCY_SET_ORDER = (
    'UPDATE "orders_idempotencykey" SET "order_id" = $1 WHERE "orders_idempotencykey"."id" = $2'
)
SELLABLE_VARIANTS = (
    f"SELECT {_cols('catalog_variant', VARIANT)}, {_cols('catalog_product', PRODUCT)}, "
    f"{_cols('vendors_store', STORE)}, {_cols('catalog_colour', COLOUR)} "
    'FROM "catalog_variant" '
    'INNER JOIN "catalog_product" ON ("catalog_variant"."product_id" = "catalog_product"."id") '
    'INNER JOIN "vendors_store" ON ("catalog_product"."store_id" = "vendors_store"."id") '
    'INNER JOIN "catalog_colour" ON ("catalog_variant"."colour_id" = "catalog_colour"."id") '
    'WHERE ("catalog_variant"."is_active" AND "catalog_variant"."id" = ANY($1::bigint[]) '
    'AND "catalog_product"."is_active" AND "vendors_store"."status" = \'approved\') '
    'ORDER BY "catalog_variant"."id" ASC'
)
ORDER_INSERT = (
    'INSERT INTO "orders_order" ("created_at", "updated_at", "customer_id", "order_number", '
    '"status", "currency", "total_amount", "delivery_address", "customer_notes", '
    '"reserved_until", "paid_at", "fulfilled_at", "delivered_at", "cancelled_at", '
    '"cancel_reason", "refunded_at") '
    "VALUES ($1, $2, $3, $4, 'pending_payment', $5, $6, $7, $8, $9, NULL, NULL, NULL, NULL, "
    '\'\', NULL) RETURNING "orders_order"."id"'
)
STOCK_RESERVE = (
    'UPDATE "inventory_stock" SET "reserved" = ("inventory_stock"."reserved" + $1) '
    'WHERE ("inventory_stock"."on_hand" >= ("inventory_stock"."reserved" + $1) '
    'AND "inventory_stock"."variant_id" = $2)'
)
STOCK_LEVELS = (
    'SELECT "inventory_stock"."on_hand" AS "on_hand", "inventory_stock"."reserved" AS '
    '"reserved" FROM "inventory_stock" WHERE "inventory_stock"."variant_id" = $1 LIMIT 1'
)
MOVEMENT_INSERT = (
    'INSERT INTO "inventory_stockmovement" ("variant_id", "on_hand_delta", "reserved_delta", '
    '"on_hand_after", "reserved_after", "reason", "note", "actor_id", "order_id", '
    "\"created_at\") VALUES ($1, 0, $2, $3, $4, 'reserved', '', NULL, $5, $6) "
    'RETURNING "inventory_stockmovement"."id"'
)
ORDER_LINES_INSERT = (
    'INSERT INTO "orders_orderline" ("order_id", "variant_id", "store_id", "product_name", '
    '"sku", "size", "colour", "unit_price", "quantity", "line_total", "fulfilled_at") '
    "SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::varchar[], "
    "$5::varchar[], $6::varchar[], $7::varchar[], $8::numeric[], $9::integer[], "
    '$10::numeric[], $11::timestamptz[]) RETURNING "orders_orderline"."id"'
)
