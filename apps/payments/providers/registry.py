"""The configured adapter for a provider name.

``settings.PAYMENT_PROVIDERS[name]`` holds the adapter's settings (``BASE_URL``,
``SECRET_KEY``; Stripe also ``WEBHOOK_SECRET``; Square ``ACCESS_TOKEN``,
``WEBHOOK_SIGNATURE_KEY``, ``WEBHOOK_URL``, ``LOCATION_ID``) and
``settings.PAYMENT_HTTP_TIMEOUT`` the per-request timeout in seconds. Adapters are kept
per configuration, so their HTTP connection pools are reused across calls and threads.
"""

from __future__ import annotations

import functools
import ssl
import threading
from collections.abc import Callable, Mapping

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.payments.providers.base import PaymentProvider, TransferProvider, TransfersUnsupported
from apps.payments.providers.paystack import PaystackProvider
from apps.payments.providers.square import SquareProvider
from apps.payments.providers.stripe import StripeProvider

PROVIDER_NAMES = ("paystack", "stripe", "square")
DEFAULT_TIMEOUT_SECONDS = 10.0


class UnknownProvider(ValueError):
    """No adapter of that name, or the provider is not enabled in the settings."""


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes tens of milliseconds; every adapter shares one context.
    return httpx.create_ssl_context()


def _paystack(config: Mapping[str, str], timeout: float) -> PaymentProvider:
    return PaystackProvider(
        base_url=config["BASE_URL"],
        secret_key=config["SECRET_KEY"],
        timeout=timeout,
        verify=_ssl_context(),
    )


def _stripe(config: Mapping[str, str], timeout: float) -> PaymentProvider:
    return StripeProvider(
        base_url=config["BASE_URL"],
        secret_key=config["SECRET_KEY"],
        webhook_secret=config["WEBHOOK_SECRET"],
        timeout=timeout,
        verify=_ssl_context(),
    )


def _square(config: Mapping[str, str], timeout: float) -> PaymentProvider:
    return SquareProvider(
        base_url=config["BASE_URL"],
        access_token=config["ACCESS_TOKEN"],
        webhook_signature_key=config["WEBHOOK_SIGNATURE_KEY"],
        webhook_url=config["WEBHOOK_URL"],
        location_id=config["LOCATION_ID"],
        timeout=timeout,
        verify=_ssl_context(),
    )


_FACTORIES: dict[str, Callable[[Mapping[str, str], float], PaymentProvider]] = {
    "paystack": _paystack,
    "stripe": _stripe,
    "square": _square,
}

_CacheKey = tuple[str, tuple[tuple[str, str], ...], float]
_cache: dict[_CacheKey, PaymentProvider] = {}
_cache_lock = threading.Lock()


def get_provider(name: str) -> PaymentProvider:
    """The adapter for ``name`` built from the current settings. Raises
    ``UnknownProvider`` (a ``ValueError``) for a name that is not an adapter or not
    enabled, ``ImproperlyConfigured`` when its settings are incomplete."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise UnknownProvider(f"unknown payment provider {name!r}")
    configured = getattr(settings, "PAYMENT_PROVIDERS", None) or {}
    config = configured.get(name)
    if config is None:
        raise UnknownProvider(f"payment provider {name!r} is not enabled")
    timeout = float(getattr(settings, "PAYMENT_HTTP_TIMEOUT", DEFAULT_TIMEOUT_SECONDS))
    key: _CacheKey = (name, tuple(sorted((k, str(v)) for k, v in config.items())), timeout)
    with _cache_lock:
        provider = _cache.get(key)
        if provider is None:
            try:
                provider = factory(config, timeout)
            except (KeyError, ValueError) as exc:
                raise ImproperlyConfigured(
                    f"PAYMENT_PROVIDERS[{name!r}] is incomplete: {exc}"
                ) from exc
            _cache[key] = provider
    return provider


#: Providers whose public API pays third parties (payouts); Square has none.
TRANSFER_PROVIDER_NAMES = ("paystack", "stripe")


def get_transfer_provider(name: str) -> TransferProvider:
    """The adapter for ``name`` as a payout channel. Raises ``TransfersUnsupported`` (a
    ``ValueError``) for Square, whose public API has no payouts to third parties, and
    what ``get_provider`` raises otherwise."""
    if name not in TRANSFER_PROVIDER_NAMES:
        raise TransfersUnsupported(f"{name!r} cannot pay vendors through its API")
    provider = get_provider(name)
    if not isinstance(provider, PaystackProvider | StripeProvider):  # pragma: no cover
        raise TransfersUnsupported(f"{name!r} adapter has no transfers")
    return provider


def clear_cache() -> None:
    """Close and forget every adapter built so far (tests that change the settings)."""
    with _cache_lock:
        providers = list(_cache.values())
        _cache.clear()
    for provider in providers:
        close = getattr(provider, "close", None)
        if callable(close):
            close()
