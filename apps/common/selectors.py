"""Reads that are not about any one domain."""

import os
from importlib.metadata import PackageNotFoundError, version


def service_meta(*, api: str) -> dict[str, str]:
    """The service's name, installed version and environment (the last part of the
    settings module: ``local``, ``production`` …)."""
    try:
        installed = version("fashionistar")
    except PackageNotFoundError:
        installed = "0.0.0+unknown"
    # The environment variable, not ``settings.SETTINGS_MODULE``: that is None while
    # settings are overridden (override_settings), which made this answer 500.
    environment = os.environ.get("DJANGO_SETTINGS_MODULE", "").rsplit(".", 1)[-1]
    return {"name": "FASHIONISTAR", "version": installed, "api": api, "environment": environment}
