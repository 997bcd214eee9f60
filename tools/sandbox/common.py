"""Types and helpers shared by the sandbox's core and its provider APIs."""

from __future__ import annotations

import json
import os
import re
import secrets as _random
import string
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

PROVIDERS = ("paystack", "stripe", "square")
MODES = (
    "normal",
    "decline",
    "timeout",
    "error_5xx",
    "amount_mismatch",
    "currency_mismatch",
    "refund_timeout",
    "refund_dropped",
    "refund_failed",
    "transfer_failed",
    "transfer_fails_later",
    "transfer_held",
)
# Modes that act on a refund the sandbox has just recorded.
REFUND_ANSWER_MODES = frozenset({"refund_timeout", "refund_dropped"})
WEBHOOK_PATH = "/api/v2/webhooks/{provider}/"
DEFAULT_DELIVER_TO = "http://127.0.0.1:8000"

JSON = dict[str, Any]


class SandboxError(Exception):
    """A request the sandbox refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


@dataclass(frozen=True)
class SandboxSecrets:
    """The credentials the sandbox expects and signs with. The defaults are sandbox-only
    values, shared with the app's local settings; they open nothing real."""

    paystack_secret_key: str = "sk_test_sandbox_paystack"  # noqa: S105 - sandbox-only value
    stripe_secret_key: str = "sk_test_sandbox_stripe"  # noqa: S105 - sandbox-only value
    stripe_webhook_secret: str = "whsec_sandbox_stripe"  # noqa: S105 - sandbox-only value
    square_access_token: str = "sandbox-square-token"  # noqa: S105 - sandbox-only value
    square_webhook_signature_key: str = "sandbox-square-signature-key"
    # Square signs the notification URL too; None means the app's webhook URL under
    # ``deliver_to``.
    square_webhook_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SandboxSecrets:
        """Read the variables the app's settings read, falling back to the defaults."""
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            paystack_secret_key=env.get("PAYSTACK_SECRET_KEY") or defaults.paystack_secret_key,
            stripe_secret_key=env.get("STRIPE_SECRET_KEY") or defaults.stripe_secret_key,
            stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET")
            or defaults.stripe_webhook_secret,
            square_access_token=env.get("SQUARE_ACCESS_TOKEN") or defaults.square_access_token,
            square_webhook_signature_key=env.get("SQUARE_WEBHOOK_SIGNATURE_KEY")
            or defaults.square_webhook_signature_key,
            square_webhook_url=env.get("SQUARE_WEBHOOK_URL") or None,
        )

    def api_key(self, provider: str) -> str:
        return {
            "paystack": self.paystack_secret_key,
            "stripe": self.stripe_secret_key,
            "square": self.square_access_token,
        }[provider]


@dataclass
class Behaviour:
    """How the sandbox misbehaves for one payment (or ``*``, every payment)."""

    mode: str
    times: int | None = None  # None: until told "normal"
    delay: float = 5.0
    status: int = 500


@dataclass
class Txn:
    """One payment as the provider sees it, whichever the provider."""

    provider: str
    reference: str
    amount: int
    currency: str
    email: str
    metadata: dict[str, Any]
    pay_id: str  # the id in the hosted page URL
    provider_id: str  # the id the provider's API addresses the payment by
    created: float
    state: str = "pending"  # pending | succeeded | failed
    paid_at: float | None = None
    secret: str = ""  # Stripe client_secret
    callback_url: str = ""
    attempts: list[JSON] = field(default_factory=list)  # card attempts: id, status, created
    # id, amount, created, status ("succeeded" | "failed"), and what the provider keeps
    # with it (Paystack's notes, Stripe's metadata, Square's reason).
    refunds: list[JSON] = field(default_factory=list)
    extra: JSON = field(default_factory=dict)

    def ids(self) -> set[str]:
        """Every id this payment answers to (behaviours and look-ups match on these)."""
        found = {self.reference, self.pay_id, self.provider_id}
        found.update(str(attempt["id"]) for attempt in self.attempts)
        found.update(str(refund["id"]) for refund in self.refunds)
        return found

    @property
    def refunded(self) -> int:
        """What the refunds that did not fail gave back."""
        return sum(int(r["amount"]) for r in self.refunds if r.get("status") != "failed")

    def captured(self) -> JSON | None:
        return next((a for a in self.attempts if a["status"] == "succeeded"), None)


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    # Close the connection without answering (the work is done; the answer is lost).
    drop: bool = False


