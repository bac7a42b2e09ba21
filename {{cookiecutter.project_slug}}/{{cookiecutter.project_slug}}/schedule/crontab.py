"""The schedule written as a crontab, for cron to run each job through runjob.

Machinery the template keeps up to date; your jobs go in schedule/jobs.py.
"""

HEADER = """\
# The schedule of {jobs_module}, as a crontab: the tests fail when the two
# differ. After changing the schedule: uv run manage.py crontab > crontab
#
# Install it on the server, from the project's directory (this replaces the
# user's crontab): (echo "APP=$PWD"; cat crontab) | crontab -
#
# Times are in {time_zone}: CRON_TZ says so to the cron daemons that read it (cronie);
# others use the machine's own time zone.
CRON_TZ={time_zone}
# Only warnings and failures print, and cron mails whatever a job prints.
LOG_LEVEL=WARNING
"""

# What each line runs: runjob in the project's directory, which cron knows as APP.
COMMAND = 'cd "${APP:?}" && .venv/bin/python manage.py runjob'


def cron_weekdays(*, timetable):
    """Day names as cron's numbers, which count Sunday as 0: mon-fri is 1,2,3,4,5."""
    if timetable.weekdays is None:
        return "*"
    return ",".join(str(day) for day in timetable.weekdays)


def render_crontab(*, schedule, time_zone):
    """The crontab for schedule, one line per job; cron cannot fire within a minute."""
    jobs_module = f"{__package__.replace('.', '/')}/jobs.py"
    lines = [HEADER.format(jobs_module=jobs_module, time_zone=time_zone)]
    for job in schedule:
        fields = job.timetable.fields
        if fields["second"] != "0":
            raise ValueError(f"{job.name}: cron fires at whole minutes, not at second {job.second}")
        when = [fields[name] for name in ("minute", "hour", "day", "month")]
        when.append(cron_weekdays(timetable=job.timetable))
        lines.append(f"{' '.join(when)} {COMMAND} {job.name}\n")
    return "".join(lines)
