"""Small helpers about the incoming HTTP request, shared by both API layers."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent ``request``.

    With ``settings.TRUSTED_PROXY_COUNT = 0`` (the default) that is ``REMOTE_ADDR``:
    ``X-Forwarded-For`` is written by the client and cannot be trusted. Behind N proxies
    that each append the address they received from, the N-th entry from the right of
    ``X-Forwarded-For`` is the one the outermost trusted proxy saw; anything to its left
    may be forged. A missing or too short header falls back to ``REMOTE_ADDR``.
    """
    remote_addr = str(request.META.get("REMOTE_ADDR") or "")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote_addr
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
    if len(addresses) < proxies:
        return remote_addr
    return addresses[-proxies]
