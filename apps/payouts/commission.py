"""Which commission rate applies to an order line, for the snapshot placement copies onto
it (``apps/orders/services/placement.py``).

The rate of a line is, first found: a ``CommissionRule`` of the line's store for the
product's category or the nearest category above it; a marketplace-wide rule for it (at
the same level, the store's own rule wins); the store's ``commission_rate``;
``MARKETPLACE_COMMISSION_RATE`` when a store has no rate of its own. How the order's
commission is split over its lines to the minor unit: ``apps.payouts.rounding``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from apps.catalog.models import Variant
from apps.catalog.selectors import category_rows
from apps.payouts.models import CommissionRule
from apps.payouts.rounding import commission_split

__all__ = ["RULES_FLAG", "commission_rates", "commission_split", "marketplace_rate", "rules_flag"]

DEFAULT_RATE = Decimal("10.00")


def marketplace_rate() -> Decimal:
    return Decimal(str(getattr(settings, "MARKETPLACE_COMMISSION_RATE", DEFAULT_RATE)))


RULES_FLAG = "has_commission_rules"


def rules_flag() -> RawSQL:
    """For a query placement makes anyway (the variants): whether any commission rule
    exists. Without one — the usual case — the rules are not read at all. Plain SQL: an
    uncorrelated ``EXISTS`` that the database evaluates once per query, and that costs
    nothing to compile (the ORM's ``Exists`` took ~0.7 ms per order to build)."""
    table = connection.ops.quote_name(CommissionRule._meta.db_table)
    sql = f"EXISTS (SELECT 1 FROM {table})"  # noqa: S608 - our own table name
    return RawSQL(sql, (), output_field=BooleanField())  # noqa: S611


def commission_rates(variants: Iterable[Variant]) -> dict[int, Decimal]:
    """The rate for each variant (by id), for variants loaded with ``product__store``.
    One query for the rules — none when the variants were annotated with ``rules_flag()``
    and no rule can apply; the category tree comes from the catalogue's cache (a query
    only when the cache is cold, and only when some rule exists)."""
    variants = list(variants)
    store_ids = {variant.product.store_id for variant in variants}
    maybe = any(getattr(variant, RULES_FLAG, True) for variant in variants)
    rules: dict[tuple[int | None, int], Decimal] = {
        (store_id, category_id): rate
        for store_id, category_id, rate in (
            CommissionRule.objects.filter(
                Q(store_id__in=store_ids) | Q(store__isnull=True)
            ).values_list("store_id", "category_id", "rate")
            if maybe
            else ()
        )
    }
    parents = {pk: parent for pk, _, _, parent in category_rows()} if rules else {}
    default = marketplace_rate()
    return {variant.pk: _rate(variant, rules, parents, default) for variant in variants}


def _rate(
    variant: Variant,
    rules: dict[tuple[int | None, int], Decimal],
    parents: dict[int, int | None],
    default: Decimal,
) -> Decimal:
    store = variant.product.store
    category: int | None = variant.product.category_id
    seen: set[int] = set()
    while category is not None and category not in seen and rules:
        for key in ((store.pk, category), (None, category)):
            if key in rules:
                return rules[key]
        seen.add(category)
        category = parents.get(category)
    rate = store.commission_rate
    return default if rate is None else rate
