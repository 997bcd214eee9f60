"""The floor app speaks the app's formats: datetimes, cursors, access tokens, request
hashes. (Whole answers are compared with the running app by ``make bench`` itself.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from apps.authentication.tokens import access_token_issue
from apps.catalog.selectors import _encode_cursor
from apps.orders.services import OrderItem
from apps.orders.services.placement import _request_hash
from bench.http import floor
from bench.http.floor_sql import product_list


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 26, 14, 23, 32, 689123, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    ],
)
def test_datetimes_are_written_like_the_app(moment: datetime) -> None:
    assert floor.iso(moment) == json.loads(json.dumps(moment, cls=DjangoJSONEncoder))


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
