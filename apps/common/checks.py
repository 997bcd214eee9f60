"""System checks on settings the code relies on."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register


@register()
def task_time_limits_check(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Recovery of a dead worker's task waits ``TASK_TIME_LIMIT_MAX`` (+ grace) after it
    started: a task allowed to run longer could be started twice while still running.
    A warning, not an error: commands still start (tests shorten the limit on purpose)."""
    from apps.common.background import DECLARED_POLICIES

    ceiling = float(settings.TASK_TIME_LIMIT_MAX)
    return [
        Warning(
            f"{path} may run {policy.time_limit:g} s, longer than TASK_TIME_LIMIT_MAX "
            f"({ceiling:g} s)",
            hint="Raise TASK_TIME_LIMIT_MAX or shorten the task's time_limit.",
            id="fashionistar.W001",
        )
        for path, policy in sorted(DECLARED_POLICIES.items())
        if policy.time_limit > ceiling and not path.startswith("apps.common.tests.")
    ]
