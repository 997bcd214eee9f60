"""A new customer from registration to an authenticated call on each API layer."""

from __future__ import annotations

import pytest

from apps.authentication.tests.conftest import PASSWORD, Api, last_code
from apps.catalog.tests.factories import make_product
from apps.vendors.models import Store

pytestmark = pytest.mark.django_db


def test_register_verify_login_and_use_both_layers(api: Api) -> None:
    make_product(name="Linen shirt")

    registered = api.post(
        "/api/v2/auth/register/",
        {"email": "vic@example.com", "password": PASSWORD, "full_name": "Vic", "role": "vendor"},
    )
    assert registered.status_code == 201
    code = last_code("vic@example.com")  # read from the email, as a person would
    verified = api.post("/api/v2/auth/verify-email/", {"email": "vic@example.com", "code": code})
    assert verified.status_code == 200
    login = api.post("/api/v2/auth/login/", {"email": "vic@example.com", "password": PASSWORD})
    assert login.status_code == 200
    access = login.json()["access"]

    v2 = api.get("/api/v2/auth/me/", token=access)
    v1 = api.get("/api/v1/vendor/store/", token=access)
    browse = api.get("/api/v2/products/", token=access)

    assert v2.status_code == 200 and v2.json()["is_email_verified"] is True
    assert v1.status_code == 200
    assert v1.json()["id"] == Store.objects.get(owner__email="vic@example.com").pk
    assert v1.json()["status"] == "pending"
    assert browse.status_code == 200 and browse.json()["items"][0]["name"] == "Linen shirt"
