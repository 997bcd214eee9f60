"""v1 sales reports and scorecards: asking for a report answers 202 with its id and a
``Location``; the same request within a minute gets the same report (200); a vendor's
report is their store's whatever they send; customers are refused and nobody reads
another's report (404); the CSV is the series, exactly; bad input is a 422 naming the
field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from apps.analytics.models import ReportStatus, SalesReport
from apps.analytics.tests.conftest import History
from apps.authentication.models import User
from apps.vendors.tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/sales/"
SCORECARDS = "/api/v1/reports/scorecards/"
BODY = {"start_date": "2026-01-05", "end_date": "2026-01-18", "group_by": "week"}

Capture = Callable[..., Any]


def _client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    return [error["field"] for error in response.json()["errors"]]


@pytest.fixture
def staff() -> User:
    return StaffFactory.create()


def _ask(user: User, capture: Capture, body: dict[str, Any] | None = None, **extra: Any) -> Any:
    with capture(execute=True):  # commit: the report is computed (immediate backend)
        return _client(user).post(URL, {**BODY, **(body or {}), **extra}, format="json")


def test_staff_ask_for_a_report_and_read_it_once_done(
    history: History, staff: User, django_capture_on_commit_callbacks: Capture
) -> None:
    response = _ask(staff, django_capture_on_commit_callbacks)

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert response["Location"] == f"http://testserver{URL}{body['id']}/"
    assert (body["store_id"], body["group_by"], body["time_zone"]) == (None, "week", "Africa/Lagos")

    report = _client(staff).get(response["Location"])
    assert report.status_code == 200
    data = report.json()
    assert data["status"] == "done"
    assert data["started_at"] and data["finished_at"]
    totals = data["result"]["sales"][0]["totals"]
    assert (totals["orders"], totals["net_revenue"]) == (6, "485.00")
    assert [card["store_id"] for card in data["result"]["scorecards"]] == [
        history.store_a.pk,
        history.store_b.pk,
    ]


def test_the_same_request_within_a_minute_gets_the_same_report(
    history: History,
    staff: User,
    django_capture_on_commit_callbacks: Capture,
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    first = _ask(staff, django_capture_on_commit_callbacks)
    time_machine.shift(timedelta(seconds=59))
    again = _ask(staff, django_capture_on_commit_callbacks)
    other_grouping = _ask(staff, django_capture_on_commit_callbacks, group_by="day")
    time_machine.shift(timedelta(seconds=2))
    later = _ask(staff, django_capture_on_commit_callbacks)

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again["Location"] == first["Location"]
    assert other_grouping.status_code == 202
    assert later.status_code == 202
    assert later.json()["id"] not in {first.json()["id"], other_grouping.json()["id"]}


def test_a_failed_report_is_not_reused(
    history: History, staff: User, django_capture_on_commit_callbacks: Capture
) -> None:
    first = _ask(staff, django_capture_on_commit_callbacks)
    SalesReport.objects.filter(pk=first.json()["id"]).update(status=ReportStatus.FAILED)

    again = _ask(staff, django_capture_on_commit_callbacks)

    assert again.status_code == 202
    assert again.json()["id"] != first.json()["id"]


def test_a_vendors_report_is_their_own_store_whatever_they_send(
    history: History, django_capture_on_commit_callbacks: Capture
) -> None:
    vendor = history.store_b.owner

    response = _ask(vendor, django_capture_on_commit_callbacks, store_id=history.store_a.pk)
    everything = _ask(vendor, django_capture_on_commit_callbacks, group_by="month")

    assert response.status_code == 202
    assert response.json()["store_id"] == history.store_b.pk
    assert everything.json()["store_id"] == history.store_b.pk
    result = _client(vendor).get(response["Location"]).json()["result"]
    assert result["sales"][0]["totals"]["gross_revenue"] == "200.00"
    assert [row["store_id"] for row in result["sales"][0]["stores"]] == [history.store_b.pk]
    assert [card["store_id"] for card in result["scorecards"]] == [history.store_b.pk]


def test_staff_may_ask_for_one_store(
    history: History, staff: User, django_capture_on_commit_callbacks: Capture
) -> None:
    response = _ask(staff, django_capture_on_commit_callbacks, store_id=history.store_a.pk)

    result = _client(staff).get(response["Location"]).json()["result"]
    assert result["sales"][0]["totals"]["gross_revenue"] == "440.00"


def test_nobody_reads_anothers_report(
    history: History, staff: User, django_capture_on_commit_callbacks: Capture
) -> None:
    vendor_a, vendor_b = history.store_a.owner, history.store_b.owner
    staffs = _ask(staff, django_capture_on_commit_callbacks).json()["id"]
    vendors = _ask(vendor_a, django_capture_on_commit_callbacks).json()["id"]

    for user, report_id in [
        (vendor_b, vendors),
        (vendor_a, staffs),
        (StaffFactory.create(), vendors),
        (vendor_b, 2**62),
    ]:
        for suffix in ("", "csv/"):
            response = _client(user).get(f"{URL}{report_id}/{suffix}")
            assert response.status_code == 404, (user, report_id, suffix)
            assert response.json()["code"] == "report_not_found"
    assert _client(vendor_a).get(f"{URL}{vendors}/").status_code == 200


def test_customers_and_strangers_are_refused(history: History) -> None:
    customer = UserFactory.create()
    report = SalesReport.objects.create(
        requested_by=customer, start_date=history.scope().start, end_date=history.scope().end
    )
    requests = [
        ("post", URL),
        ("get", f"{URL}{report.pk}/"),
        ("get", f"{URL}{report.pk}/csv/"),
        ("get", f"{SCORECARDS}?start_date=2026-01-05&end_date=2026-01-18"),
    ]

    for method, url in requests:
        assert getattr(_client(customer), method)(url, BODY, format="json").status_code == 403
        assert getattr(_client(None), method)(url, BODY, format="json").status_code == 401
    assert SalesReport.objects.count() == 1


def test_the_csv_is_the_series(
    history: History, staff: User, django_capture_on_commit_callbacks: Capture
) -> None:
    report_id = _ask(staff, django_capture_on_commit_callbacks).json()["id"]

    response = _client(staff).get(f"{URL}{report_id}/csv/", headers={"Accept": "application/json"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="sales-2026-01-05-to-2026-01-18-by-week.csv"'
    )
    assert response.content.decode() == (
        "period_start,period_end,currency,orders,units_sold,gross_revenue,refunds,net_revenue,"
        "commission,vendor_net\r\n"
        "2026-01-05,2026-01-11,NGN,5,8,520.00,125.00,395.00,39.50,355.50\r\n"
        "2026-01-12,2026-01-18,NGN,1,2,120.00,30.00,90.00,9.00,81.00\r\n"
    )


def test_a_daily_csv_has_a_row_for_every_day(
    history: History, staff: User, django_capture_on_commit_callbacks: Capture
) -> None:
    report_id = _ask(staff, django_capture_on_commit_callbacks, group_by="day").json()["id"]

    rows = _client(staff).get(f"{URL}{report_id}/csv/").content.decode().splitlines()

    assert len(rows) == 1 + 14
    assert rows[1] == "2026-01-05,2026-01-05,NGN,2,4,300.00,25.00,275.00,27.50,247.50"
    assert rows[4] == "2026-01-08,2026-01-08,NGN,0,0,0.00,0.00,0.00,0.00,0.00"


def test_the_csv_of_an_unfinished_report_is_a_conflict(history: History, staff: User) -> None:
    response = _client(staff).post(URL, BODY, format="json")  # never committed: stays queued

    csv = _client(staff).get(f"{URL}{response.json()['id']}/csv/")

    assert csv.status_code == 409
    assert csv.json()["code"] == "report_not_ready"


BAD_INPUT = [
    ({"start_date": "2026-13-01"}, ["start_date"]),
    ({"start_date": "yesterday"}, ["start_date"]),
    ({"end_date": ""}, ["end_date"]),
    ({"start_date": None}, ["start_date"]),
    ({"start_date": "2026-01-19"}, ["end_date"]),
    ({"start_date": "2023-01-04", "end_date": "2026-01-04"}, ["end_date"]),
    ({"start_date": "1999-12-31"}, ["start_date"]),
    ({"end_date": "9999-12-31"}, ["end_date"]),
    ({"group_by": "year"}, ["group_by"]),
    ({"store_id": 987654}, ["store_id"]),
    ({"store_id": 0}, ["store_id"]),
    ({"store_id": "abc"}, ["store_id"]),
    ({"store_id": 2**63}, ["store_id"]),
]


@pytest.mark.parametrize(("change", "fields"), BAD_INPUT)
def test_bad_input_is_a_422_naming_the_field(
    history: History, staff: User, change: dict[str, Any], fields: list[str]
) -> None:
    response = _client(staff).post(URL, {**BODY, **change}, format="json")

    assert _fields(response) == fields
    assert SalesReport.objects.count() == 0


def test_three_years_to_the_day_are_allowed(history: History, staff: User) -> None:
    response = _client(staff).post(
        URL, {**BODY, "start_date": "2023-01-05", "end_date": "2026-01-04"}, format="json"
    )

    assert response.status_code == 202


def test_missing_dates_are_named(staff: User) -> None:
    assert _fields(_client(staff).post(URL, {}, format="json")) == ["start_date", "end_date"]


# --- scorecards -------------------------------------------------------------------------


def test_staff_read_every_stores_scorecard_or_one(history: History, staff: User) -> None:
    query = {"start_date": "2026-01-05", "end_date": "2026-01-18"}

    everyone = _client(staff).get(SCORECARDS, query)
    one = _client(staff).get(SCORECARDS, {**query, "store_id": str(history.store_a.pk)})

    assert everyone.status_code == 200
    body = everyone.json()
    assert (body["store_id"], body["time_zone"]) == (None, "Africa/Lagos")
    assert [card["store_id"] for card in body["scorecards"]] == [
        history.store_a.pk,
        history.store_b.pk,
    ]
    assert body["scorecards"][1]["median_hours_to_fulfil"] == 35.0
    assert [card["store_id"] for card in one.json()["scorecards"]] == [history.store_a.pk]


def test_a_vendor_reads_only_their_own_scorecard(history: History) -> None:
    response = _client(history.store_a.owner).get(
        SCORECARDS,
        {"start_date": "2026-01-05", "end_date": "2026-01-18", "store_id": str(history.store_b.pk)},
    )

    assert response.status_code == 200
    assert response.json()["store_id"] == history.store_a.pk
    assert [card["store_id"] for card in response.json()["scorecards"]] == [history.store_a.pk]
    assert response.json()["scorecards"][0]["refunded"] == {"NGN": "150.00"}


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"start_date": "2026-02-30", "end_date": "2026-03-01"}, ["start_date"]),
        ({"start_date": "2026-03-01", "end_date": "2026-02-01"}, ["end_date"]),
        ({"start_date": "2020-01-01", "end_date": "2026-01-01"}, ["end_date"]),
        ({"start_date": "2026-01-01", "end_date": "2026-01-31", "store_id": 987654}, ["store_id"]),
        ({"end_date": "2026-01-31"}, ["start_date"]),
    ],
)
def test_bad_scorecard_queries_are_a_422_naming_the_field(
    staff: User, query: dict[str, Any], fields: list[str]
) -> None:
    assert _fields(_client(staff).get(SCORECARDS, query)) == fields
