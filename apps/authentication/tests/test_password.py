"""Password reset by emailed code (enumeration-safe), password change, and the
"your password was changed" email."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from apps.authentication.models import OneTimeCode, User
from apps.authentication.tests.conftest import (
    PASSWORD,
    Api,
    emails_to,
    last_code,
    login,
    other_code,
)
from apps.vendors.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EMAIL = "grace@example.com"
NEW_PASSWORD = "brand-New-pass-42"


def _without_request_id(response: Any) -> tuple[int, dict[str, Any]]:
    body = {k: v for k, v in response.json().items() if k != "request_id"}
    return response.status_code, body


def _reset(api: Api, email: str, **headers: str) -> Any:
    return api.post("/api/v2/auth/password/reset/", {"email": email}, **headers)


def _confirm(api: Api, code: str, password: str = NEW_PASSWORD, email: str = EMAIL) -> Any:
    return api.post(
        "/api/v2/auth/password/reset/confirm/",
        {"email": email, "code": code, "new_password": password},
    )


def test_reset_sets_a_new_password_and_signs_every_session_out(
    api: Api, tokens: dict[str, Any]
) -> None:
    assert _reset(api, EMAIL).status_code == 202
    code = last_code(EMAIL)

    response = _confirm(api, code)

    assert response.status_code == 200
    assert login(api, EMAIL).status_code == 401
    assert login(api, EMAIL, NEW_PASSWORD).status_code == 200
    assert api.get("/api/v2/auth/me/", token=tokens["access"]).status_code == 401
    assert (
        api.post("/api/v2/auth/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401
    )
    changed = emails_to(EMAIL)[-1]
    assert "password was changed" in changed.subject.lower()


def test_reset_answers_the_same_for_known_and_unknown_addresses(
    api: Api, verified_user: User, time_machine: Any
) -> None:
    time_machine.move_to("2026-11-22 10:00:00Z", tick=False)
    known = _reset(api, EMAIL)
    unknown = _reset(api, "nobody@example.com")

    assert _without_request_id(known) == _without_request_id(unknown)
    assert known.status_code == 202
    assert len(mail.outbox) == 1  # only the real account got mail
    # Limits behave alike too, so a 429 tells nothing either.
    time_machine.shift(10)
    assert _without_request_id(_reset(api, EMAIL)) == _without_request_id(
        _reset(api, "nobody@example.com")
    )
    assert _reset(api, "nobody@example.com").status_code == 429
    # And both did the same bookkeeping (the unknown address's row can never be used).
    assert OneTimeCode.objects.filter(email=EMAIL).count() == 1
    assert OneTimeCode.objects.filter(email="nobody@example.com", user=None).count() == 1


def test_resend_answers_the_same_for_known_and_unknown_addresses(api: Api) -> None:
    api.post(
        "/api/v2/auth/register/",
        {"email": "ada@example.com", "password": PASSWORD, "full_name": "Ada"},
    )
    UserFactory.create(email=EMAIL)  # verified: nothing to resend
    mail.outbox.clear()

    pending = api.post("/api/v2/auth/resend-code/", {"email": "ada@example.com"})
    verified = api.post("/api/v2/auth/resend-code/", {"email": EMAIL})
    unknown = api.post("/api/v2/auth/resend-code/", {"email": "nobody@example.com"})

    # The pending account is still inside the 60 s cooldown from registration.
    assert _without_request_id(pending)[0] == 429
    assert _without_request_id(verified) == _without_request_id(unknown)
    assert verified.status_code == 202


def test_a_wrong_reset_code_changes_nothing(api: Api, verified_user: User) -> None:
    _reset(api, EMAIL)

    response = _confirm(api, other_code(last_code(EMAIL)))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "code"
    assert login(api, EMAIL).status_code == 200


def test_a_weak_new_password_is_refused_and_the_code_stays_usable(
    api: Api, verified_user: User
) -> None:
    _reset(api, EMAIL)
    code = last_code(EMAIL)

    weak = _confirm(api, code, password="grace123")

    assert weak.status_code == 422
    assert {e["field"] for e in weak.json()["errors"]} == {"new_password"}
    assert _confirm(api, code).status_code == 200


def test_resetting_proves_the_address_of_an_unverified_account(api: Api) -> None:
    UserFactory.create(email=EMAIL, is_email_verified=False)
    _reset(api, EMAIL)

    _confirm(api, last_code(EMAIL))

    assert User.objects.get(email=EMAIL).is_email_verified
    assert login(api, EMAIL, NEW_PASSWORD).status_code == 200


def test_reset_for_an_unknown_address_never_accepts_a_code(api: Api) -> None:
    _reset(api, "nobody@example.com")

    for code in ("000000", "123456"):
        response = _confirm(api, code, email="nobody@example.com")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "code"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "nope"}, "email"),
        ({}, "email"),
    ],
)
def test_reset_bad_input_names_the_field(api: Api, body: dict[str, str], field: str) -> None:
    response = api.post("/api/v2/auth/password/reset/", body)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "123456", "new_password": NEW_PASSWORD}, "email"),
        ({"email": EMAIL, "new_password": NEW_PASSWORD}, "code"),
        ({"email": EMAIL, "code": "1234567", "new_password": NEW_PASSWORD}, "code"),
        ({"email": EMAIL, "code": "123456"}, "new_password"),
    ],
)
def test_reset_confirm_bad_input_names_the_field(
    api: Api, body: dict[str, str], field: str
) -> None:
    response = api.post("/api/v2/auth/password/reset/confirm/", body)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_changing_the_password_needs_the_current_one_and_signs_out(
    api: Api, tokens: dict[str, Any]
) -> None:
    wrong = api.post(
        "/api/v2/auth/password/change/",
        {"current_password": "not-it-1", "new_password": NEW_PASSWORD},
        token=tokens["access"],
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "current_password"
    weak = api.post(
        "/api/v2/auth/password/change/",
        {"current_password": PASSWORD, "new_password": "short"},
        token=tokens["access"],
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["field"] == "new_password"

    response = api.post(
        "/api/v2/auth/password/change/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        token=tokens["access"],
    )

    assert response.status_code == 200
    assert api.get("/api/v2/auth/me/", token=tokens["access"]).status_code == 401
    assert login(api, EMAIL, NEW_PASSWORD).status_code == 200
    assert "password was changed" in emails_to(EMAIL)[-1].subject.lower()
