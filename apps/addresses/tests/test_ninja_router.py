"""v2 address book over HTTP: add, list, read, change, remove one's own addresses;
another customer's address is 404; bad input is a 422 naming every bad field."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.addresses.models import Address
from apps.addresses.services import MAX_ADDRESSES
from apps.addresses.tests.factories import make_address
from apps.authentication.models import User
from apps.authentication.services import ClientInfo, session_start
from apps.vendors.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v2/addresses/"
PROBLEM = "application/problem+json"

LAGOS = {
    "recipient_name": "Ada Obi",
    "phone": "0803 123 4567",
    "line1": "12 Admiralty Way",
    "line2": "Lekki Phase 1",
    "city": "Lagos",
    "region": "lagos state",
    "country": "ng",
    "label": "Home",
}


class Customer:
    def __init__(self, user: User) -> None:
        self.user, self.client = user, Client()
        token = session_start(user=user, client=ClientInfo()).access
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(path, params or {}, **self.auth)  # type: ignore[arg-type]

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(path, body, content_type="application/json", **self.auth)  # type: ignore[arg-type]

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(path, body, content_type="application/json", **self.auth)  # type: ignore[arg-type]

    def delete(self, path: str) -> Any:
        return self.client.delete(path, **self.auth)  # type: ignore[arg-type]


@pytest.fixture
def customer() -> Customer:
    return Customer(UserFactory.create())


@pytest.fixture
def other() -> Customer:
    return Customer(UserFactory.create())


def _named(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == "validation_failed"
    return {error["field"]: error["code"] for error in body["errors"]}


def test_adding_an_address_answers_it_normalised(customer: Customer) -> None:
    response = customer.post(URL, LAGOS)

    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("phone", "region", "country", "country_name", "label")} == {
        "phone": "+2348031234567",
        "region": "Lagos",
        "country": "NG",
        "country_name": "Nigeria",
        "label": "Home",
    }
    assert body["is_default"] is True
    assert body["text"] == "Ada Obi, 12 Admiralty Way, Lekki Phase 1, Lagos, Lagos, Nigeria"
    assert body["created_at"].endswith("Z")
    assert Address.objects.get(pk=body["id"]).customer_id == customer.user.pk


def test_every_bad_field_is_named_in_one_answer(customer: Customer) -> None:
    body = LAGOS | {"recipient_name": "", "phone": "12", "region": "Gotham", "postal_code": "1"}
    del body["city"]

    response = customer.post(URL, body)

    assert _named(response) == {
        "recipient_name": "required",
        "phone": "invalid_phone",
        "city": "required",
        "region": "invalid_region",
        "postal_code": "invalid_postal_code",
    }
    assert not Address.objects.exists()


def test_a_wrongly_typed_or_oversize_field_is_named(customer: Customer) -> None:
    assert "is_default" in _named(customer.post(URL, LAGOS | {"is_default": "maybe"}))
    assert "phone" in _named(customer.post(URL, LAGOS | {"phone": 8031234567}))
    assert "label" in _named(customer.post(URL, LAGOS | {"label": "x" * 41}))
    assert "country" in _named(customer.post(URL, LAGOS | {"country": "Nigeria"}))
    assert not Address.objects.exists()


def test_the_list_pages_the_book_default_first(customer: Customer, other: Customer) -> None:
    default = make_address(customer=customer.user)
    older = make_address(customer=customer.user)
    newer = make_address(customer=customer.user)
    make_address(customer=other.user)

    first = customer.get(URL, {"limit": 2}).json()
    second = customer.get(URL, {"limit": 2, "offset": first["next_offset"]}).json()

    assert [a["id"] for a in first["items"]] == [default.pk, newer.pk]
    assert first["count"] == 3
    assert [a["id"] for a in second["items"]] == [older.pk]
    assert second["next_offset"] is None


@pytest.mark.parametrize("limit", ["0", "ten"])
def test_a_bad_limit_is_named(customer: Customer, limit: str) -> None:
    assert "limit" in _named(customer.get(URL, {"limit": limit}))


def test_a_limit_above_the_maximum_is_capped(customer: Customer) -> None:
    make_address(customer=customer.user)

    response = customer.get(URL, {"limit": 500})

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_reading_one_address(customer: Customer) -> None:
    address = make_address(customer=customer.user)

    response = customer.get(f"{URL}{address.pk}/")

    assert response.status_code == 200
    assert response.json()["postal_code"] == "106104"


def test_changing_an_address_checks_the_result_again(customer: Customer) -> None:
    address = make_address(customer=customer.user)

    refused = customer.patch(f"{URL}{address.pk}/", {"country": "US"})
    changed = customer.patch(f"{URL}{address.pk}/", {"city": "Ikeja", "postal_code": ""})

    # A Nigerian state and postcode make no US address; the phone, stored in international
    # form, stays valid in any country.
    assert _named(refused) == {"region": "invalid_region", "postal_code": "invalid_postal_code"}
    assert changed.status_code == 200, changed.content
    assert (changed.json()["city"], changed.json()["postal_code"]) == ("Ikeja", "")
    address.refresh_from_db()
    assert (address.city, address.country) == ("Ikeja", "NG")


def test_a_null_for_a_required_field_is_named(customer: Customer) -> None:
    address = make_address(customer=customer.user)

    assert _named(customer.patch(f"{URL}{address.pk}/", {"line1": None})) == {"line1": "required"}


def test_moving_the_default_through_the_api(customer: Customer) -> None:
    first = make_address(customer=customer.user)
    second = make_address(customer=customer.user)

    response = customer.patch(f"{URL}{second.pk}/", {"is_default": True})

    assert response.status_code == 200
    assert [a["id"] for a in customer.get(URL).json()["items"] if a["is_default"]] == [second.pk]
    assert "is_default" in _named(customer.patch(f"{URL}{second.pk}/", {"is_default": False}))
    first.refresh_from_db()
    assert not first.is_default


def test_removing_the_default_promotes_another(customer: Customer) -> None:
    default = make_address(customer=customer.user)
    other_address = make_address(customer=customer.user)

    response = customer.delete(f"{URL}{default.pk}/")

    assert response.status_code == 204
    items = customer.get(URL).json()["items"]
    assert [(a["id"], a["is_default"]) for a in items] == [(other_address.pk, True)]


def test_the_twenty_first_address_is_a_conflict(customer: Customer) -> None:
    for _ in range(MAX_ADDRESSES):
        make_address(customer=customer.user)

    response = customer.post(URL, LAGOS)

    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "address_limit_reached"
    assert response.json()["limit"] == MAX_ADDRESSES
    assert customer.user.addresses.count() == MAX_ADDRESSES


def test_another_customers_address_is_404_everywhere(customer: Customer, other: Customer) -> None:
    theirs = make_address(customer=other.user)
    path = f"{URL}{theirs.pk}/"

    answers = [customer.get(path), customer.patch(path, {"city": "Kano"}), customer.delete(path)]

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert {a.json()["code"] for a in answers} == {"address_not_found"}
    assert all(a["Content-Type"] == PROBLEM for a in answers)
    assert customer.get(URL).json()["items"] == []
    theirs.refresh_from_db()
    assert theirs.city == "Lagos"


def test_a_bad_patch_to_someone_elses_address_is_404_not_422(
    customer: Customer, other: Customer
) -> None:
    # Checking the body first would tell a stranger the id exists.
    theirs = make_address(customer=other.user)

    response = customer.patch(f"{URL}{theirs.pk}/", {"country": "XX"})

    assert response.status_code == 404


def test_signing_in_is_required(client: Client) -> None:
    address = make_address()

    answers = [
        client.get(URL),
        client.post(URL, LAGOS, content_type="application/json"),
        client.get(f"{URL}{address.pk}/"),
        client.delete(f"{URL}{address.pk}/"),
    ]

    assert [a.status_code for a in answers] == [401, 401, 401, 401]
    assert Address.objects.filter(pk=address.pk).exists()
