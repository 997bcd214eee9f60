"""System checks refuse settings the code cannot work with."""

from __future__ import annotations

from django.test import override_settings

from apps.common.checks import task_time_limits_check


def test_every_task_fits_the_recovery_time_limit() -> None:
    assert task_time_limits_check() == []


@override_settings(TASK_TIME_LIMIT_MAX=5)
def test_a_task_allowed_longer_than_the_recovery_limit_is_a_warning() -> None:
    errors = task_time_limits_check()

    flagged = {error.msg.split()[0] for error in errors}
    assert "apps.orders.tasks.send_order_confirmation" in flagged
    assert all(error.id == "fashionistar.W001" for error in errors)
