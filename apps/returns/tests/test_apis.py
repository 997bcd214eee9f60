"""The return APIs: customers on v2 (ask, list, read, withdraw), stores on v1 (inbox,
approve, reject, receive), staff on v1 for any store; bad input named, other customers'
and stores' returns 404, steps out of order 409."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from apps.common.tests.api_clients import post_json, problem_fields, signed_in
from apps.returns.tests.factories import delivered_order, line_of, parcel, two_sizes
from apps.shipping.tests import factories as f
from apps.vendors.tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

V2, V1 = "/api/v2/returns/", "/api/v1/vendor/returns/"


@pytest.fixture
def world() -> dict[str, Any]:
    store = f.shop()
    medium, large = two_sizes(store)
    order = delivered_order([(medium, 2)])
    return {
        "store": store,
        "order": order,
        "medium": medium,
        "large": large,
        "customer": signed_in(order.customer),
        "vendor": signed_in(store.owner),
        "body": {
            "shipment_id": parcel(order, store).pk,
            "lines": [
                {
                    "line_id": line_of(order, medium),
                    "quantity": 1,
                    "reason": "not_as_pictured",
                    "note": "Colour is duller",
                },
            ],
        },
    }


def test_a_customer_asks_and_the_store_approves_rejects_receives(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    customer, vendor, store = world["customer"], world["vendor"], world["store"]
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        asked = post_json(customer, V2, world["body"])
    assert asked.status_code == 201, asked.content
    made = asked.json()
    assert (made["status"], made["lines"][0]["note"]) == ("requested", "Colour is duller")
    assert [m.to for m in mail.outbox] == [[store.owner.email]]

    [inbox] = vendor.get(f"{V1}?status=requested").json()["results"]
    assert inbox["id"] == made["id"]
    with django_capture_on_commit_callbacks(execute=True):
        approved = post_json(vendor, f"{V1}{made['id']}/approve/")
    assert approved.json()["status"] == "approved"
    assert post_json(vendor, f"{V1}{made['id']}/approve/").status_code == 409

    received = post_json(
        vendor,
        f"{V1}{made['id']}/receive/",
        {"lines": [{"line_id": made["lines"][0]["line_id"], "sellable": 1}]},
    )
    assert received.status_code == 200, received.content
    assert (received.json()["refund_amount"], received.json()["refund_status"]) == (
        "10000.00",
        "pending",
    )
    mine = customer.get(f"{V2}{made['id']}/").json()
    assert mine["status"] == "received" and mine["received_at"] is not None


def test_bad_return_input_is_named_everywhere(world: dict[str, Any]) -> None:
    customer, vendor = world["customer"], world["vendor"]

    assert problem_fields(post_json(customer, V2, {"shipment_id": 0, "lines": []})) == [
        "lines",
        "shipment_id",
    ]
    bad_reason = {**world["body"], "lines": [{**world["body"]["lines"][0], "reason": "meh"}]}
    assert problem_fields(post_json(customer, V2, bad_reason)) == ["lines.0.reason"]
    too_many = {**world["body"], "lines": [{**world["body"]["lines"][0], "quantity": 3}]}
    assert problem_fields(post_json(customer, V2, too_many)) == ["lines.0.quantity"]
    assert problem_fields(customer.get(f"{V2}?status=lost")) == ["status"]
    made = post_json(customer, V2, world["body"]).json()
    assert problem_fields(post_json(vendor, f"{V1}{made['id']}/reject/", {"reason": ""})) == [
        "reason"
    ]
    assert problem_fields(post_json(vendor, f"{V1}{made['id']}/receive/", {"lines": []})) == [
        "lines"
    ]
    assert problem_fields(vendor.get(f"{V1}?status=gone")) == ["status"]


def test_others_returns_are_not_found(world: dict[str, Any]) -> None:
    made = post_json(world["customer"], V2, world["body"]).json()
    stranger, other_store = signed_in(UserFactory.create()), signed_in(f.shop().owner)

    assert stranger.get(f"{V2}{made['id']}/").status_code == 404
    assert post_json(stranger, f"{V2}{made['id']}/cancel/").status_code == 404
    assert post_json(stranger, V2, world["body"]).status_code == 404  # not their parcel
    assert other_store.get(f"{V1}{made['id']}/").status_code == 404
    assert post_json(other_store, f"{V1}{made['id']}/approve/").status_code == 404
    assert other_store.get(V1).json()["count"] == 0
    assert stranger.get(V2).json()["count"] == 0


def test_the_customer_withdraws_and_staff_act_for_a_store(world: dict[str, Any]) -> None:
    customer = world["customer"]
    first = post_json(customer, V2, world["body"]).json()
    withdrawn = post_json(customer, f"{V2}{first['id']}/cancel/")
    assert withdrawn.json()["status"] == "cancelled"
    assert post_json(customer, f"{V2}{first['id']}/cancel/").status_code == 409

    second = post_json(customer, V2, world["body"]).json()
    staff = signed_in(StaffFactory.create())
    rejected = post_json(staff, f"{V1}{second['id']}/reject/", {"reason": "Outside the policy"})
    assert rejected.json()["status"] == "rejected"
    assert customer.get(f"{V2}{second['id']}/").json()["decision_reason"] == "Outside the policy"
    assert [r["id"] for r in customer.get(V2).json()["items"]] == [second["id"], first["id"]]
