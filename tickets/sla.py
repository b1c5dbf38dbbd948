"""Business time: the seconds that count towards an SLA, those inside a partner's service hours.

Pure functions over a `BusinessCalendar` (weekday windows in the partner's time zone, holidays),
which a caller builds once per partner and reuses for every ticket: no database access here.

- Windows are wall-clock times in the partner's zone; each day's windows are turned into real
  instants (UTC) for that date, so a window keeps its local opening time across a daylight
  saving change, and a window that spans the change counts the real time that passed (a
  00:00-06:00 window lasts five hours on the spring-forward night, seven in the autumn).
- A window closing at 23:59 runs to midnight (a time field cannot say 24:00), so a partner that
  opens 00:00-23:59 every day is counted around the clock.
- A partner that publishes no service hours at all is counted around the clock too (holidays
  still skipped): its customers were never told of a shorter day.
- Overlapping windows of one day are merged, so no second is counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

END_OF_DAY = time(23, 59)
# No calendar leaves a span this long without an open window (holidays are dated, finite).
_MAX_DAYS = 3 * 366

Window = tuple[time, time | None]  # (opens, closes); closes None = midnight that ends the day


def _merge(windows: Iterable[Window]) -> tuple[Window, ...]:
    merged: list[list] = []
    for opens, closes in sorted(windows, key=lambda w: w[0]):
        if merged and (merged[-1][1] is None or opens <= merged[-1][1]):
            last = merged[-1]
            if last[1] is not None and (closes is None or closes > last[1]):
                last[1] = closes
            continue
        merged.append([opens, closes])
    return tuple((opens, closes) for opens, closes in merged)


@dataclass(frozen=True)
class BusinessCalendar:
    """Service hours per weekday (Monday = 0) in `tz`, and the dates the desk is closed."""

    tz: ZoneInfo
    windows: tuple[tuple[Window, ...], ...]
    holidays: frozenset[date] = frozenset()
    _day_cache: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        *,
        time_zone: str | ZoneInfo,
        hours: Iterable[tuple[int, time, time]],
        holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """`hours` as (weekday, opens, closes) rows, e.g. from accounts.ServiceHours."""
        tz = time_zone if isinstance(time_zone, ZoneInfo) else ZoneInfo(time_zone)
        per_day: list[list[Window]] = [[] for _ in range(7)]
        for weekday, opens, closes in hours:
            if closes <= opens:
                raise ValueError(f"a window closes after it opens: {opens}-{closes}")
            per_day[int(weekday)].append((opens, None if closes >= END_OF_DAY else closes))
        if not any(per_day):
            per_day = [[(time(0), None)] for _ in range(7)]
        return cls(
            tz=tz, windows=tuple(_merge(day) for day in per_day), holidays=frozenset(holidays)
        )

    @classmethod
    def around_the_clock(cls, time_zone: str | ZoneInfo = "UTC") -> BusinessCalendar:
        return cls.build(time_zone=time_zone, hours=())

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The real instants (UTC) the desk is open on the local date `day`."""
        cached = self._day_cache.get(day)
        if cached is not None:
            return cached
        result: tuple[tuple[datetime, datetime], ...] = ()
        if day not in self.holidays:
            spans = []
            for opens, closes in self.windows[day.weekday()]:
                start = datetime.combine(day, opens, tzinfo=self.tz).astimezone(UTC)
                if closes is None:
                    end_local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
                else:
                    end_local = datetime.combine(day, closes, tzinfo=self.tz)
                end = end_local.astimezone(UTC)
                if end > start:
                    spans.append((start, end))
            result = tuple(spans)
        if len(self._day_cache) > 4096:
            self._day_cache.clear()
        self._day_cache[day] = result
        return result

    def is_open(self, moment: datetime) -> bool:
        _require_aware(moment)
        return any(a <= moment < b for a, b in self.intervals(self.local_date(moment)))


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("business time needs timezone-aware datetimes")


def business_seconds_between(start: datetime, end: datetime, calendar: BusinessCalendar) -> int:
    """Whole seconds of service hours from `start` to `end`; negative when `end` comes first."""
    _require_aware(start, end)
    if end < start:
        return -business_seconds_between(end, start, calendar)
    total = timedelta()
    day, last = calendar.local_date(start), calendar.local_date(end)
    while day <= last:
        for opens, closes in calendar.intervals(day):
            low, high = max(opens, start), min(closes, end)
            if high > low:
                total += high - low
        day += timedelta(days=1)
    return int(total.total_seconds())


def add_business_seconds(start: datetime, seconds: float, calendar: BusinessCalendar) -> datetime:
    """The instant (UTC) at which `seconds` of service hours have passed since `start`; a
    negative `seconds` walks back. A sum that ends exactly at a window's close is that close,
    not the next opening."""
    _require_aware(start)
    start = start.astimezone(UTC)
    if seconds == 0:
        return start
    forward = seconds > 0
    remaining = timedelta(seconds=abs(seconds))
    day = calendar.local_date(start)
    step = timedelta(days=1 if forward else -1)
    for _ in range(_MAX_DAYS):
        spans = calendar.intervals(day)
        for opens, closes in spans if forward else reversed(spans):
            if forward:
                if closes <= start:
                    continue
                low = max(opens, start)
                if remaining <= closes - low:
                    return low + remaining
                remaining -= closes - low
            else:
                if opens >= start:
                    continue
                high = min(closes, start)
                if remaining <= high - opens:
                    return high - remaining
                remaining -= high - opens
        day += step
    raise ValueError("the calendar has no service hours in reach")
