"""Vendor-money fixtures: the provider sandbox (as for payments), payouts from the first
minor unit (the minimum is tested on its own), and a fixed hold."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.payments.tests.conftest import payment_sandbox

__all__ = ["payment_sandbox"]


@pytest.fixture(autouse=True)
def _money_settings(settings: Any) -> None:
    settings.PAYOUT_MINIMUMS = {"*": Decimal("0.01")}
    settings.PAYOUT_HOLD_DAYS = 7
    settings.MARKETPLACE_COMMISSION_RATE = Decimal("10.00")
