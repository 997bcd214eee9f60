"""v1 vendor money: a vendor reads only their own store's balance, ledger, payouts and
statement (another store's payout is 404) and registers where they are paid; staff read
every balance, hold and release payouts, adjust balances and start runs. Bad input is a
422 problem naming the field; a conflict a 409."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.authentication.models import User
from apps.payouts.models import (
    LedgerEntry,
    Payout,
    PayoutDestination,
    PayoutHold,
    PayoutRun,
    StaffAction,
)
from apps.payouts.services import (
    earnings_release_due,
    payout_create,
    payout_send,
    refund_record,
)
from apps.payouts.tests import factories as f
from apps.vendors.models import Store
from apps.vendors.tests.factories import StaffFactory, UserFactory
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]
V = "/api/v1/vendor"
S = "/api/v1/staff"


def _client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    # A field may fail more than one rule (length and pattern): named once here.
    return list(dict.fromkeys(error["field"] for error in response.json()["errors"]))


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def staff() -> User:
    return StaffFactory.create()


@pytest.fixture
def paid_out(payment_sandbox: SandboxServer, time_machine: Any) -> Store:
    """A store that sold 1,000 (10 %), was paid 900 out, then refunded 100 of it."""
    time_machine.move_to(datetime(2026, 3, 10, 12, tzinfo=UTC), tick=False)
    shop = f.store("10.00")
    f.destination(payment_sandbox, shop)
    order = f.delivered(f.paid([(f.variant(shop, "500.00"), 2)]))
    time_machine.shift(timedelta(days=8))
    earnings_release_due()
    payout = payout_create(store_id=shop.pk, currency="NGN")
    assert not isinstance(payout, str)
    assert payout_send(payout_id=payout.pk) == "in_transit"

    time_machine.shift(timedelta(days=1))
    refund_record(refund_id=f.refunded(order, "100.00").pk)
    return shop


# --- vendor -----------------------------------------------------------------------------------


def test_a_vendor_reads_their_balance(paid_out: Store) -> None:
    response = _client(paid_out.owner).get(f"{V}/balance/")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "store_id": paid_out.pk,
        "payouts_on_hold": False,
        "balances": [
            {
                "currency": "NGN",
                "pending": "0.00",
                "available": "0.00",
                "debt": "90.00",
                "paid_out": "900.00",
                "in_transit": "900.00",
                "updated_at": response.json()["balances"][0]["updated_at"],
            }
        ],
    }
    assert _client(paid_out.owner).get(f"{V}/balance/?currency=usd").json()["balances"] == []


def test_the_balance_refuses_a_bad_currency(paid_out: Store) -> None:
    assert _fields(_client(paid_out.owner).get(f"{V}/balance/?currency=NAIRA")) == ["currency"]


def test_only_vendors_read_vendor_money(paid_out: Store, staff: User) -> None:
    assert _client(None).get(f"{V}/balance/").status_code == 401
    assert _client(UserFactory.create()).get(f"{V}/ledger/").status_code == 403
    assert _client(staff).get(f"{V}/payouts/").status_code == 403


def test_a_vendor_lists_their_ledger_filtered_and_paged(paid_out: Store) -> None:
    f.paid([(f.variant(f.store(), "100.00"), 1)])  # another store's entries
    client = _client(paid_out.owner)

    everything = client.get(f"{V}/ledger/").json()
    refunds = client.get(f"{V}/ledger/?kind=refund").json()
    page = client.get(f"{V}/ledger/?limit=2&offset=1").json()
    march_10 = client.get(f"{V}/ledger/?date_from=2026-03-10&date_to=2026-03-10").json()

    kinds = [entry["kind"] for entry in everything["results"]]
    assert kinds == ["refund", "commission_refund", "payout", "release", "commission", "sale"]
    assert everything["count"] == 6
    assert [e["amount"] for e in refunds["results"]] == ["-100.00"]
    assert refunds["results"][0]["order_number"]
    assert [e["kind"] for e in page["results"]] == ["commission_refund", "payout"]
    assert [e["kind"] for e in march_10["results"]] == ["commission", "sale"]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("kind=bonus", ["kind"]),
        ("currency=NAIRA", ["currency"]),
        ("date_from=2026-13-01", ["date_from"]),
        ("date_from=1999-12-31", ["date_from"]),
        ("date_from=2026-03-10&date_to=2026-03-09", ["date_to"]),
        ("limit=0", ["limit"]),
        ("offset=-1", ["offset"]),
    ],
)
def test_bad_ledger_filters_are_named(paid_out: Store, query: str, fields: list[str]) -> None:
    assert _fields(_client(paid_out.owner).get(f"{V}/ledger/?{query}")) == fields


def test_a_vendor_reads_their_payouts_and_not_anothers(
    paid_out: Store, payment_sandbox: SandboxServer
) -> None:
    other = f.store()
    f.destination(payment_sandbox, other)
    theirs = Payout.objects.create(
        store=other,
        currency="NGN",
        amount=Decimal("5.00"),
        provider="paystack",
        destination=PayoutDestination.objects.get(store=other),
    )
    mine = Payout.objects.get(store=paid_out)
    client = _client(paid_out.owner)

    listed = client.get(f"{V}/payouts/").json()
    detail = client.get(f"{V}/payouts/{mine.pk}/")

    assert [p["id"] for p in listed["results"]] == [mine.pk]
    assert detail.json()["reference"] == mine.reference
    assert detail.json()["status"] == "in_transit"
    assert _problem(client.get(f"{V}/payouts/{theirs.pk}/"), 404)["code"] == "payout_not_found"
    assert client.get(f"{V}/payouts/?status=paid").json()["count"] == 0


def test_bad_payout_input_is_refused(paid_out: Store) -> None:
    client = _client(paid_out.owner)

    assert _fields(client.get(f"{V}/payouts/?status=lost")) == ["status"]
    assert client.get(f"{V}/payouts/abc/").status_code == 404
    assert _problem(client.get(f"{V}/payouts/0/"), 404)["code"] == "payout_not_found"


def test_the_monthly_statement_lists_the_months_entries_between_two_balances(
    paid_out: Store,
) -> None:
    response = _client(paid_out.owner).get(f"{V}/statement/?month=2026-03")

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="statement-store-{paid_out.pk}-2026-03.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["type"] for row in rows] == [
        "opening_balance",
        "sale",
        "commission",
        "release",
        "payout",
        "commission_refund",
        "refund",
        "closing_balance",
    ]
    assert [row["amount"] for row in rows[1:-1]] == [
        "1000.00",
        "-100.00",
        "0.00",
        "-900.00",
        "10.00",
        "-100.00",
    ]
    assert (rows[0]["available"], rows[0]["paid_out"]) == ("0.00", "0.00")
    assert (rows[-1]["debt"], rows[-1]["paid_out"]) == ("90.00", "900.00")
    assert rows[4]["payout_reference"].startswith("po-")
    april = _client(paid_out.owner).get(f"{V}/statement/?month=2026-04").content.decode()
    assert [row["type"] for row in csv.DictReader(io.StringIO(april))] == [
        "opening_balance",
        "closing_balance",
    ]


@pytest.mark.parametrize("query", ["", "month=2026-13", "month=1999-12", "month=2026-3"])
def test_a_statement_needs_a_month(paid_out: Store, query: str) -> None:
    assert _fields(_client(paid_out.owner).get(f"{V}/statement/?{query}")) == ["month"]


def test_a_vendor_registers_and_reads_their_payout_destination(
    payment_sandbox: SandboxServer,
) -> None:
    shop = f.store()
    client = _client(shop.owner)
    assert _problem(client.get(f"{V}/payout-destination/"), 404)["code"] == (
        "destination_not_found"
    )
    code = f.recipient(payment_sandbox)

    created = client.post(
        f"{V}/payout-destination/", {"provider": "paystack", "account_code": code}, format="json"
    )

    assert created.status_code == 201, created.content
    assert created.json()["status"] == "verified"
    assert client.get(f"{V}/payout-destination/").json()["account_code"] == code


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"provider": "square", "account_code": "sq-anything"}, ["provider"]),
        ({"provider": "paypal", "account_code": "RCP_abcdefgh"}, ["provider"]),
        ({"provider": "paystack", "account_code": "not-a-code"}, ["account_code"]),
        ({"provider": "paystack", "account_code": "RCP_" + "a" * 80}, ["account_code"]),
        ({"provider": "stripe"}, ["account_code"]),
        ({}, ["provider", "account_code"]),
    ],
)
def test_a_bad_destination_is_named(
    payment_sandbox: SandboxServer, body: dict[str, Any], fields: list[str]
) -> None:
    shop = f.store()

    response = _client(shop.owner).post(f"{V}/payout-destination/", body, format="json")

    assert _fields(response) == fields
    assert not PayoutDestination.objects.exists()


# --- staff ------------------------------------------------------------------------------------


def test_staff_read_every_stores_balance(paid_out: Store, staff: User) -> None:
    other = f.store()
    f.paid([(f.variant(other, "100.00"), 1)])
    client = _client(staff)

    everything = client.get(f"{S}/payouts/balances/").json()
    one = client.get(f"{S}/payouts/balances/?store_id={other.pk}&currency=ngn").json()

    assert {row["store_id"] for row in everything["results"]} == {paid_out.pk, other.pk}
    assert [(row["store_id"], row["pending"]) for row in one["results"]] == [(other.pk, "90.00")]
    assert client.get(f"{S}/payouts/balances/?on_hold=true").json()["count"] == 0
    assert _client(paid_out.owner).get(f"{S}/payouts/balances/").status_code == 403


@pytest.mark.parametrize(
    ("query", "fields"),
    [("store_id=0", ["store_id"]), ("on_hold=maybe", ["on_hold"]), ("currency=1", ["currency"])],
)
def test_bad_balance_filters_are_named(staff: User, query: str, fields: list[str]) -> None:
    assert _fields(_client(staff).get(f"{S}/payouts/balances/?{query}")) == fields


def test_staff_hold_and_release_a_stores_payouts_with_a_reason(
    paid_out: Store, staff: User
) -> None:
    client = _client(staff)
    url = f"{S}/vendors/{paid_out.pk}/payouts"

    held = client.post(f"{url}/hold/", {"reason": "Chargeback review"}, format="json")
    again = client.post(f"{url}/hold/", {"reason": "again"}, format="json")
    assert _client(paid_out.owner).get(f"{V}/balance/").json()["payouts_on_hold"] is True
    released = client.post(f"{url}/release/", {"reason": "Cleared"}, format="json")
    not_held = client.post(f"{url}/release/", {"reason": "again"}, format="json")

    assert held.status_code == 201 and held.json()["payouts_on_hold"] is True
    assert _problem(again, 409)["code"] == "payouts_already_held"
    assert released.status_code == 200 and released.json()["payouts_on_hold"] is False
    assert _problem(not_held, 409)["code"] == "payouts_not_held"
    assert list(StaffAction.objects.order_by("id").values_list("kind", "reason", "actor")) == [
        ("hold", "Chargeback review", staff.pk),
        ("release", "Cleared", staff.pk),
    ]
    assert not PayoutHold.objects.exists()


@pytest.mark.parametrize("action", ["hold", "release"])
def test_a_hold_needs_a_reason_and_a_store(staff: User, action: str) -> None:
    shop = f.store()
    client = _client(staff)

    assert _fields(client.post(f"{S}/vendors/{shop.pk}/payouts/{action}/", {}, format="json")) == [
        "reason"
    ]
    blank = client.post(f"{S}/vendors/{shop.pk}/payouts/{action}/", {"reason": " "}, format="json")
    assert _fields(blank) == ["reason"]
    missing = client.post(f"{S}/vendors/987654/payouts/{action}/", {"reason": "x"}, format="json")
    assert _problem(missing, 404)["code"] == "store_not_found"


def test_staff_adjust_a_stores_balance(paid_out: Store, staff: User) -> None:
    url = f"{S}/vendors/{paid_out.pk}/ledger/adjustments/"
    body = {"currency": "NGN", "amount": "120.00", "direction": "credit", "reason": "Goodwill"}

    response = _client(staff).post(url, body, format="json")
    too_much = _client(staff).post(
        url, {**body, "direction": "debit", "amount": "30.01"}, format="json"
    )

    assert response.status_code == 201, response.content
    entry = response.json()
    assert (entry["kind"], entry["amount"], entry["debt"], entry["available"]) == (
        "adjustment",
        "120.00",
        "-90.00",
        "30.00",
    )
    assert entry["reason"] == "Goodwill"
    assert _problem(too_much, 409)["code"] == "insufficient_available"


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"amount": "-1"}, ["amount"]),
        ({"amount": "0.001"}, ["amount"]),
        ({"amount": "abc"}, ["amount"]),
        ({"direction": "up"}, ["direction"]),
        ({"currency": "NAIRA"}, ["currency"]),
        ({"reason": ""}, ["reason"]),
        ({"reason": "x" * 256}, ["reason"]),
    ],
)
def test_a_bad_adjustment_is_named(staff: User, change: dict[str, Any], fields: list[str]) -> None:
    shop = f.store()
    body = {"currency": "NGN", "amount": "1.00", "direction": "credit", "reason": "why"}

    response = _client(staff).post(
        f"{S}/vendors/{shop.pk}/ledger/adjustments/", {**body, **change}, format="json"
    )

    assert _fields(response) == fields
    assert not LedgerEntry.objects.exists()


def test_staff_start_a_run_and_read_it(
    paid_out: Store, staff: User, django_capture_on_commit_callbacks: Capture
) -> None:
    client = _client(staff)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"{S}/payouts/runs/", {"period_key": "march-extra"}, format="json")
    repeated = client.post(f"{S}/payouts/runs/", {"period_key": "march-extra"}, format="json")
    unnamed = client.post(f"{S}/payouts/runs/", {}, format="json")

    assert started.status_code == 202, started.content
    assert started["Location"].endswith(f"/api/v1/staff/payouts/runs/{started.json()['id']}/")
    assert repeated.status_code == 200 and repeated.json()["id"] == started.json()["id"]
    assert unnamed.status_code == 202 and unnamed.json()["period_key"].startswith("staff:")
    detail = client.get(started["Location"]).json()
    assert detail["status"] == "done"
    assert detail["stores_skipped"] == {}  # the store owes money: nothing to pay
    assert StaffAction.objects.filter(kind="run").count() == 2
    assert _problem(client.get(f"{S}/payouts/runs/987654/"), 404)["code"] == (
        "payout_run_not_found"
    )


def test_a_bad_run_key_is_named(staff: User) -> None:
    response = _client(staff).post(f"{S}/payouts/runs/", {"period_key": "k" * 65}, format="json")

    assert _fields(response) == ["period_key"]
    assert _fields(_client(staff).post(f"{S}/payouts/runs/", [], format="json")) == ["body"]
    assert _client(staff).get(f"{S}/payouts/runs/abc/").status_code == 404
    assert not PayoutRun.objects.exists()
