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
EventKind = Literal[
    "payment.succeeded",
    "payment.failed",
    "refund.succeeded",
    "transfer.succeeded",
    "transfer.failed",
    "transfer.reversed",
    "other",
]
TransferState = Literal["pending", "succeeded", "failed", "reversed"]
#: The webhook kinds that concern a transfer (a payout) rather than a payment.
TRANSFER_KINDS: frozenset[str] = frozenset(
    {"transfer.succeeded", "transfer.failed", "transfer.reversed"}
)


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


@dataclass(frozen=True)
class TransferResult:
    """The provider's account of one transfer to a vendor: ``pending`` (queued: Paystack
    settles later and says so by webhook), ``succeeded`` (the money left), ``failed``
    (it never left) or ``reversed`` (it left and came back)."""

    state: TransferState
    transfer_id: str
    failure_reason: str = ""


@dataclass(frozen=True)
class DestinationCheck:
    """What the provider says about a payout destination (a Paystack transfer recipient,
    a Stripe connected account): whether transfers to it can be made, the name it holds,
    and its currency (empty when it takes any)."""

    verified: bool
    account_name: str = ""
    currency: str = ""
    reason: str = ""


class TransfersUnsupported(ValueError):
    """The provider has no API for paying third parties (Square): payouts are manual."""


class TransferProvider(Protocol):
    """Transfers from the marketplace's balance to a vendor (payouts)."""

    name: str

    def destination_check(self, *, account_code: str) -> DestinationCheck:
        """Ask the provider about a destination. An unknown one is ``verified=False``;
        raises ``TransientProviderError`` when the provider cannot say."""
        ...

    def transfer(
        self,
        *,
        reference: str,
        amount_minor: int,
        currency: str,
        account_code: str,
        reason: str,
        look_up_first: bool = False,
    ) -> TransferResult:
        """Send ``amount_minor`` to ``account_code`` under our ``reference``, which names
        this transfer across every attempt: a repeat never makes a second transfer
        (Paystack refuses a repeated reference, Stripe replays its ``Idempotency-Key``).
        With ``look_up_first`` (an earlier attempt's outcome is unknown) the transfer is
        looked for by reference first. Raises ``TransientProviderError`` when the outcome
        is unknown, ``PermanentProviderError`` when the provider refused."""
        ...

    def transfer_status(self, *, reference: str, transfer_id: str) -> TransferResult | None:
        """How the transfer made under ``reference`` stands; None when the provider has
        none. Raises ``TransientProviderError`` when it cannot say."""
        ...


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
