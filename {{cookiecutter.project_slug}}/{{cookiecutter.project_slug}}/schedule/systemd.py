"""The schedule written as systemd timers, one per job, each starting runjob for its job.

Machinery the template keeps up to date; your jobs go in schedule/jobs.py.
"""

from .timetable import DAY_NAMES, EPOCH, cronsim_of

TIMER = """\
# The {job} job of {jobs_module} ({cron}, in {time_zone}), written by
# manage.py systemd_timers: write the timers again after changing the schedule.
[Unit]
Description={job}, a scheduled job of {prefix}

[Timer]
OnCalendar={calendar}
Unit={prefix}-job@{job}.service
# A time missed while the machine was off runs once, at boot.
Persistent=true

[Install]
WantedBy=timers.target
"""


def calendar_field(*, written, values):
    """One field of OnCalendar: * as written, else every value the timetable names."""
    return "*" if written == "*" else ",".join(f"{value:02d}" for value in sorted(values))


def on_calendar(*, timetable, time_zone):
    """The timetable in systemd's calendar syntax: "Mon,Fri *-*-* 03:17:00 UTC"."""
    fields = timetable.fields
    named = cronsim_of(timetable.expression, EPOCH)  # the values each field names
    weekdays = ""
    if fields["day_of_week"] != "*":
        names = (DAY_NAMES[day].capitalize() for day in sorted(timetable.weekdays))
        weekdays = f"{','.join(names)} "
    month = calendar_field(written=fields["month"], values=named.months)
    day = calendar_field(written=fields["day"], values=named.days)
    hour = calendar_field(written=fields["hour"], values=named.hours)
    minute = calendar_field(written=fields["minute"], values=named.minutes)
    second = calendar_field(written=fields["second"], values=named.seconds)
    return f"{weekdays}*-{month}-{day} {hour}:{minute}:{second} {time_zone}"


def render_timers(*, schedule, time_zone):
    """Each job's timer: {file name: content}."""
    prefix = __package__.split(".")[0]
    jobs_module = f"{__package__.replace('.', '/')}/jobs.py"
    return {
        f"{prefix}-{job.name}.timer": TIMER.format(
            job=job.name,
            jobs_module=jobs_module,
            cron=job.cron,
            time_zone=time_zone,
            prefix=prefix,
            calendar=on_calendar(timetable=job.timetable, time_zone=time_zone),
        )
        for job in schedule
    }
