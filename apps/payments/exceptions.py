"""Payment errors the API layers turn into problem documents."""

from __future__ import annotations

from typing import Any

from apps.common.errors import ApplicationError, Conflict


class ProviderUnavailable(ApplicationError):
    """The provider did not answer well (timeout, 5xx); trying again later may work."""

    status = 503
    default_code = "provider_unavailable"
    title = "Payment provider unavailable"


class ProviderRefused(ApplicationError):
    """The provider refused the request (declined, invalid)."""

    status = 502
    default_code = "provider_refused"
    title = "Payment provider refused the request"


class InvalidWebhookSignature(ApplicationError):
    status = 400
    default_code = "invalid_signature"
    title = "Invalid webhook signature"


class RefundInProgress(Conflict):
    """A call about this refund is out, or just had no definite answer: asking again now
    could race it. ``retry_after`` (seconds) becomes the ``Retry-After`` header."""

    default_code = "refund_in_progress"

    def __init__(self, message: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