# A route handler: path parameters, request headers, raw body, public base URL.
Route = Callable[[dict[str, str], Mapping[str, str], bytes, str], Reply]


def json_reply(status: int, payload: Any) -> Reply:
    return Reply(status, json.dumps(payload, indent=2).encode())


def token(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(_random.choice(alphabet) for _ in range(length))


BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
BASE36 = string.digits + string.ascii_uppercase

# Every id the sandbox issues starts from this clock: microseconds since the epoch, made
# strictly increasing within the process. A restarted sandbox starts later, so its ids
# differ from every id an earlier run handed out; the random part keeps sandboxes running
# side by side (several test processes) apart too.
_clock_lock = threading.Lock()
_last_tick = 0
_TICK_LIMIT = 2**55  # microseconds: about the year 3111


def _tick() -> int:
    global _last_tick
    with _clock_lock:
        _last_tick = max(_last_tick + 1, time.time_ns() // 1000)
        return _last_tick


def unique_number() -> int:
    """A Paystack-style numeric id: the clock (µs) followed by three random digits. Nineteen
    digits at most, so it fits a signed 64-bit integer."""
    return _tick() * 1000 + _random.randbelow(1000)


def unique_token(length: int, alphabet: str = BASE62) -> str:
    """An opaque id of ``length`` characters from ``alphabet``: the clock in that alphabet
    (fixed width), then random characters."""
    base = len(alphabet)
    width = 1
    while base**width < _TICK_LIMIT:
        width += 1
    if length < width + 4:
        raise ValueError(f"an id of {length} characters leaves no room for randomness")
    tick, digits = _tick(), []
    for _ in range(width):
        tick, digit = divmod(tick, base)
        digits.append(alphabet[digit])
    return "".join(reversed(digits)) + token(length - width, alphabet)


def unique_uuid() -> str:
    """A version-7 UUID (RFC 9562): 48 bits of milliseconds, then random bits, with the
    sub-millisecond clock in the first random field so ids stay ordered in a process."""
    tick = _tick()
    millis, micros = divmod(tick, 1000)
    value = (millis & (2**48 - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (micros * 4096 // 1000) << 64  # rand_a: 12 bits
    value |= 0b10 << 62  # variant
    value |= _random.randbits(62)
    return str(uuid.UUID(int=value))


def iso(timestamp: float | None) -> str | None:
    """RFC 3339 in UTC with milliseconds, as the providers write timestamps."""
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def positive_int(value: Any) -> int | None:
    """A positive whole amount, accepting digit strings as the APIs do."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    return None


def json_body(body: bytes) -> JSON:
    try:
        payload = json.loads(body or b"{}")
    except ValueError as exc:
        raise SandboxError(400, "Request body is not valid JSON") from exc
    if not isinstance(payload, dict):
        raise SandboxError(400, "Request body must be a JSON object")
    return payload


def form_body(body: bytes) -> JSON:
    """Decode Stripe's form encoding, where ``metadata[reference]=x`` is a nested key."""
    result: JSON = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        if not parts:
            continue
        target = result
        for part in parts[:-1]:
            nested = target.setdefault(part, {})
            if not isinstance(nested, dict):
                break
            target = nested
        else:
            target[parts[-1]] = value
    return result


def as_object(data: Mapping[str, Any], key: str) -> JSON:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def error_body(provider: str, status: int, message: str, code: str = "") -> JSON:
    """An error in the provider's own shape."""
    if provider == "paystack":
        return {"status": False, "message": message, **({"code": code} if code else {})}
    if provider == "stripe":
        kind = "api_error" if status >= 500 else "invalid_request_error"
        if status == 429:
            kind = "rate_limit_error"
        elif code == "idempotency_error":
            kind = "idempotency_error"
        return {"error": {"type": kind, "message": message, **({"code": code} if code else {})}}
    category = {401: "AUTHENTICATION_ERROR", 429: "RATE_LIMIT_ERROR"}.get(
        status, "API_ERROR" if status >= 500 else "INVALID_REQUEST_ERROR"
    )
    default_code = {401: "UNAUTHORIZED", 404: "NOT_FOUND", 429: "RATE_LIMITED"}.get(
        status, "INTERNAL_SERVER_ERROR" if status >= 500 else "BAD_REQUEST"
    )
    return {"errors": [{"category": category, "code": code or default_code, "detail": message}]}
