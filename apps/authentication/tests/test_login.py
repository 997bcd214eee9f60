"""Sign-in: one answer for wrong email or password, the emailed second factor, and the
per-account and per-IP limits."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from apps.authentication.models import User
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


def test_login_answers_tokens_and_the_profile(api: Api, verified_user: User) -> None:
    response = login(api, "GRACE@example.com")

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["user"]["email"] == EMAIL
    verified_user.refresh_from_db()
    assert verified_user.last_login is not None


def test_wrong_password_and_unknown_email_get_the_same_answer(
    api: Api, verified_user: User
) -> None:
    wrong_password = login(api, EMAIL, "not-my-password-1")
    unknown = login(api, "nobody@example.com", "not-my-password-1")

    assert wrong_password.status_code == unknown.status_code == 401
    strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
    assert strip(wrong_password.json()) == strip(unknown.json())
    assert wrong_password.json()["code"] == "invalid_credentials"


def test_a_disabled_account_cannot_log_in(api: Api) -> None:
    UserFactory.create(email=EMAIL, is_active=False)

    assert login(api, EMAIL).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "email"),
        ({"email": EMAIL}, "password"),
        ({"email": EMAIL, "password": ""}, "password"),
    ],
)
def test_login_bad_input_names_the_field(api: Api, body: dict[str, str], field: str) -> None:
    response = api.post("/api/v2/auth/login/", body)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def _enable_two_factor(api: Api, tokens: dict[str, Any]) -> None:
    response = api.post(
        "/api/v2/auth/me/two-factor/",
        {"enabled": True, "password": PASSWORD},
        token=tokens["access"],
    )
    assert response.status_code == 200, response.content
    assert response.json()["two_factor_enabled"] is True


def test_with_two_factor_on_login_needs_the_emailed_code(api: Api, tokens: dict[str, Any]) -> None:
    _enable_two_factor(api, tokens)

    challenge = login(api, EMAIL)

    assert challenge.status_code == 202
    body = challenge.json()
    assert set(body) == {"challenge_id", "detail", "expires_in"}
    assert "access" not in body
    [message] = emails_to(EMAIL)
    assert "sign-in" in message.subject.lower()
    response = api.post(
        "/api/v2/auth/login/verify/",
        {"challenge_id": body["challenge_id"], "code": last_code(EMAIL)},
    )
    assert response.status_code == 200
    assert api.get("/api/v2/auth/me/", token=response.json()["access"]).status_code == 200


def test_five_wrong_second_factor_codes_end_the_challenge(api: Api, tokens: dict[str, Any]) -> None:
    _enable_two_factor(api, tokens)
    challenge_id = login(api, EMAIL).json()["challenge_id"]
    code = last_code(EMAIL)

    for _ in range(5):
        wrong = api.post(
            "/api/v2/auth/login/verify/", {"challenge_id": challenge_id, "code": other_code(code)}
        )
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["field"] == "code"

    right = api.post("/api/v2/auth/login/verify/", {"challenge_id": challenge_id, "code": code})
    assert right.status_code == 422


def test_a_registration_code_cannot_answer_a_login_challenge(api: Api) -> None:
    api.post(
        "/api/v2/auth/register/",
        {"email": "ada@example.com", "password": PASSWORD, "full_name": "Ada"},
    )
    from apps.authentication.models import OneTimeCode

    registration = OneTimeCode.objects.get(email="ada@example.com")

    response = api.post(
        "/api/v2/auth/login/verify/",
        {"challenge_id": str(registration.public_id), "code": last_code("ada@example.com")},
    )

    assert response.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "123456"}, "challenge_id"),
        ({"challenge_id": "not-a-uuid", "code": "123456"}, "challenge_id"),
        ({"challenge_id": "6f1c1d1e-3b7a-4c57-9a3e-2f3f3f3f3f3f", "code": "12"}, "code"),
    ],
)
def test_login_verify_bad_input_names_the_field(api: Api, body: dict[str, str], field: str) -> None:
    response = api.post("/api/v2/auth/login/verify/", body)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_switching_two_factor_needs_the_password(api: Api, tokens: dict[str, Any]) -> None:
    response = api.post(
        "/api/v2/auth/me/two-factor/",
        {"enabled": True, "password": "wrong-one-1"},
        token=tokens["access"],
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"
    assert not User.objects.get(email=EMAIL).is_two_factor_enabled
    missing = api.post(
        "/api/v2/auth/me/two-factor/", {"password": PASSWORD}, token=tokens["access"]
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "enabled"
    assert (
        api.post("/api/v2/auth/me/two-factor/", {"enabled": True, "password": PASSWORD}).status_code
        == 401
    )


def test_too_many_logins_for_one_account_answer_429(
    api: Api, verified_user: User, settings: Any
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth_account": "3/hour", "auth_ip": "100/hour"}
    for _ in range(3):
        login(api, EMAIL, "wrong-password-1")

    response = login(api, EMAIL)  # even the right password waits

    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 0 < int(response["Retry-After"]) <= 3600
    assert login(api, "someone-else@example.com", "whatever-1").status_code == 401  # per account


def test_too_many_auth_requests_from_one_ip_answer_429(api: Api, settings: Any) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth_ip": "3/10m"}
    for n in range(3):
        login(api, f"user{n}@example.com", "whatever-1")

    blocked = api.post("/api/v2/auth/password/reset/", {"email": "x@example.com"})
    other_ip = api.post(
        "/api/v2/auth/password/reset/", {"email": "x@example.com"}, REMOTE_ADDR="203.0.113.9"
    )

    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) <= 600
    assert other_ip.status_code == 202
    assert mail.outbox == []
