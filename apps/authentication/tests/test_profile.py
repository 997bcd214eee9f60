"""The signed-in user's profile on v2."""

from __future__ import annotations

from typing import Any

import pytest

from apps.authentication.models import User
from apps.authentication.tests.conftest import Api

pytestmark = pytest.mark.django_db


def test_read_and_update_my_profile(api: Api, tokens: dict[str, Any]) -> None:
    me = api.get("/api/v2/auth/me/", token=tokens["access"]).json()
    assert me["email"] == "grace@example.com"
    assert set(me) == {
        "id",
        "email",
        "full_name",
        "role",
        "is_email_verified",
        "two_factor_enabled",
        "date_joined",
    }

    response = api.patch(
        "/api/v2/auth/me/", {"full_name": "  Grace   Hopper "}, token=tokens["access"]
    )

    assert response.status_code == 200
    assert response.json()["full_name"] == "Grace Hopper"
    assert User.objects.get(email="grace@example.com").full_name == "Grace Hopper"


@pytest.mark.parametrize("full_name", ["", "   ", "x" * 151, 12])
def test_profile_bad_input_names_the_field(
    api: Api, tokens: dict[str, Any], full_name: Any
) -> None:
    response = api.patch("/api/v2/auth/me/", {"full_name": full_name}, token=tokens["access"])

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "full_name"


def test_the_profile_needs_a_token(api: Api, db: None) -> None:
    assert api.get("/api/v2/auth/me/").status_code == 401
    assert (
        api.client.patch("/api/v2/auth/me/", {}, content_type="application/json").status_code == 401
    )
