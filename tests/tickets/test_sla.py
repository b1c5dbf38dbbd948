"""Business time (tickets.sla): table-driven, in the partner's zone (Europe/Amsterdam), across
nights, weekends, holidays, daylight saving changes, split days and whole weeks. No database."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets.sla import BusinessCalendar, add_business_seconds, business_seconds_between

AMS = ZoneInfo("Europe/Amsterdam")
H = 3600

WEEKDAYS_0830_1730 = BusinessCalendar.build(
    time_zone=AMS,
    hours=[(day, time(8, 30), time(17, 30)) for day in range(5)],
    holidays=[date(2026, 12, 25), date(2026, 12, 28)],
)
SPLIT_DAY = BusinessCalendar.build(
    time_zone=AMS,
    hours=[(day, time(9), time(12)) for day in range(5)]
    + [(day, time(13), time(17)) for day in range(5)],
)
AROUND_THE_CLOCK = BusinessCalendar.build(
    time_zone=AMS, hours=[(day, time(0), time(23, 59)) for day in range(7)]
)
NIGHT_SHIFT = BusinessCalendar.build(
    time_zone=AMS, hours=[(day, time(0), time(6)) for day in range(7)]
)
NO_HOURS = BusinessCalendar.build(time_zone=AMS, hours=[])
CALENDARS = {
    "weekdays": WEEKDAYS_0830_1730,
    "split": SPLIT_DAY,
    "24/7": AROUND_THE_CLOCK,
    "night": NIGHT_SHIFT,
    "none": NO_HOURS,
}


def at(text: str) -> datetime:
    """'2026-03-02 09:00' in Amsterdam."""
    return datetime.fromisoformat(text).replace(tzinfo=AMS)


# (case, calendar, start, end, business hours between)
BETWEEN = [
    ("same window", "weekdays", "2026-03-02 09:00", "2026-03-02 10:00", 1),
    ("before opening counts nothing", "weekdays", "2026-03-02 06:00", "2026-03-02 08:30", 0),
    ("overnight", "weekdays", "2026-03-02 17:00", "2026-03-03 09:00", 1),
    ("weekend", "weekdays", "2026-03-06 17:00", "2026-03-09 09:00", 1),
    ("inside the weekend", "weekdays", "2026-03-07 10:00", "2026-03-08 18:00", 0),
    ("holiday Friday and Monday", "weekdays", "2026-12-24 17:00", "2026-12-29 09:00", 1),
    ("spring forward weekend", "weekdays", "2026-03-27 17:00", "2026-03-30 09:00", 1),
    ("autumn back weekend", "weekdays", "2026-10-23 17:00", "2026-10-26 09:00", 1),
    ("three whole weeks", "weekdays", "2026-03-02 00:00", "2026-03-23 00:00", 135),
    ("weeks across a DST change", "weekdays", "2026-03-16 00:00", "2026-04-06 00:00", 135),
    ("lunch break is not counted", "split", "2026-03-02 11:00", "2026-03-02 14:00", 2),
    ("split day whole", "split", "2026-03-02 00:00", "2026-03-03 00:00", 7),
    ("24/7 spring-forward day has 23 hours", "24/7", "2026-03-29 00:00", "2026-03-30 00:00", 23),
    ("24/7 autumn-back day has 25 hours", "24/7", "2026-10-25 00:00", "2026-10-26 00:00", 25),
    ("night window over spring forward", "night", "2026-03-29 00:00", "2026-03-29 12:00", 5),
    ("night window over autumn back", "night", "2026-10-25 00:00", "2026-10-25 12:00", 7),
    ("no hours published: around the clock", "none", "2026-03-06 17:00", "2026-03-09 09:00", 64),
    ("an empty interval", "weekdays", "2026-03-02 10:00", "2026-03-02 10:00", 0),
    ("reversed is negative", "weekdays", "2026-03-03 09:00", "2026-03-02 17:00", -1),
]


@pytest.mark.parametrize(("case", "calendar", "start", "end", "hours"), BETWEEN)
def test_business_seconds_between(case, calendar, start, end, hours):
    assert business_seconds_between(at(start), at(end), CALENDARS[calendar]) == hours * H


# (case, calendar, start, business seconds to add, expected local time, expected UTC offset)
ADD = [
    ("inside a window", "weekdays", "2026-03-02 09:00", 1 * H, "2026-03-02 10:00", 1),
    ("before opening", "weekdays", "2026-03-02 07:00", H // 2, "2026-03-02 09:00", 1),
    ("overnight", "weekdays", "2026-03-02 17:00", 1 * H, "2026-03-03 09:00", 1),
    ("over the weekend", "weekdays", "2026-03-06 17:00", 1 * H, "2026-03-09 09:00", 1),
    ("from a Saturday", "weekdays", "2026-03-07 12:00", 1 * H, "2026-03-09 09:30", 1),
    ("over holidays", "weekdays", "2026-12-24 17:00", 1 * H, "2026-12-29 09:00", 1),
    ("ends exactly at closing", "weekdays", "2026-03-02 16:30", 1 * H, "2026-03-02 17:30", 1),
    ("spring forward keeps 09:00 local", "weekdays", "2026-03-27 17:00", H, "2026-03-30 09:00", 2),
    ("autumn back keeps 09:00 local", "weekdays", "2026-10-23 17:00", H, "2026-10-26 09:00", 1),
    ("three weeks", "weekdays", "2026-03-02 08:30", 135 * H, "2026-03-20 17:30", 1),
    ("over the lunch break", "split", "2026-03-02 11:30", 1 * H, "2026-03-02 13:30", 1),
    ("24/7 over spring forward", "24/7", "2026-03-28 12:00", 24 * H, "2026-03-29 13:00", 2),
    ("24/7 over autumn back", "24/7", "2026-10-24 12:00", 24 * H, "2026-10-25 11:00", 1),
    ("zero is the start", "weekdays", "2026-03-07 12:00", 0, "2026-03-07 12:00", 1),
    ("negative walks back", "weekdays", "2026-03-09 09:00", -1 * H, "2026-03-06 17:00", 1),
    ("negative over lunch", "split", "2026-03-02 13:30", -1 * H, "2026-03-02 11:30", 1),
]


@pytest.mark.parametrize(("case", "calendar", "start", "seconds", "expected", "offset"), ADD)
def test_add_business_seconds(case, calendar, start, seconds, expected, offset):
    result = add_business_seconds(at(start), seconds, CALENDARS[calendar])

    assert result == at(expected)
    assert result.astimezone(AMS).utcoffset() == timedelta(hours=offset)


@pytest.mark.parametrize("calendar", list(CALENDARS))
@pytest.mark.parametrize("start", ["2026-03-27 16:00", "2026-10-24 23:30", "2026-12-24 12:15"])
@pytest.mark.parametrize("seconds", [1, 1800, 9 * H, 50 * H, 200 * H])
def test_adding_then_measuring_gives_the_same_seconds(calendar, start, seconds):
    cal = CALENDARS[calendar]

    due = add_business_seconds(at(start), seconds, cal)

    back = add_business_seconds(due, -seconds, cal)

    assert business_seconds_between(at(start), due, cal) == seconds
    # Walking back lands on the start, or on the opening that follows it.
    assert back >= at(start)
    assert business_seconds_between(at(start), back, cal) == 0


def test_overlapping_windows_of_a_day_are_counted_once():
    calendar = BusinessCalendar.build(
        time_zone=AMS, hours=[(0, time(8), time(12)), (0, time(11), time(13))]
    )

    assert business_seconds_between(at("2026-03-02 00:00"), at("2026-03-03 00:00"), calendar) == (
        5 * H
    )


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        business_seconds_between(datetime(2026, 3, 2, 9), at("2026-03-02 10:00"), NO_HOURS)


def test_a_window_that_closes_before_it_opens_is_refused():
    with pytest.raises(ValueError, match="closes after it opens"):
        BusinessCalendar.build(time_zone=AMS, hours=[(0, time(17), time(9))])


def test_open_at_reports_the_windows():
    assert WEEKDAYS_0830_1730.is_open(at("2026-03-02 08:30"))
    assert not WEEKDAYS_0830_1730.is_open(at("2026-03-02 17:30"))
    assert not WEEKDAYS_0830_1730.is_open(at("2026-12-25 10:00"))
