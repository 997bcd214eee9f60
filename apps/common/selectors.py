"""Reads that are not about any one domain."""

from importlib.metadata import PackageNotFoundError, version


def service_meta(*, api: str) -> dict[str, str]:
    """The service's name and installed version."""
    try:
        installed = version("fashionistar")
    except PackageNotFoundError:
        installed = "0.0.0+unknown"
    return {"name": "FASHIONISTAR", "version": installed, "api": api}
