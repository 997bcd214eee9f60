"""Stock: conditional updates, the ledger, reservations that never oversell, and the
database CHECK constraints underneath."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum

from apps.catalog.tests.factories import make_product
from apps.common.errors import Conflict, NotFound, ValidationFailed
from apps.inventory.models import Stock, StockMovement
from apps.inventory.services import stock_adjust, stock_release, stock_reserve

pytestmark = pytest.mark.django_db


def _variant_id(stock: int = 5) -> int:
    return make_product(variants=[{"stock": stock}]).variants.get().pk


def test_ledger_replays_to_the_current_stock() -> None:
    variant_id = _variant_id(stock=5)
    stock_adjust(variant_id=variant_id, delta=10, reason="restock", actor=None)
    stock_reserve(items=[(variant_id, 4)], order_id=7)
    stock_adjust(variant_id=variant_id, delta=-3, reason="damaged", actor=None)
    stock_release(items=[(variant_id, 1)], order_id=7)

    stock = Stock.objects.get(variant_id=variant_id)
    totals = StockMovement.objects.filter(variant_id=variant_id).aggregate(
        on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
    )
    assert (stock.on_hand, stock.reserved, stock.available) == (12, 3, 9)
    assert (totals["on_hand"], totals["reserved"]) == (12, 3)
    last = StockMovement.objects.filter(variant_id=variant_id).order_by("-id").first()
    assert last is not None
    assert (last.on_hand_after, last.reserved_after, last.order_id) == (12, 3, 7)


def test_removing_more_than_available_is_rejected_naming_delta() -> None:
    variant_id = _variant_id(stock=5)
    stock_reserve(items=[(variant_id, 3)], order_id=1)

    with pytest.raises(ValidationFailed) as error:
        stock_adjust(variant_id=variant_id, delta=-3, reason="correction", actor=None)

    assert error.value.field_errors[0].field == "delta"
    assert error.value.details == {"available": 2}
    assert Stock.objects.get(variant_id=variant_id).on_hand == 5
    stock_adjust(variant_id=variant_id, delta=-2, reason="correction", actor=None)
    assert Stock.objects.get(variant_id=variant_id).available == 0


def test_unknown_variant_is_not_found() -> None:
    with pytest.raises(NotFound):
        stock_adjust(variant_id=987654, delta=1, reason="restock", actor=None)


def test_reservation_is_all_or_nothing() -> None:
    plenty, scarce = _variant_id(stock=10), _variant_id(stock=1)

    with pytest.raises(Conflict) as error:
        stock_reserve(items=[(plenty, 5), (scarce, 2)], order_id=3)

    assert error.value.details == {"variant_ids": [scarce]}
    assert Stock.objects.get(variant_id=plenty).reserved == 0
    assert not StockMovement.objects.filter(reason="reserved").exists()


def test_repeated_reservations_never_oversell() -> None:
    variant_id = _variant_id(stock=3)
    outcomes = []
    for _ in range(5):
        try:
            stock_reserve(items=[(variant_id, 1)], order_id=None)
            outcomes.append(True)
        except Conflict:
            outcomes.append(False)

    assert outcomes == [True, True, True, False, False]
    assert Stock.objects.get(variant_id=variant_id).available == 0


@pytest.mark.parametrize(
    ("on_hand", "reserved"), [(-1, 0), (5, -1), (2, 3)], ids=["on-hand", "reserved", "over"]
)
def test_database_refuses_negative_stock(on_hand: int, reserved: int) -> None:
    variant_id = _variant_id(stock=2)

    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(variant_id=variant_id).update(on_hand=on_hand, reserved=reserved)


def test_a_reservation_of_many_variants_is_a_fixed_number_of_queries(
    django_assert_num_queries: Any,
) -> None:
    few = [_variant_id(stock=5) for _ in range(2)]
    many = [_variant_id(stock=5) for _ in range(30)]
    stock_adjust(variant_id=many[0], delta=5, reason="restock", actor=None)

    # Its savepoint, the locking read, one UPDATE, one ledger insert, the release.
    with django_assert_num_queries(5):
        stock_reserve(items=[(v, 1) for v in few], order_id=1)
    with django_assert_num_queries(5):
        stock_reserve(items=[(v, 2) for v in reversed(many)] + [(many[0], 6)], order_id=2)

    first = Stock.objects.get(variant_id=many[0])
    assert (first.on_hand, first.reserved) == (10, 8)
    assert set(
        Stock.objects.filter(variant_id__in=many[1:]).values_list("reserved", flat=True)
    ) == {2}
    ledger = list(
        StockMovement.objects.filter(order_id=2)
        .order_by("id")
        .values_list("variant_id", "reserved_delta", "on_hand_after", "reserved_after")
    )
    assert ledger == [(many[0], 8, 10, 8)] + [(v, 2, 5, 2) for v in many[1:]]


def test_a_refused_reservation_names_every_short_variant_and_writes_nothing() -> None:
    plenty, short_a, short_b = _variant_id(stock=10), _variant_id(stock=1), _variant_id(stock=0)
    movements = StockMovement.objects.count()

    with pytest.raises(Conflict) as error:
        stock_reserve(items=[(short_b, 1), (plenty, 3), (short_a, 1), (short_a, 1)], order_id=4)

    assert error.value.details == {"variant_ids": [short_a, short_b]}
    assert set(Stock.objects.values_list("reserved", flat=True)) == {0}
    assert StockMovement.objects.count() == movements
