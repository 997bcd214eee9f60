"""Registration (customer and vendor), email verification and the resend endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from apps.authentication.models import Role, User
from apps.authentication.tests.conftest import (
    PASSWORD,
    Api,
    emails_to,
    last_code,
    login,
    other_code,
    register,
)
from apps.vendors.models import Store, StoreStatus
from apps.vendors.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_registering_creates_an_unverified_customer_and_emails_a_code(api: Api) -> None:
    response = register(api, email="Ada@Example.com")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["email"] == "ada@example.com"
    assert body["user"]["role"] == "customer"
    assert body["user"]["is_email_verified"] is False
    assert body["code_expires_in"] == 600
    user = User.objects.get(email="ada@example.com")
    assert user.check_password(PASSWORD) and not user.is_email_verified
    [message] = emails_to("ada@example.com")
    code = last_code("ada@example.com")
    assert code not in message.subject
    assert "10 minutes" in str(message.body)
    html = message.alternatives[0].content  # type: ignore[attr-defined]
    assert code in html


def test_an_unverified_account_cannot_log_in(api: Api) -> None:
    register(api)

    response = login(api, "ada@example.com")

    assert response.status_code == 403
    assert response.json()["code"] == "email_not_verified"


def test_verifying_the_email_signs_the_account_in(api: Api) -> None:
    register(api)

    response = api.post(
        "/api/v2/auth/verify-email/",
        {"email": "ADA@example.com", "code": last_code("ada@example.com")},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["access"] and body["refresh"] and body["token_type"] == "Bearer"
    assert body["user"]["is_email_verified"] is True
    assert User.objects.get(email="ada@example.com").is_email_verified
    assert login(api, "ada@example.com").status_code == 200


def test_registering_as_a_vendor_creates_a_pending_store(api: Api) -> None:
    response = register(api, email="vic@example.com", role="vendor", store_name="Vic's Vintage")

    assert response.status_code == 201, response.content
    store = Store.objects.get(owner__email="vic@example.com")
    assert store.owner.role == Role.VENDOR
    assert (store.name, store.slug, store.status) == (
        "Vic's Vintage",
        "vics-vintage",
        StoreStatus.PENDING,
    )


def test_a_vendor_without_a_store_name_gets_a_store_named_after_them(api: Api) -> None:
    register(api, email="vic@example.com", role="vendor", full_name="Vic Vendor")

    assert Store.objects.get(owner__email="vic@example.com").name == "Vic Vendor"


def test_an_address_registers_once_regardless_of_case(api: Api) -> None:
    UserFactory.create(email="ada@example.com")

    response = register(api, email="ADA@example.com")

    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "email"
    assert User.objects.filter(email__iexact="ada@example.com").count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"password": "123"}, "password"),
        ({"password": "password"}, "password"),
        ({"password": "ada@example.com"}, "password"),
        ({"full_name": ""}, "full_name"),
        ({"full_name": "   "}, "full_name"),
        ({"full_name": "x" * 151}, "full_name"),
        ({"role": "staff"}, "role"),
        ({"role": "vendor", "store_name": "!!!"}, "store_name"),
        ({"store_name": "x" * 121}, "store_name"),
    ],
)
def test_bad_registrations_name_the_field_and_write_nothing(
    api: Api, change: dict[str, str], field: str
) -> None:
    response = register(api, **change)

    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not User.objects.exists()
    assert not Store.objects.exists()
    assert mail.outbox == []


def test_missing_fields_and_malformed_json_are_client_errors(api: Api) -> None:
    response = api.post("/api/v2/auth/register/", {"email": "ada@example.com"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"password", "full_name"}

    raw = api.client.post("/api/v2/auth/register/", "{not json", content_type="application/json")
    assert raw.status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "ada@example.com", "code": "12345"}, "code"),
        ({"email": "ada@example.com", "code": "abcdef"}, "code"),
        ({"email": "ada@example.com"}, "code"),
        ({"code": "123456"}, "email"),
    ],
)
def test_verify_email_bad_input_names_the_field(api: Api, body: dict[str, str], field: str) -> None:
    response = api.post("/api/v2/auth/verify-email/", body)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_a_wrong_code_does_not_verify(api: Api) -> None:
    register(api)

    response = api.post(
        "/api/v2/auth/verify-email/",
        {"email": "ada@example.com", "code": other_code(last_code("ada@example.com"))},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "code",
        "message": "This code is wrong, used or expired. Ask for a new one.",
        "code": "invalid_code",
    }
    assert not User.objects.get(email="ada@example.com").is_email_verified


def test_resend_mails_a_new_code_and_the_old_one_stops_working(api: Api, time_machine: Any) -> None:
    time_machine.move_to("2026-11-22 10:00:00Z", tick=False)
    register(api)
    first = last_code("ada@example.com")
    time_machine.shift(61)

    response = api.post("/api/v2/auth/resend-code/", {"email": "ada@example.com"})

    assert response.status_code == 202
    assert len(emails_to("ada@example.com")) == 2
    second = last_code("ada@example.com")
    old = api.post("/api/v2/auth/verify-email/", {"email": "ada@example.com", "code": first})
    assert old.status_code == 422
    new = api.post("/api/v2/auth/verify-email/", {"email": "ada@example.com", "code": second})
    assert new.status_code == 200


def test_resend_to_a_verified_account_sends_nothing(api: Api, time_machine: Any) -> None:
    UserFactory.create(email="grace@example.com")

    response = api.post("/api/v2/auth/resend-code/", {"email": "grace@example.com"})

    assert response.status_code == 202
    assert mail.outbox == []


def test_resend_bad_input_names_the_field(api: Api) -> None:
    for body in ({}, {"email": "nope"}):
        response = api.post("/api/v2/auth/resend-code/", body)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "email"
