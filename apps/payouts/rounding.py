"""Splitting money to the minor unit so that the parts always add up to the whole.

Two rules, both deterministic (the same input always gives the same split):

* ``commission_split``: an order's commission is the exact sum of ``total * rate / 100``
  over its lines, rounded half up once; each line gets its exact share rounded down and
  the minor units left over go one each to the lines with the largest fractions dropped
  (ties: the earlier line).
* ``apportion``: an amount shared in proportion to weights (a refund over the stores of
  an order): each share rounded down, the units left over to the largest fractions
  (ties: the earlier part). No share exceeds its weight when the amount does not exceed
  the weights' sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from apps.payments.money import from_minor

HUNDRED = Decimal(100)
ZERO = Decimal(0)


def minor_unit(currency: str) -> Decimal:
    """``Decimal("0.01")`` for NGN, ``Decimal("1")`` for JPY."""
    return from_minor(1, currency)


def half_up(value: Decimal, unit: Decimal) -> Decimal:
    return value.quantize(unit, rounding=ROUND_HALF_UP)


def _largest_remainders(exact: list[Decimal], whole: Decimal, unit: Decimal) -> list[Decimal]:
    shares = [value.quantize(unit, rounding=ROUND_FLOOR) for value in exact]
    left = int((whole - sum(shares, ZERO)) / unit)
    by_fraction = sorted(range(len(exact)), key=lambda i: (shares[i] - exact[i], i))
    for index in by_fraction[:left]:
        shares[index] += unit
    return shares


def commission_split(lines: Sequence[tuple[Decimal, Decimal]], currency: str) -> list[Decimal]:
    """The commission of each ``(line_total, rate %)`` line; they add up to the order's
    commission, rounded once, half up, to the currency's minor unit."""
    unit = minor_unit(currency)
    exact = [total * rate / HUNDRED for total, rate in lines]
    return _largest_remainders(exact, half_up(sum(exact, ZERO), unit), unit)


def apportion(amount: Decimal, weights: Sequence[Decimal], unit: Decimal) -> list[Decimal]:
    """``amount`` (a whole number of ``unit``) shared in proportion to ``weights``."""
    total = sum(weights, ZERO)
    if total <= 0:
        return [ZERO for _ in weights]
    exact = [amount * weight / total for weight in weights]
    return _largest_remainders(exact, amount, unit)
