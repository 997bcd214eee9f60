"""Payment errors the API layers turn into problem documents."""

from __future__ import annotations

from apps.common.errors import ApplicationError


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
