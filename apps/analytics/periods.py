"""Report ranges: local dates of the marketplace's time zone (``settings.TIME_ZONE``),
the moments they begin and end, and the periods (days, weeks from Monday, months) they
split into."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.utils import timezone

from apps.analytics.models import GroupBy
from apps.common.errors import FieldError, ValidationFailed

# Dates outside these are typing mistakes, not sales history.
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2099, 12, 31)
# Three years, a leap day included.
MAX_RANGE_DAYS = 3 * 365 + 1


def marketplace_zone_name() -> str:
    """The zone report dates are days of: the configured ``TIME_ZONE``."""
    return str(timezone.get_default_timezone_name())


@dataclass(frozen=True)
class ReportScope:
    """What a report covers: ``start``..``end`` (inclusive local dates in ``zone``), one
    store or every store (``store_id`` None), grouped by ``group_by``."""

    start: date
    end: date
    store_id: int | None = None
    group_by: str = GroupBy.DAY
    zone_name: str = "UTC"

    @property
    def zone(self) -> tzinfo:
        return ZoneInfo(self.zone_name)

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """The first moment of ``start`` and the first moment after ``end``, local."""
        return local_midnight(self.start, self.zone), local_midnight(
            self.end + timedelta(days=1), self.zone
        )

    def periods(self) -> list[date]:
        """The first day of every period the range touches, in order (the first and last
        may be partial: only the range's own days count)."""
        return period_starts(self.start, self.end, self.group_by)


def local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def range_errors(*, start_date: date, end_date: date) -> list[FieldError]:
    """What is wrong with a report range, field by field (nothing: an empty list)."""
    errors = []
    for field, value in (("start_date", start_date), ("end_date", end_date)):
        if not MIN_DATE <= value <= MAX_DATE:
            errors.append(
                FieldError(field, f"Must be between {MIN_DATE} and {MAX_DATE}.", "out_of_range")
            )
    if errors:
        return errors
    if start_date > end_date:
        return [FieldError("end_date", "Must not be before start_date.", "invalid_range")]
    if (end_date - start_date).days + 1 > MAX_RANGE_DAYS:
        return [
            FieldError(
                "end_date",
                f"A report covers at most three years ({MAX_RANGE_DAYS} days).",
                "range_too_long",
            )
        ]
    return []


def range_check(*, start_date: date, end_date: date) -> None:
    """Raise ``ValidationFailed`` naming the field when the range cannot be reported on."""
    errors = range_errors(start_date=start_date, end_date=end_date)
    if errors:
        raise ValidationFailed(errors[0].message, field_errors=errors)


def group_by_check(group_by: str) -> None:
    if group_by not in GroupBy.values:
        raise ValidationFailed.for_field(
            "group_by", f"One of: {', '.join(GroupBy.values)}.", "invalid_choice"
        )


def period_start(day: date, group_by: str) -> date:
    """The first day of the period holding ``day``: itself, its Monday, its month's 1st."""
    if group_by == GroupBy.WEEK:
        return day - timedelta(days=day.weekday())
    if group_by == GroupBy.MONTH:
        return day.replace(day=1)
    return day


def next_period(start: date, group_by: str) -> date:
    if group_by == GroupBy.WEEK:
        return start + timedelta(days=7)
    if group_by == GroupBy.MONTH:
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=1)


def period_starts(start: date, end: date, group_by: str) -> list[date]:
    first, last = period_start(start, group_by), period_start(end, group_by)
    starts = []
    while first <= last:
        starts.append(first)
        first = next_period(first, group_by)
    return starts


def period_end(start: date, group_by: str) -> date:
    """The last day of the period beginning ``start``."""
    return next_period(start, group_by) - timedelta(days=1)
