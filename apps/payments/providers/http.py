"""What every adapter does the same way: send one request and sort its failure into
transient or permanent, and read fields out of the provider's JSON answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from apps.payments.providers.base import PermanentProviderError, TransientProviderError


def send_json(
    client: httpx.Client,
    provider: str,
    method: str,
    path: str,
    *,
    error_message: Callable[[dict[str, Any]], str | None],
    error_code: Callable[[dict[str, Any]], str | None] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """One request; the JSON object answered, or the matching provider error: transport
    failures (timeouts, refused connections, resets), 429 and 5xx are transient, other
    4xx and answers that are not JSON permanent. ``error_message`` reads the provider's
    error text out of an error body, ``error_code`` its machine-readable code."""
    try:
        response = client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise TransientProviderError(f"{provider} unreachable: {exc!r}") from exc
    try:
        body = response.json()
    except ValueError:
        body = None
    message = error_message(body) if isinstance(body, dict) else None
    code = error_code(body) if error_code is not None and isinstance(body, dict) else None
    status = response.status_code
    if status == 429 or status >= 500:
        raise TransientProviderError(
            f"{provider} {status}: {message}", status_code=status, code=code
        )
    if status >= 400:
        raise PermanentProviderError(
            f"{provider} {status}: {message}", status_code=status, code=code
        )
    if not isinstance(body, dict):
        raise PermanentProviderError(f"{provider} answered with no JSON object", status_code=status)
    return body


def header(headers: Mapping[str, str], name: str) -> str:
    """Header lookup that does not depend on the mapping being case-insensitive."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value or ""


class AnswerReader:
    """Typed reads of a provider's answer; a missing or mistyped field is permanent."""

    def __init__(self, provider: str) -> None:
        self.provider = provider

    def text(self, data: Mapping[str, Any], key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value:
            raise PermanentProviderError(f"{self.provider} answer lacks {key}")
        return value

    def whole(self, data: Mapping[str, Any], key: str) -> int:
        """An integer, also when sent as a string of digits (Paystack does both)."""
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise PermanentProviderError(f"{self.provider} answer lacks a whole {key}")
        return int(value)

    @staticmethod
    def object(data: Mapping[str, Any], key: str) -> dict[str, Any]:
        """``data[key]`` when it is a JSON object, else an empty one."""
        value = data.get(key)
        return value if isinstance(value, dict) else {}


def unknown_outcome(provider: str, error: PermanentProviderError) -> TransientProviderError:
    """For a call that moves money: an error that does not prove the provider refused
    (an answer that is not JSON or lacks a field, a key still in use) becomes
    "outcome unknown", which is transient: the call is asked about again, never
    treated as refused."""
    return TransientProviderError(
        f"{provider}: outcome unknown ({error})", status_code=error.status_code, code=error.code
    )
