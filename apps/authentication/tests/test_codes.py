"""The emailed-code rules: expiry, single use, 5 wrong attempts, purpose binding, send
cooldown and hourly cap, and that the code is never stored."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.core import mail
from django.db import connection
from django.test import override_settings

from apps.authentication.models import CodePurpose, OneTimeCode
from apps.authentication.tasks import send_one_time_code
from apps.authentication.tests.conftest import Api, last_code, other_code, register

pytestmark = pytest.mark.django_db

EMAIL = "ada@example.com"
NOW = "2026-11-22 10:00:00Z"


def _verify(api: Api, code: str, email: str = EMAIL) -> Any:
    return api.post("/api/v2/auth/verify-email/", {"email": email, "code": code})


def test_a_code_is_six_digits_from_a_fresh_random_source(api: Api) -> None:
    codes = set()
    for n in range(20):
        register(api, email=f"user{n}@example.com")
        codes.add(last_code(f"user{n}@example.com"))
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(codes) >= 19  # 20 draws from a million collide with probability ~2e-4


def test_a_code_works_until_ten_minutes_have_passed(api: Api, time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)
    register(api)
    code = last_code(EMAIL)

    time_machine.shift(10 * 60)
    assert _verify(api, code).status_code == 422

    time_machine.move_to("2026-11-22 10:09:59Z", tick=False)
    assert _verify(api, code).status_code == 200


def test_a_code_is_single_use(api: Api) -> None:
    register(api)
    code = last_code(EMAIL)

    assert _verify(api, code).status_code == 200
    again = _verify(api, code)

    assert again.status_code == 422
    assert again.json()["errors"][0]["code"] == "invalid_code"


def test_five_wrong_attempts_burn_the_code(api: Api) -> None:
    register(api)
    code = last_code(EMAIL)

    for _ in range(5):
        assert _verify(api, other_code(code)).status_code == 422

    assert _verify(api, code).status_code == 422
    assert OneTimeCode.objects.get(email=EMAIL).failed_attempts == 5


def test_four_wrong_attempts_leave_the_code_usable(api: Api) -> None:
    register(api)
    code = last_code(EMAIL)

    for _ in range(4):
        _verify(api, other_code(code))

    assert _verify(api, code).status_code == 200


def test_a_registration_code_cannot_reset_the_password(api: Api) -> None:
    register(api)
    code = last_code(EMAIL)

    response = api.post(
        "/api/v2/auth/password/reset/confirm/",
        {"email": EMAIL, "code": code, "new_password": "another-Strong-pass-7"},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "code"
    assert _verify(api, code).status_code == 200  # and it still verifies the address


def test_a_reset_code_cannot_verify_the_address(api: Api, time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)
    register(api)
    time_machine.shift(61)
    api.post("/api/v2/auth/password/reset/", {"email": EMAIL})
    reset_code = last_code(EMAIL)
    assert OneTimeCode.objects.filter(purpose=CodePurpose.PASSWORD_RESET).count() == 1

    assert _verify(api, reset_code).status_code == 422


def test_resend_waits_sixty_seconds_between_codes(api: Api, time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)
    register(api)
    time_machine.shift(30)

    early = api.post("/api/v2/auth/resend-code/", {"email": EMAIL})

    assert early.status_code == 429
    assert early["Retry-After"] == "30"
    assert early.json()["code"] == "code_cooldown"
    assert len(mail.outbox) == 1
    time_machine.shift(30)
    assert api.post("/api/v2/auth/resend-code/", {"email": EMAIL}).status_code == 202
    assert len(mail.outbox) == 2


def test_at_most_five_codes_per_hour_per_address(api: Api, time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)
    register(api)  # code 1 at 10:00
    for _ in range(4):  # codes 2-5 at 10:01 … 10:04
        time_machine.shift(60)
        assert api.post("/api/v2/auth/resend-code/", {"email": EMAIL}).status_code == 202
    time_machine.shift(60)

    sixth = api.post("/api/v2/auth/resend-code/", {"email": EMAIL})

    assert sixth.status_code == 429
    assert sixth.json()["code"] == "code_hourly_limit"
    assert sixth["Retry-After"] == str(55 * 60)  # the 10:00 code leaves the window at 11:00
    assert len(mail.outbox) == 5
    time_machine.move_to("2026-11-22 11:00:01Z", tick=False)
    assert api.post("/api/v2/auth/resend-code/", {"email": EMAIL}).status_code == 202


def _database_text() -> str:
    """Every value in every table of the project and the task backend, as one string."""
    chunks: list[str] = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            if table not in connection.introspection.table_names():
                continue
            text_columns = [
                str(field.column)
                for field in model._meta.concrete_fields
                if field.get_internal_type()
                in {"CharField", "TextField", "JSONField", "EmailField", "SlugField", "BinaryField"}
            ]
            if not text_columns:
                continue
            columns = ", ".join(connection.ops.quote_name(c) for c in text_columns)
            cursor.execute(f"SELECT {columns} FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(chunks)


@override_settings(
    TASKS={
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["emails"]},
        "inline": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": []},
    }
)
def test_the_plaintext_code_is_stored_nowhere(api: Api) -> None:
    """The email task waits in the database queue; the code is in neither the code table
    nor the task's arguments (the task re-derives it from the row id)."""
    from django_tasks_db.models import DBTaskResult

    register(api)
    [queued] = DBTaskResult.objects.all()
    assert queued.queue_name == "emails"
    assert queued.task_path == "apps.authentication.tasks.send_one_time_code"
    kwargs = {k: v for k, v in queued.args_kwargs["kwargs"].items() if not k.startswith("_")}
    assert kwargs == {"code_id": OneTimeCode.objects.get(email=EMAIL).pk}
    with api.capture(execute=True):  # what the worker would do with it
        send_one_time_code.using(backend="inline").enqueue(**kwargs)
    code = last_code(EMAIL)

    stored = _database_text()

    assert OneTimeCode.objects.get(email=EMAIL).code_hash in stored
    assert code not in stored
