"""The 60-second resend cooldown is per purpose: a code for one thing does not hold back
a code for another; the hourly cap still counts every code to the address."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from apps.authentication.models import User
from apps.authentication.tests.conftest import PASSWORD, Api, last_code, login

pytestmark = pytest.mark.django_db

NOW = "2026-11-22 10:00:00Z"


def test_a_sign_in_code_is_not_held_back_by_the_sign_up_code(api: Api, time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)
    email = "grace@example.com"
    api.post(
        "/api/v2/auth/register/",
        {"email": email, "password": PASSWORD, "full_name": "Grace Hopper"},
    )
    assert (
        api.post(
            "/api/v2/auth/verify-email/", {"email": email, "code": last_code(email)}
        ).status_code
        == 200
    )
    User.objects.filter(email=email).update(is_two_factor_enabled=True)
    time_machine.shift(10)

    first = login(api, email)
    again = login(api, email)

    assert first.status_code == 202, first.content
    assert again.status_code == 429, "a second sign-in code inside the minute waits"
    assert again.json()["code"] == "code_cooldown"
    assert len(mail.outbox) == 2, "the sign-up code and one sign-in code"


def test_a_reset_code_right_after_sign_up_is_sent(api: Api, time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)
    email = "ada@example.com"
    api.post(
        "/api/v2/auth/register/",
        {"email": email, "password": PASSWORD, "full_name": "Ada Lovelace"},
    )

    reset = api.post("/api/v2/auth/password/reset/", {"email": email})

    assert reset.status_code == 202
    assert len(mail.outbox) == 2
