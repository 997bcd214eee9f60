"""One interface over every payment provider.

Adapters speak the provider's real HTTP API at a configurable base URL (the local
sandbox, or the provider in production). Amounts cross this boundary in the currency's
minor units (kobo, cents). Failures are sorted for the retry policy: a
``TransientProviderError`` (timeout, connection error, 5xx, 429) is worth retrying, a
``PermanentProviderError`` (declined, bad request, unknown reference) is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

PaymentState = Literal["succeeded", "failed", "pending"]
EventKind = Literal["payment.succeeded", "payment.failed", "refund.succeeded", "other"]


class ProviderError(Exception):
    """A provider call failed; ``transient`` says whether trying again may help."""

    transient: bool = False

    def __init__(
        self, message: str, *, status_code: int | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code


class TransientProviderError(ProviderError):
    transient = True


class PermanentProviderError(ProviderError):
    transient = False


class InvalidSignature(Exception):
    """A webhook whose signature does not verify (forged, tampered, stale, wrong secret)."""


@dataclass(frozen=True)
class Checkout:
    """What the client needs to pay: a hosted page URL and/or a client secret."""

    provider_payment_id: str
    authorization_url: str | None = None
    client_secret: str | None = None


@dataclass(frozen=True)
class Verification:
    """The provider's own account of a payment."""

    state: PaymentState
    amount_minor: int
    currency: str
    provider_payment_id: str
    failure_reason: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook, normalised. ``reference`` is our payment reference when the
    provider echoes it; ``provider_payment_id`` is the provider's id. ``legacy_event_id``
    is the id an earlier release stored the same event under, when that has changed."""

    event_id: str
    kind: EventKind
    reference: str | None
    provider_payment_id: str | None
    raw_type: str
    payload: dict[str, Any] = field(default_factory=dict)
    legacy_event_id: str | None = None


@dataclass(frozen=True)
class RefundResult:
    """The provider's answer about one refund: ``pending`` means it accepted the refund
    and will complete it later (Paystack and Square queue refunds); ``failed`` that it
    will not happen."""

    provider_refund_id: str
    state: Literal["succeeded", "pending", "failed"]


class PaymentProvider(Protocol):
    name: str

    def initialise(
        self,
        *,
        reference: str,
        amount_minor: int,
        currency: str,
        email: str,
        metadata: Mapping[str, str],
    ) -> Checkout:
        """Start a payment of ``amount_minor`` for our ``reference``."""
        ...

    def verify(self, *, reference: str, provider_payment_id: str) -> Verification:
        """Ask the provider how the payment stands (never trust a webhook alone)."""
        ...

    def refund(
        self,
        *,
        reference: str,
        provider_payment_id: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        look_up_first: bool = False,
    ) -> RefundResult:
        """Refund ``amount_minor`` (all or part) of a succeeded payment.

        ``idempotency_key`` names this refund across every attempt: a provider that takes
        a key (Stripe, Square) answers a repeat with the refund the first call made;
        one that does not (Paystack) has it written on the refund, and with
        ``look_up_first`` (set when an earlier attempt's outcome is unknown) the refunds
        of the payment are searched for it first and a match is returned instead of
        making another. Raises ``TransientProviderError`` when the outcome is unknown
        (timeout, connection error, 5xx, a key still in use), ``PermanentProviderError``
        when it was refused."""
        ...

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify the signature over the raw ``body`` (constant-time), then parse.
        Raises ``InvalidSignature`` before looking at the content."""
        ...
