"""Jobs and their cron-style timetables, read the same way by cron and by the clock."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

# Days of the week are written as names, which every scheduler reads alike;
# numbers are not: cron counts Sunday as 0, Python counts Monday as 0.
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# One item of a numeric field (*, 5, 1-5, */15 or 0-30/10), and of the day of week.
NUMBER_ITEM = re.compile(r"(?:\*|(?P<first>\d+)(?:-(?P<last>\d+))?)(?:/(?P<step>\d+))?")
DAY_ITEM = re.compile(r"(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?")

JOB_NAME = re.compile(r"[a-z][a-z0-9_]*")


def numbers(*, text, name, lowest, highest):
    """The values a numeric field names: "*/15" in minutes is {0, 15, 30, 45}."""
    values = set()
    for item in text.split(","):
        match = NUMBER_ITEM.fullmatch(item)
        if not match or (match["step"] and match["first"] and not match["last"]):
            raise ValueError(f"{name} {text!r}: write *, 5, 1-5, */15 or 0-30/10")
        first = int(match["first"] or lowest)
        last = int(match["last"] or (match["first"] if match["first"] else highest))
        step = int(match["step"] or 1)
        if not lowest <= first <= last <= highest or step < 1:
            raise ValueError(f"{name} {text!r}: values run from {lowest} to {highest}")
        values.update(range(first, last + 1, step))
    return frozenset(values)


def weekdays(*, text):
    """The days a day-of-week field names, as Python numbers them (Monday is 0)."""
    if text == "*":
        return frozenset(range(7))
    days = set()
    for item in text.split(","):
        match = DAY_ITEM.fullmatch(item.lower())
        names = (match["first"], match["last"] or match["first"]) if match else ()
        if not names or not set(names) <= set(DAY_NAMES):
            raise ValueError(
                f"day of week {text!r}: write day names such as sun, mon-fri or sat,sun "
                "(schedulers disagree on which day a number means)"
            )
        first, last = (DAY_NAMES.index(name) for name in names)
        if first > last:
            raise ValueError(f"day of week {text!r}: a range runs from mon towards sun")
        days.update(range(first, last + 1))
    return frozenset(days)


@dataclass(frozen=True)
class Timetable:
    """When a job runs: the values of each cron field, and the fields as written."""

    fields: dict[str, str]
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]

    def runs_on(self, day: date) -> bool:
        return day.month in self.months and day.day in self.days and day.weekday() in self.weekdays

    def latest(self, now: datetime) -> datetime:
        """The latest time at or before now that the timetable names."""
        day, limit = now.date(), now.time().replace(microsecond=0)
        for _ in range(8 * 366):  # 29 February comes back within eight years
            if self.runs_on(day) and (found := self.latest_time(limit=limit)):
                return datetime.combine(day, found, tzinfo=now.tzinfo)
            day, limit = day - timedelta(days=1), time.max
        raise ValueError(f"{self.fields} names no day at all")

    def latest_time(self, *, limit: time) -> time | None:
        for hour in sorted((h for h in self.hours if h <= limit.hour), reverse=True):
            for minute in sorted(self.minutes, reverse=True):
                for second in sorted(self.seconds, reverse=True):
                    if (moment := time(hour, minute, second)) <= limit:
                        return moment
        return None


def parse(*, cron: str, second: str = "0") -> Timetable:
    """Read "minute hour day month day-of-week", as cron does, with day names."""
    parts = cron.split()
    if len(parts) != 5:
        raise ValueError(f"timetable {cron!r}: write five fields, minute hour day month weekday")
    minute, hour, day, month, day_of_week = parts
    if day != "*" and day_of_week != "*":
        # Given both, cron runs on either day and most other schedulers only on
        # days that are both: one of them, and nobody has to remember which.
        raise ValueError(f"timetable {cron!r}: restrict the day of the month or of the week")
    return Timetable(
        fields={
            "second": second,
            "minute": minute,
            "hour": hour,
            "day": day,
            "month": month,
            "day_of_week": day_of_week,
        },
        seconds=numbers(text=second, name="second", lowest=0, highest=59),
        minutes=numbers(text=minute, name="minute", lowest=0, highest=59),
        hours=numbers(text=hour, name="hour", lowest=0, highest=23),
        days=numbers(text=day, name="day", lowest=1, highest=31),
        months=numbers(text=month, name="month", lowest=1, highest=12),
        weekdays=weekdays(text=day_of_week),
    )


@dataclass(frozen=True, kw_only=True)
class Job:
    """One job of the schedule: its name, when it runs, and what it runs.

    cron is "minute hour day month day-of-week" in settings.TIME_ZONE, with days of
    the week as names (sun, mon-fri). second is the second of the minute: 0 unless
    a job must fire within minutes, which cron cannot do.
    """

    name: str
    cron: str
    run: Callable[[], object]
    second: str = "0"
    timetable: Timetable = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not JOB_NAME.fullmatch(self.name):
            raise ValueError(f"job name {self.name!r}: use lowercase letters, digits and _")
        object.__setattr__(self, "timetable", parse(cron=self.cron, second=self.second))
