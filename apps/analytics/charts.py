"""The geometry of a bar chart of a sales series, for server-rendered inline SVG (no
scripts, nothing loaded from elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

WIDTH = 760
HEIGHT = 240
LEFT = 84  # room for the value labels
RIGHT = 12
TOP = 12
BOTTOM = 28  # room for the period labels
GAP = 0.2  # of each slot, between bars
TICKS = 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    period: str
    value: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: float
    baseline: float
    bars: list[Bar]
    ticks: list[Tick]
    first_period: str
    last_period: str


def _label(amount: Decimal) -> str:
    return f"{amount:,.0f}"


def bar_chart(series: list[dict[str, Any]], *, field: str = "net_revenue") -> Chart:
    """One bar per period of ``series`` (zero-height where nothing sold), scaled to the
    largest value; ``TICKS`` evenly spaced value lines."""
    values = [Decimal(point[field]) for point in series]
    top = max(values, default=Decimal(0))
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = float(TOP + plot_height)
    slot = plot_width / max(len(values), 1)
    bars = []
    for index, (point, value) in enumerate(zip(series, values, strict=True)):
        height = float(value / top) * plot_height if top > 0 else 0.0
        bars.append(
            Bar(
                x=round(LEFT + index * slot + slot * GAP / 2, 2),
                y=round(baseline - height, 2),
                width=round(slot * (1 - GAP), 2),
                height=round(height, 2),
                period=point["period"],
                value=point[field],
            )
        )
    ticks = [
        Tick(
            y=round(baseline - plot_height * step / TICKS, 2),
            label=_label(top * step / TICKS),
        )
        for step in range(TICKS + 1)
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=float(WIDTH - RIGHT),
        baseline=baseline,
        bars=bars,
        ticks=ticks if top > 0 else ticks[:1],
        first_period=series[0]["period"] if series else "",
        last_period=series[-1]["period"] if series else "",
    )
