"""Jobs and their cron timetables, read by cronsim alike for cron and for the clock.

Machinery the template keeps up to date; your jobs go in schedule/jobs.py.

cronsim follows Debian cron, daylight-saving time included: a job at a fixed time
(neither minute nor hour starting with *) runs once on the night clocks go back, and
right after the change if its time was skipped; any other job fires by the clock on
the wall, in both passes of a repeated hour and never in a skipped one.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cronsim import CronSim, CronSimError

# Days of the week are written as names, which nobody misreads; numbers are not:
# cron counts Sunday as 0 (and as 7), Python counts Monday as 0.
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
DAY_ITEM = re.compile(r"(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?")

JOB_NAME = re.compile(r"[a-z][a-z0-9_]*")

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def cron_weekdays(text):
    """The days a day-of-week field of names means, as cron numbers them (Sunday is 0)."""
    if text == "*":
        return None
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
            raise ValueError(f"day of week {text!r}: a range runs from sun towards sat")
        days.update(range(first, last + 1))
    return sorted(days)


def parses(expression):
    try:
        CronSim(expression, EPOCH)
    except CronSimError:
        return False
    return True


def cronsim_of(expression, moment, *, reverse=False):
    try:
        return CronSim(expression, moment, reverse=reverse)
    except CronSimError as error:
        raise ValueError(f"timetable {expression!r}: {error}") from None


@dataclass(frozen=True)
class Timetable:
    """When a job runs: a line of cron, and for the clock alone a second of the minute."""

    cron: str
    second: str = "0"

    @property
    def expression(self):
        """What cronsim reads: five fields, or six with the second first."""
        return self.cron if self.second == "0" else f"{self.second} {self.cron}"

    @property
    def fields(self):
        minute, hour, day, month, day_of_week = self.cron.split()
        return {
            "second": self.second,
            "minute": minute,
            "hour": hour,
            "day": day,
            "month": month,
            "day_of_week": day_of_week,
        }

    @property
    def weekdays(self):
        """The days it runs on, Sunday as 0; None for every day."""
        return cron_weekdays(self.fields["day_of_week"])

    def latest(self, now: datetime) -> datetime:
        """The latest time at or before now that the timetable names."""
        # cronsim counts a moment with a fraction of a second as its own first candidate.
        return next(cronsim_of(self.expression, now.replace(microsecond=999_999), reverse=True))

    def next(self, after: datetime) -> datetime | None:
        """The first time after the given one that the timetable names; None if none is left."""
        return next(cronsim_of(self.expression, after), None)


def parse(*, cron: str, second: str = "0") -> Timetable:
    """Read "minute hour day month day-of-week", as cron does, with day names."""
    parts = cron.split()
    if len(parts) != 5:
        raise ValueError(f"timetable {cron!r}: write five fields, minute hour day month weekday")
    if parts[2] != "*" and parts[4] != "*":
        # Given both, cron runs on either day and most other schedulers only on
        # days that are both: one of them, and nobody has to remember which.
        raise ValueError(f"timetable {cron!r}: restrict the day of the month or of the week")
    cron_weekdays(parts[4])
    timetable = Timetable(cron=" ".join(parts), second=second)
    every_day = Timetable(cron=" ".join([*parts[:2], "*", *parts[3:]]), second=second)
    try:
        first = timetable.next(EPOCH)
    except ValueError:
        if not (parses(every_day.expression) and parses(f"0 0 {parts[2]} * *")):
            raise
        first = None  # each field is fine alone: the days are not in those months
    if first is None:
        raise ValueError(f"timetable {cron!r} never fires: no month it names has that day")
    return timetable


@dataclass(frozen=True, kw_only=True)
class Job:
    """One job of the schedule: its name, when it runs, and what it runs.

    cron is "minute hour day month day-of-week" in settings.TIME_ZONE, with days of
    the week as names (sun, mon-fri). second is the second of the minute: 0 unless
    a job must fire within minutes, which cron cannot do. in_place runs the job where
    runjob or the clock claimed it, never through the task queue: for the queue's own
    upkeep, which a stuck queue would hold. Without a queue every job runs in place.
    """

    name: str
    cron: str
    run: Callable[[], object]
    second: str = "0"
    in_place: bool = False
    timetable: Timetable = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not JOB_NAME.fullmatch(self.name):
            raise ValueError(f"job name {self.name!r}: use lowercase letters, digits and _")
        try:
            timetable = parse(cron=self.cron, second=self.second)
        except ValueError as error:
            raise ValueError(f"job {self.name!r}: {error}") from None
        object.__setattr__(self, "timetable", timetable)
