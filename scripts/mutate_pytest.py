"""pytest plugin used by ``make mutate``: one SQLite test database per test run.

mutmut forks a child per mutant from a process that has already loaded the settings, so
every child would share one test database name (it carries the parent's pid) and the runs
would overwrite each other. Each run instead works on its own copy of a template database
that ``scripts/mutate.sh`` migrated once (``MUTATE_TEMPLATE_DB``): the copy takes the
place of the test database set-up, and it is removed when the run ends.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest


def _run_database() -> Path:
    template = Path(os.environ["MUTATE_TEMPLATE_DB"])
    return template.with_name(f"run-{os.getpid()}.sqlite3")


def _use_run_database(*args: Any, **kwargs: Any) -> list[Any]:
    """Stands in for ``django.test.utils.setup_databases``: the copy is already migrated."""
    from django.conf import settings
    from django.db import connections

    database = _run_database()
    shutil.copyfile(os.environ["MUTATE_TEMPLATE_DB"], database)
    connection = connections["default"]
    connection.close()
    settings.DATABASES["default"]["NAME"] = str(database)
    connection.settings_dict["NAME"] = str(database)
    return []


def pytest_sessionstart(session: pytest.Session) -> None:
    import django.test.utils

    django.test.utils.setup_databases = _use_run_database


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    from django.db import connections

    connections.close_all()
    database = _run_database()
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
