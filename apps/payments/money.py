"""Decimal amounts ↔ the integer minor units providers use."""

from __future__ import annotations

from decimal import Decimal

# ISO 4217 exponents that are not 2 (the default).
_EXPONENTS = {"JPY": 0, "KRW": 0, "XOF": 0, "XAF": 0, "KWD": 3, "BHD": 3}


def to_minor(amount: Decimal, currency: str) -> int:
    """``Decimal("1500.50")``, NGN → 150050 (kobo)."""
    exponent = _EXPONENTS.get(currency.upper(), 2)
    return int((amount * (10**exponent)).to_integral_exact())


def from_minor(amount: int, currency: str) -> Decimal:
    exponent = _EXPONENTS.get(currency.upper(), 2)
    return (Decimal(amount) / (10**exponent)).quantize(Decimal(1).scaleb(-exponent))
