"""Payment test fixtures: the provider sandbox, running in-process on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apps.payments.providers import registry
from tools.sandbox import SandboxSecrets, SandboxServer

# The local defaults, used when the settings do not (yet) name a provider.
_LOCAL: dict[str, dict[str, str]] = {
    "paystack": {"SECRET_KEY": SandboxSecrets.paystack_secret_key},
    "stripe": {
        "SECRET_KEY": SandboxSecrets.stripe_secret_key,
        "WEBHOOK_SECRET": SandboxSecrets.stripe_webhook_secret,
    },
    "square": {
        "ACCESS_TOKEN": SandboxSecrets.square_access_token,
        "WEBHOOK_SIGNATURE_KEY": SandboxSecrets.square_webhook_signature_key,
        "WEBHOOK_URL": "http://127.0.0.1:8000/api/v2/webhooks/square/",
        "LOCATION_ID": "sandbox-location",
    },
}


@pytest.fixture
def payment_sandbox(settings: Any) -> Iterator[SandboxServer]:
    """A ``SandboxServer`` that records webhooks without delivering them, with
    ``settings.PAYMENT_PROVIDERS`` pointed at it (secrets kept) and a 1 s HTTP timeout."""
    configured = getattr(settings, "PAYMENT_PROVIDERS", None) or {}
    providers = {
        name: {**defaults, **configured.get(name, {})} for name, defaults in _LOCAL.items()
    }
    secrets = SandboxSecrets(
        paystack_secret_key=providers["paystack"]["SECRET_KEY"],
        stripe_secret_key=providers["stripe"]["SECRET_KEY"],
        stripe_webhook_secret=providers["stripe"]["WEBHOOK_SECRET"],
        square_access_token=providers["square"]["ACCESS_TOKEN"],
        square_webhook_signature_key=providers["square"]["WEBHOOK_SIGNATURE_KEY"],
        square_webhook_url=providers["square"]["WEBHOOK_URL"],
    )
    server = SandboxServer(port=0, deliver_to=None, secrets=secrets).start()
    for name, config in providers.items():
        config["BASE_URL"] = f"{server.url}/{name}"
    settings.PAYMENT_PROVIDERS = providers
    settings.PAYMENT_HTTP_TIMEOUT = 1.0
    try:
        yield server
    finally:
        server.stop()
        # Adapters built for this server's address are of no use to the next test.
        registry.clear_cache()
