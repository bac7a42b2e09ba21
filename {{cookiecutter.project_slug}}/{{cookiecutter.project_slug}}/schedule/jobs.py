"""The schedule: every job that runs at set times, declared once for cron and the clock.

A timetable reads like a line of cron, "minute hour day month day-of-week", in
settings.TIME_ZONE, with days of the week as names (sun, mon-fri). Whatever fires
a job, it runs at most once per scheduled time.
"""

from django.core.management import call_command

from .timetable import Job


def clear_expired_sessions():
    """Delete expired sessions: Django never deletes them by itself."""
    call_command("clearsessions")


SCHEDULE = [
    Job(name="clearsessions", cron="17 3 * * *", run=clear_expired_sessions),
]
