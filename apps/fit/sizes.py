"""Size arithmetic: inches from centimetres, one size up or down, and the EU / UK / US
shoe size table."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from apps.catalog.models import APPAREL_SIZES, EU_SHOE_SIZES, UK_SHOE_SIZES, US_SHOE_SIZES
from apps.fit.models import CM_PER_INCH

#: Size scales in which "one size up" means the next entry.
SCALES: tuple[tuple[str, ...], ...] = (APPAREL_SIZES, EU_SHOE_SIZES, UK_SHOE_SIZES, US_SHOE_SIZES)
SHOE_SIZES = frozenset((*EU_SHOE_SIZES, *UK_SHOE_SIZES, *US_SHOE_SIZES))


def one_decimal(value: float | Decimal) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def inches(cm: float | Decimal) -> float:
    """Centimetres in inches, one decimal (1 in = 2.54 cm)."""
    return one_decimal(Decimal(str(cm)) / Decimal(str(CM_PER_INCH)))


def shift_size(size: str, step: int) -> str | None:
    """The size ``step`` places up (positive) or down in its own scale; None when the
    scale ends there or the size has no scale (``One size``)."""
    for scale in SCALES:
        if size in scale:
            index = scale.index(size) + step
            return scale[index] if 0 <= index < len(scale) else None
    return None


def size_rank(size: str) -> tuple[int, int]:
    """Sort key: the scale, then the place in it (unknown sizes last)."""
    for number, scale in enumerate(SCALES):
        if size in scale:
            return number, scale.index(size)
    return len(SCALES), 0


def _half(value: float) -> float:
    return round(value * 2) / 2


def _label(prefix: str, value: float) -> str:
    return f"{prefix} {value:g}"


def shoe_size_table() -> list[dict[str, object]]:
    """One row per catalogue EU size (34 … 48): the UK size and the US men's and women's
    sizes, and the foot length in cm they fit.

    Computed from the shoe's last length (EU: Paris points of 2/3 cm; UK: barleycorns of
    1/3 inch from 8 1/4 in = UK 0; US men's = UK + 1, US women's = UK + 2), rounded to
    half sizes; the foot is taken as 1.5 cm shorter than the last. Brands differ by up
    to half a size: the table is a guide, which the documents say."""
    rows = []
    for eu_label in EU_SHOE_SIZES:
        eu = int(eu_label.split()[1])
        last_cm = eu * 2 / 3
        uk = _half(last_cm / CM_PER_INCH * 3 - 25)
        rows.append(
            {
                "eu": eu_label,
                "uk": _label("UK", uk),
                "us_men": _label("US", uk + 1),
                "us_women": _label("US", uk + 2),
                "foot_length_cm": one_decimal(last_cm - 1.5),
                "foot_length_in": inches(one_decimal(last_cm - 1.5)),
            }
        )
    return rows
