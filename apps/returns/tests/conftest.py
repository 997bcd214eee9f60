"""Returns fixtures: the provider sandbox, for the refunds that land."""

from __future__ import annotations

from apps.payments.tests.conftest import payment_sandbox

__all__ = ["payment_sandbox"]
